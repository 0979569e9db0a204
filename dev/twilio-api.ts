/**
 * A local Twilio-shaped REST API on 127.0.0.1, for tests and the local stack: the Calls list
 * and fetch endpoints of API 2010-04-01 with Twilio's page envelope, RFC 2822 times, Basic
 * auth, and injectable faults (429s, 500s, a slow page); and Messages create and list, which
 * keeps what it was asked to send and answers Twilio's errors for numbers marked opted out
 * (21610), not mobile (21614) or invalid (21211); and Calls create, which places the call and
 * plays it out against the stack as Twilio would (its Url, the `<Dial>` leg, the Dial action and
 * the status callbacks, all signed), after scripted answers (`callOutcomes`). Not used in AWS.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signLikeTwilio } from './sign.js';

/** A call as this server stores it; `toResource` renders it as Twilio does. */
export interface LocalCall {
  sid: string;
  parentCallSid?: string | null;
  from: string;
  to: string;
  status: 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';
  direction: 'inbound' | 'outbound-api' | 'outbound-dial';
  startTime: Date;
  /**
   * When it ended (Twilio's `end_time`); default `startTime` + `durationSeconds`. An unanswered
   * leg rang for a while and lists a duration of 0, so its end is said here.
   */
  endTime?: Date;
  /** Seconds connected (Twilio's `duration`): 0 for a leg nobody (or nothing) answered. */
  durationSeconds?: number;
  /** Only with answering machine detection: human, machine_start, machine_end_beep, fax, unknown. */
  answeredBy?: string | null;
}

/** A message as this server keeps it (what it was asked to send). */
export interface LocalMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  dateCreated: Date;
}

/** A fault applies to the next `times` requests whose path (and query string, with `query`) match. */
export type Fault =
  | { kind: 'status'; status: 429 | 500 | 502 | 503; times: number; path?: RegExp; query?: RegExp }
  | { kind: 'delay'; ms: number; times: number; path?: RegExp; query?: RegExp }
  /** The next page(s) start with the previous page's last call again (seen from Twilio's list). */
  | { kind: 'repeat'; times: number; path?: RegExp; query?: RegExp };

/** A fault as `POST /__local/faults` takes it (regular expressions as strings); undefined when malformed. */
function parseFault(value: unknown): Fault | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Record<string, unknown>;
  const times = Number(f.times ?? 1);
  if (!Number.isInteger(times) || times < 1) return undefined;
  const match = {
    ...(typeof f.path === 'string' ? { path: new RegExp(f.path) } : {}),
    ...(typeof f.query === 'string' ? { query: new RegExp(f.query) } : {}),
  };
  if (f.kind === 'status' && [429, 500, 502, 503].includes(Number(f.status))) {
    return { kind: 'status', status: Number(f.status) as 429 | 500 | 502 | 503, times, ...match };
  }
  if (f.kind === 'delay' && Number.isFinite(Number(f.ms))) return { kind: 'delay', ms: Number(f.ms), times, ...match };
  if (f.kind === 'repeat') return { kind: 'repeat', times, ...match };
  return undefined;
}

/**
 * How `StartTime>` / `StartTime<` are read: `exact` at the instant sent, `day` truncated to
 * their UTC date (Twilio documents them as YYYY-MM-DD): `StartTime>` D = on or after D's
 * midnight, `StartTime<` D = before D's midnight.
 */
export type DateFilterMode = 'exact' | 'day';

export interface TwilioApiOptions {
  accountSid: string;
  /** Accepted Basic-auth passwords for username `accountSid` (auth tokens). */
  authTokens: readonly string[];
  /** Accepted API keys: username = key SID, password = secret. */
  apiKeys?: Readonly<Record<string, string>>;
  port?: number;
  /** How the StartTime filters are read (default `exact`); changeable later through `dateFilters`. */
  dateFilters?: DateFilterMode;
  /** The largest page served (default 1000, Twilio's cap); changeable later through `maxPageSize`. */
  maxPageSize?: number;
  /** How numbers answer the calls placed through Calls create (default: `human`, 30 s). */
  callOutcomes?: Readonly<Record<string, CallOutcome>>;
  /** The order of a played call's last callbacks (default `natural`); changeable later through `callbackOrder`. */
  callbackOrder?: CallbackOrder;
  /** How long a request to the stack may take before it counts as failed (default 15 s, as Twilio). */
  webhookTimeoutMs?: number;
}

export interface TwilioApi {
  baseUrl: string;
  port: number;
  calls: LocalCall[];
  faults: Fault[];
  /** How the StartTime filters are read now. */
  dateFilters: DateFilterMode;
  /** The largest page served whatever `PageSize` asks (Twilio's own cap is 1000); lower it to page small lists. */
  maxPageSize: number;
  /** Every request received, in order (method, path with query, status answered). */
  requests: { method: string; url: string; status: number }[];
  /** Messages accepted, in order. */
  messages: LocalMessage[];
  /** Recordings Twilio keeps (deleted ones are removed). */
  recordings: Map<string, LocalRecording>;
  /** Numbers that replied STOP (a send answers 21610) and numbers that are not mobile (21614). */
  optedOut: Set<string>;
  landlines: Set<string>;
  /** How each number answers a placed call (a number not here: `human`, 30 s). */
  callOutcomes: Map<string, CallOutcome>;
  /** The order of a played call's last callbacks, as read when the call is created. */
  callbackOrder: CallbackOrder;
  /** The calls placed through Calls create, in order, with what was requested of the stack for each. */
  placed: PlacedCall[];
  /** Resolves once every call placed so far has been played out (its last callback answered). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** How a called number answers: a person, nobody, busy, a failure, or a machine (answering machine detection's values). */
export type CallAnswer = 'human' | 'no-answer' | 'busy' | 'failed' | 'machine_start' | 'machine_end_beep' | 'fax' | 'unknown';
export const CALL_ANSWERS: readonly CallAnswer[] = [
  'human',
  'no-answer',
  'busy',
  'failed',
  'machine_start',
  'machine_end_beep',
  'fax',
  'unknown',
];
/** The answers that end a call unanswered (status = the answer, duration 0). */
const UNANSWERED: readonly CallAnswer[] = ['no-answer', 'busy', 'failed'];

/**
 * A number's scripted answer; `seconds` connected when answered (ignored otherwise); `ringMs`,
 * real milliseconds it rings before it answers or gives up (a page can watch the call go on).
 */
export interface CallOutcome {
  answer: CallAnswer;
  seconds: number;
  ringMs?: number;
}
const ringFor = (outcome: CallOutcome): Promise<void> =>
  outcome.ringMs ? new Promise((resolve) => setTimeout(resolve, outcome.ringMs)) : Promise.resolve();
const DEFAULT_OUTCOME: CallOutcome = { answer: 'human', seconds: 30 };

/**
 * The order of a played call's last callbacks: `natural` = the dialled leg's status callback,
 * then the Dial action, then the parent's status callback; `reversed` = the opposite.
 */
export type CallbackOrder = 'natural' | 'reversed';

/** One request this API made to the stack while playing a placed call. */
export interface PlacedRequest {
  /** The call's Url (answered), a status callback of the created call or of its dialled leg, or the Dial action. */
  kind: 'url' | 'status' | 'child-status' | 'dial-action';
  method: 'GET' | 'POST';
  /** Exactly as requested and signed (a GET carries the params in its query string, after the URL's own). */
  url: string;
  params: Record<string, string>;
  /** Its X-Twilio-Signature (the first auth token). */
  signature: string;
  /** The HTTP status the stack answered; 0 when it did not (`error` says why). */
  status: number;
  error?: string;
}

/** A call placed through Calls create, as it was played out. */
export interface PlacedCall {
  /** The created (agent) call. */
  sid: string;
  from: string;
  to: string;
  /** Its Url (null when created with Twiml or ApplicationSid). */
  url: string | null;
  /** How the called number answered (its script). */
  answer: CallAnswer;
  /** The TwiML received from the Url (or given as Twiml); null when none was. */
  twiml: string | null;
  /** The SIDs of the legs its `<Dial>`s created. */
  childSids: string[];
  /** Every request made to the stack for it, in the order sent. */
  requests: PlacedRequest[];
  /** The callback order used. */
  order: CallbackOrder;
  /** True once played out. */
  done: boolean;
  /** What went wrong, if anything (an unreachable Url, TwiML without `<Response>`, …). */
  error?: string;
}

/** Where and when a call's status callbacks go (StatusCallback, StatusCallbackMethod, StatusCallbackEvent). */
interface StatusCallback {
  url: string;
  method: 'GET' | 'POST';
  events: Set<string>;
}

/** A created call and what its create asked for, to be played out. */
interface Placement {
  call: LocalCall;
  record: PlacedCall;
  /** How its Url is requested. */
  method: 'GET' | 'POST';
  /** Its Twiml parameter, played instead of requesting a Url. */
  twiml: string | null;
  statusCallback: StatusCallback | null;
  /** Seconds it rings unanswered before `no-answer`. */
  timeout: number;
  /** MachineDetection was Enable or DetectMessageEnd: AnsweredBy is sent. */
  machineDetection: boolean;
  /** How its To answers (its script when created). */
  agent: CallOutcome;
}

/** A scripted outcome as `POST /__local/call-outcomes` takes it; undefined when malformed. */
function parseOutcome(value: unknown): ({ number: string } & CallOutcome) | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const answer = CALL_ANSWERS.find((a) => a === v.answer);
  const seconds = v.seconds === undefined ? DEFAULT_OUTCOME.seconds : Number(v.seconds);
  if (typeof v.number !== 'string' || v.number === '' || answer === undefined) return undefined;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 14_400) return undefined;
  const ringMs = v.ringMs === undefined ? 0 : Number(v.ringMs);
  if (!Number.isInteger(ringMs) || ringMs < 0 || ringMs > 10_000) return undefined;
  return { number: v.number, answer, seconds, ...(ringMs > 0 ? { ringMs } : {}) };
}

/** A TwiML element, as `parseTwiml` reads it: its name, attributes (entity-decoded) and children. */
export interface TwimlElement {
  name: string;
  attributes: Record<string, string>;
  children: (TwimlElement | string)[];
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric references decoded; anything else left as is. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref] ?? whole;
  });
}

/**
 * A small, tolerant XML reader for TwiML: elements, attributes (quoted or not), text and CDATA;
 * comments, declarations and processing instructions skipped; a stray closing tag ignored, an
 * unclosed element closed at the end. The document's first element (`<Response>`), or undefined.
 */
export function parseTwiml(xml: string): TwimlElement | undefined {
  const root: TwimlElement = { name: '#document', attributes: {}, children: [] };
  const open: TwimlElement[] = [root];
  const token =
    /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<[?!][\s\S]*?>|<\/\s*([^\s>]+)\s*>|<([A-Za-z_][\w:.-]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*(\/?)>|([^<]+|<)/g;
  for (const m of xml.matchAll(token)) {
    const current = open.at(-1) ?? root;
    const [, cdata, closing, name, attributes, selfClosing, text] = m;
    if (cdata !== undefined) current.children.push(cdata);
    else if (text !== undefined) current.children.push(decodeEntities(text));
    else if (closing !== undefined) {
      const at = open.map((e) => e.name).lastIndexOf(closing);
      if (at > 0) open.length = at;
    } else if (name !== undefined) {
      const element: TwimlElement = { name, attributes: {}, children: [] };
      for (const a of (attributes ?? '').matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
        element.attributes[a[1] ?? ''] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
      }
      current.children.push(element);
      if (selfClosing !== '/') open.push(element);
    }
  }
  return root.children.find((c): c is TwimlElement => typeof c !== 'string');
}

/** An attribute of a TwiML element, its name matched without regard to case; undefined when absent or empty. */
const attribute = (element: TwimlElement, name: string): string | undefined => {
  const key = Object.keys(element.attributes).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : element.attributes[key]?.trim();
  return value === '' ? undefined : value;
};
/** All the text inside an element (SSML and other markup within it dropped), whitespace collapsed. */
const textOf = (element: TwimlElement): string =>
  element.children
    .map((c) => (typeof c === 'string' ? c : textOf(c)))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
const elements = (element: TwimlElement): TwimlElement[] => element.children.filter((c): c is TwimlElement => typeof c !== 'string');

/** How long `<Say>` takes to speak `text`: 2.5 words a second (150 a minute), at least 1 s. */
export const saySeconds = (text: string): number => Math.max(1, Math.ceil(text.split(/\s+/).filter(Boolean).length / 2.5));

/** StatusCallbackEvent values, repeated or space-separated, lower-cased. */
const callbackEvents = (values: readonly string[]): Set<string> =>
  new Set(values.flatMap((v) => v.toLowerCase().split(/[\s,]+/)).filter(Boolean));

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};
/** A URL of TwiML resolved against the document it came from; an absolute one is kept exactly as written. */
const resolveUrl = (ref: string, base: string | null): string | undefined => {
  if (/^https?:\/\//i.test(ref)) return ref;
  if (base === null) return undefined;
  try {
    return new URL(ref, base).href;
  } catch {
    return undefined;
  }
};
const E164 = /^\+[1-9]\d{6,14}$/;

export const newCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;

/** A recording Twilio keeps (`POST /__local/recordings` adds them). */
export interface LocalRecording {
  sid: string;
  callSid: string;
  durationSeconds: number;
  dateCreated: Date;
  /** Its transcription (`transcribe="true"`), served at `/Transcriptions/{sid}.json`; deleted with the recording. */
  transcription?: { sid: string; text: string };
}

/**
 * A silent WAV of `seconds`, as Twilio's default recording format: 8 kHz, 16-bit PCM, mono
 * (16,000 bytes a second after the 44-byte RIFF header).
 */
export function silentWav(seconds: number): Buffer {
  const data = Math.max(1, Math.round(seconds * 8_000)) * 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16); // PCM format chunk
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8_000, 24); // samples a second
  header.writeUInt32LE(16_000, 28); // bytes a second
  header.writeUInt16LE(2, 32); // bytes a sample
  header.writeUInt16LE(16, 34); // bits a sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data, 40);
  return Buffer.concat([header, Buffer.alloc(data)]);
}

/** A request's JSON body, or undefined when it is none. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.from(chunk));
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A silent MP3 of about `seconds`: MPEG-1 Layer III frames at 32 kHz, 32 kbps, mono, each 144
 * bytes and 1,152 samples (36 ms) with empty side information (silence to any decoder).
 */
export function silentMp3(seconds: number): Buffer {
  const frames = Math.max(1, Math.round(seconds / 0.036));
  const frame = Buffer.alloc(144);
  // Sync, MPEG-1, Layer III, no CRC | 32 kbps, 32 kHz, no padding | mono.
  frame.set([0xff, 0xfb, 0x18, 0xc0]);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

/** A message as Twilio's API renders it (the fields of the SDK's MessageResource). */
function messageResource(m: LocalMessage, accountSid: string): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}.json`;
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: null,
    date_updated: rfc2822(m.dateCreated),
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: '0',
    num_segments: m.messagingServiceSid === null ? String(Math.max(1, Math.ceil(m.body.length / 153))) : '0',
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.messagingServiceSid === null ? 'queued' : 'accepted',
    subresource_uris: { media: uri.replace('.json', '/Media.json') },
    to: m.to,
    uri,
  };
}

const rfc2822 = (date: Date): string => date.toUTCString().replace('GMT', '+0000');

/** When a call ended: its `endTime`, else its start plus its duration. */
const endOf = (call: LocalCall): Date => call.endTime ?? new Date(call.startTime.getTime() + (call.durationSeconds ?? 0) * 1000);

function toResource(call: LocalCall, accountSid: string): Record<string, unknown> {
  const end = endOf(call);
  const uri = `/2010-04-01/Accounts/${accountSid}/Calls/${call.sid}.json`;
  // As Twilio renders a call not over yet: no start time while queued, no end time or duration.
  const ended = TERMINAL.includes(call.status);
  return {
    sid: call.sid,
    date_created: rfc2822(call.startTime),
    date_updated: rfc2822(ended ? end : call.startTime),
    parent_call_sid: call.parentCallSid ?? null,
    account_sid: accountSid,
    to: call.to,
    to_formatted: call.to,
    from: call.from,
    from_formatted: call.from,
    phone_number_sid: null,
    status: call.status,
    start_time: call.status === 'queued' ? null : rfc2822(call.startTime),
    end_time: ended ? rfc2822(end) : null,
    duration: ended ? String(call.durationSeconds ?? 0) : null,
    price: null,
    price_unit: 'USD',
    direction: call.direction,
    answered_by: call.answeredBy ?? null,
    api_version: '2010-04-01',
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri,
    subresource_uris: {
      notifications: uri.replace('.json', '/Notifications.json'),
      recordings: uri.replace('.json', '/Recordings.json'),
    },
  };
}

const STATUSES: readonly LocalCall['status'][] = [
  'queued',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
];
/** The final statuses (a call with one of these has ended). */
const TERMINAL: readonly LocalCall['status'][] = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];
const DIRECTIONS: readonly LocalCall['direction'][] = ['inbound', 'outbound-api', 'outbound-dial'];

/** A call posted to `/__local/calls`, checked field by field. */
export function parseLocalCall(value: unknown): LocalCall | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v: Record<string, unknown> = { ...value };
  const status = STATUSES.find((s) => s === v.status);
  const direction = DIRECTIONS.find((d) => d === v.direction);
  const start = typeof v.startTime === 'string' ? new Date(v.startTime) : undefined;
  const end = typeof v.endTime === 'string' ? new Date(v.endTime) : undefined;
  if (typeof v.from !== 'string' || typeof v.to !== 'string' || !status || !direction || !start || Number.isNaN(start.getTime()))
    return undefined;
  if (end !== undefined && Number.isNaN(end.getTime())) return undefined;
  return {
    sid: typeof v.sid === 'string' && /^CA[0-9a-f]{32}$/.test(v.sid) ? v.sid : newCallSid(),
    parentCallSid: typeof v.parentCallSid === 'string' ? v.parentCallSid : null,
    from: v.from,
    to: v.to,
    status,
    direction,
    startTime: start,
    ...(end === undefined ? {} : { endTime: end }),
    durationSeconds: typeof v.durationSeconds === 'number' ? v.durationSeconds : 0,
    answeredBy: typeof v.answeredBy === 'string' ? v.answeredBy : null,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function twilioError(res: ServerResponse, status: number, code: number, message: string): void {
  send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

/** Parses Twilio's date filters: ISO 8601 date-times as the SDK sends them, or YYYY-MM-DD. */
function filterTime(value: string | null, mode: DateFilterMode): number | undefined {
  if (value === null || value === '') return undefined;
  const ms = Date.parse(mode === 'day' ? value.slice(0, 10) : value);
  return Number.isNaN(ms) ? undefined : ms;
}

export async function startTwilioApi(options: TwilioApiOptions): Promise<TwilioApi> {
  const calls: LocalCall[] = [];
  const faults: Fault[] = [];
  const requests: TwilioApi['requests'] = [];
  const messages: LocalMessage[] = [];
  const recordings = new Map<string, LocalRecording>();
  const optedOut = new Set<string>();
  const landlines = new Set<string>();
  const state: { dateFilters: DateFilterMode; maxPageSize: number; callbackOrder: CallbackOrder } = {
    dateFilters: options.dateFilters ?? 'exact',
    maxPageSize: options.maxPageSize ?? 1000,
    callbackOrder: options.callbackOrder ?? 'natural',
  };
  const callOutcomes = new Map<string, CallOutcome>(Object.entries(options.callOutcomes ?? {}));
  const placed: PlacedCall[] = [];
  /** The play-outs under way. */
  const playing = new Set<Promise<void>>();
  /** Aborts the requests to the stack still waiting when the server stops. */
  const stopping = new AbortController();

  const basicAuth = (req: IncomingMessage): { user: string; password: string } => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return { user: '', password: '' };
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  };
  const authorized = (req: IncomingMessage): boolean => {
    const { user, password } = basicAuth(req);
    if (user === options.accountSid) return options.authTokens.includes(password);
    return options.apiKeys?.[user] !== undefined && options.apiKeys[user] === password;
  };
  const isApiKey = (req: IncomingMessage): boolean => basicAuth(req).user.startsWith('SK');

  const faultMatches = (f: Fault, url: URL) =>
    (f.path === undefined || f.path.test(url.pathname)) && (f.query === undefined || f.query.test(url.search));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/__local/')) return admin(req, res, url.pathname);
    const fault = faults.find((f) => f.times > 0 && f.kind !== 'repeat' && faultMatches(f, url));
    if (fault !== undefined && fault.kind !== 'repeat') {
      fault.times -= 1;
      if (fault.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      else {
        if (fault.status === 429) twilioError(res, 429, 20429, 'Too Many Requests');
        else twilioError(res, fault.status, 20500, 'Internal Server Error');
        return fault.status;
      }
    }
    const recordingPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Recordings\/(RE[0-9a-fA-F]{32})(\.json|\.mp3|\.wav)?$/.exec(
      url.pathname,
    );
    if (recordingPath) return serveRecording(req, res, recordingPath[1] ?? '', recordingPath[2] ?? '', recordingPath[3] ?? '');
    const transcriptionPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Transcriptions\/(TR[0-9a-fA-F]{32})\.json$/.exec(url.pathname);
    if (transcriptionPath) return serveTranscription(req, res, transcriptionPath[1] ?? '', transcriptionPath[2] ?? '');
    const messagesPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/.exec(url.pathname);
    const createPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Calls\.json$/.exec(url.pathname);
    if (createPath && req.method === 'POST') {
      if (!authorized(req)) {
        twilioError(res, 401, 20003, 'Authenticate');
        return 401;
      }
      return createCall(req, res, createPath[1] ?? '');
    }
    if (messagesPath && req.method === 'POST') {
      if (!authorized(req)) {
        twilioError(res, 401, 20003, 'Authenticate');
        return 401;
      }
      return createMessage(req, res, messagesPath[1] ?? '');
    }
    if (req.method !== 'GET') {
      twilioError(res, 405, 20004, 'Method not allowed');
      return 405;
    }
    if (!authorized(req)) {
      twilioError(res, 401, 20003, 'Authenticate');
      return 401;
    }
    if (messagesPath) {
      send(res, 200, {
        messages: [...messages].reverse().map((m) => messageResource(m, options.accountSid)),
        end: Math.max(messages.length - 1, 0),
        first_page_uri: `${url.pathname}?PageSize=50&Page=0`,
        next_page_uri: null,
        page: 0,
        page_size: 50,
        previous_page_uri: null,
        start: 0,
        uri: `${url.pathname}?PageSize=50&Page=0`,
      });
      return 200;
    }
    const accountOnly = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\.json$/.exec(url.pathname);
    if (accountOnly && isApiKey(req)) {
      // Standard API keys cannot read the account resource.
      twilioError(res, 403, 20003, 'Authenticate');
      return 403;
    }
    if (accountOnly) {
      if (accountOnly[1] !== options.accountSid) {
        twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
        return 404;
      }
      const created = rfc2822(new Date('2020-01-01T00:00:00Z'));
      send(res, 200, {
        sid: options.accountSid,
        owner_account_sid: options.accountSid,
        friendly_name: 'Local account',
        status: 'active',
        type: 'Full',
        auth_token: null,
        date_created: created,
        date_updated: created,
        uri: `/2010-04-01/Accounts/${options.accountSid}.json`,
        subresource_uris: { calls: `/2010-04-01/Accounts/${options.accountSid}/Calls.json` },
      });
      return 200;
    }
    const list = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Calls\.json$/.exec(url.pathname);
    const one = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Calls\/(CA[0-9a-fA-F]{32})\.json$/.exec(url.pathname);
    const account = list?.[1] ?? one?.[1];
    if (account !== undefined && account !== options.accountSid) {
      twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
      return 404;
    }
    if (one) {
      const call = calls.find((c) => c.sid === one[2]);
      if (call === undefined) {
        twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
        return 404;
      }
      send(res, 200, toResource(call, options.accountSid));
      return 200;
    }
    if (!list) {
      twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
      return 404;
    }
    const q = url.searchParams;
    const status = q.get('Status');
    const inRange = (ms: number, name: 'StartTime' | 'EndTime') => {
      const after = filterTime(q.get(`${name}>`), state.dateFilters);
      const before = filterTime(q.get(`${name}<`), state.dateFilters);
      // `StartTime` / `EndTime` alone: on that UTC date.
      const on = filterTime(q.get(name)?.slice(0, 10) ?? null, 'day');
      return (
        (after === undefined || ms >= after) &&
        (before === undefined || (state.dateFilters === 'day' ? ms < before : ms <= before)) &&
        (on === undefined || (ms >= on && ms < on + 86_400_000))
      );
    };
    const endFiltered = ['EndTime', 'EndTime>', 'EndTime<'].some((name) => q.get(name));
    const matching = calls
      .filter((c) => (status ? c.status === status : true))
      .filter((c) => (q.get('ParentCallSid') ? c.parentCallSid === q.get('ParentCallSid') : true))
      .filter((c) => (q.get('From') ? c.from === q.get('From') : true))
      .filter((c) => (q.get('To') ? c.to === q.get('To') : true))
      .filter((c) => inRange(c.startTime.getTime(), 'StartTime'))
      // A call still going on has not ended: the EndTime filters leave it out.
      .filter((c) => !endFiltered || (TERMINAL.includes(c.status) && inRange(endOf(c).getTime(), 'EndTime')))
      // Newest first, as Twilio lists calls; the SID breaks ties so that paging is stable.
      .sort((a, b) => b.startTime.getTime() - a.startTime.getTime() || a.sid.localeCompare(b.sid));
    const pageSize = Math.min(state.maxPageSize, Math.max(1, Number(q.get('PageSize') ?? 50) || 50));
    const page = Math.max(0, Number(q.get('Page') ?? 0) || 0);
    // PageToken "PA<sid>": the page starts after that call.
    const token = q.get('PageToken');
    let startIndex = token?.startsWith('PA') ? matching.findIndex((c) => c.sid === token.slice(2)) + 1 : page * pageSize;
    const repeat = faults.find((f) => f.kind === 'repeat' && f.times > 0 && faultMatches(f, url));
    if (repeat !== undefined && startIndex > 0) {
      repeat.times -= 1;
      startIndex -= 1;
    }
    const slice = matching.slice(startIndex, startIndex + pageSize);
    const base = url.pathname;
    const filters = new URLSearchParams(q);
    for (const name of ['Page', 'PageToken', 'PageSize']) filters.delete(name);
    const pageUri = (p: number, extra: Record<string, string> = {}) => {
      const params = new URLSearchParams(filters);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(p));
      for (const [k, v] of Object.entries(extra)) params.set(k, v);
      return `${base}?${params.toString()}`;
    };
    const last = slice.at(-1);
    const hasNext = last !== undefined && startIndex + slice.length < matching.length;
    send(res, 200, {
      calls: slice.map((c) => toResource(c, options.accountSid)),
      end: startIndex + Math.max(slice.length - 1, 0),
      first_page_uri: pageUri(0),
      next_page_uri: hasNext ? pageUri(page + 1, { PageToken: `PA${last.sid}` }) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start: startIndex,
      uri: `${base}?${q.toString()}`,
    });
    return 200;
  };

  /**
   * `POST …/Calls.json`: Twilio's checks in Twilio's order (To, its format, From, Url), then the
   * call is kept `queued`, answered 201 with its resource, and played out once the answer is sent.
   */
  const createCall = async (req: IncomingMessage, res: ServerResponse, account: string): Promise<number> => {
    if (account !== options.accountSid) {
      twilioError(res, 404, 20404, `The requested resource /2010-04-01/Accounts/${account}/Calls.json was not found`);
      return 404;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.from(chunk));
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const field = (name: string) => (form.get(name) ?? '').trim();
    const fail = (code: number, message: string) => {
      twilioError(res, 400, code, message);
      return 400;
    };
    const to = field('To');
    const from = field('From');
    const url = field('Url');
    if (to === '') return fail(21201, "No 'To' number is specified");
    if (!E164.test(to)) return fail(21211, "Invalid 'To' Phone Number");
    if (from === '') return fail(21213, "No 'From' number is specified");
    if (url === '' && field('Twiml') === '' && field('ApplicationSid') === '') return fail(21205, 'Url parameter is required');
    if (url !== '' && !isHttpUrl(url)) return fail(21205, `Url is not a valid URL: ${url}`);
    const timeout = Number(field('Timeout') || 60);
    const call: LocalCall = {
      sid: newCallSid(),
      parentCallSid: null,
      from,
      to,
      status: 'queued',
      direction: 'outbound-api',
      startTime: new Date(),
      durationSeconds: 0,
      answeredBy: null,
    };
    calls.push(call);
    const agent = callOutcomes.get(to) ?? DEFAULT_OUTCOME;
    const record: PlacedCall = {
      sid: call.sid,
      from,
      to,
      url: url === '' ? null : url,
      answer: agent.answer,
      twiml: null,
      childSids: [],
      requests: [],
      order: state.callbackOrder,
      done: false,
    };
    placed.push(record);
    const order: Placement = {
      call,
      record,
      method: field('Method').toUpperCase() === 'GET' ? 'GET' : 'POST',
      twiml: field('Twiml') === '' ? null : (form.get('Twiml') ?? ''),
      statusCallback:
        field('StatusCallback') === ''
          ? null
          : {
              url: field('StatusCallback'),
              method: field('StatusCallbackMethod').toUpperCase() === 'GET' ? 'GET' : 'POST',
              events: form.has('StatusCallbackEvent') ? callbackEvents(form.getAll('StatusCallbackEvent')) : new Set(['completed']),
            },
      // Twilio rings for 60 s by default, 600 at most.
      timeout: Number.isFinite(timeout) && timeout > 0 ? Math.min(600, Math.round(timeout)) : 60,
      machineDetection: ['enable', 'detectmessageend'].includes(field('MachineDetection').toLowerCase()),
      agent,
    };
    // Played once the answer has gone out (Twilio answers first, then dials); counted in
    // `settled()` from now on.
    const answered = new Promise<void>((resolve) => res.once('close', resolve));
    const play: Promise<void> = answered.then(() => playCall(order)).finally(() => playing.delete(play));
    playing.add(play);
    send(res, 201, toResource(call, options.accountSid));
    return 201;
  };

  /**
   * Requests `url` of the stack as Twilio does: signed with the first auth token over the exact
   * URL (a POST's params in its form body; a GET's appended to the query string and signed in
   * it); recorded in `record.requests`. The answer's body, or undefined when the stack failed to
   * answer or answered other than 2xx.
   */
  const requestStack = async (
    record: PlacedCall,
    kind: PlacedRequest['kind'],
    method: 'GET' | 'POST',
    url: string,
    params: Record<string, string>,
  ): Promise<string | undefined> => {
    const query = new URLSearchParams(params).toString();
    const target = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
    const signature = signLikeTwilio(options.authTokens[0] ?? '', target, method === 'GET' ? {} : params);
    const sent: PlacedRequest = { kind, method, url: target, params, signature, status: 0 };
    record.requests.push(sent);
    try {
      const response = await fetch(target, {
        method,
        headers: {
          'X-Twilio-Signature': signature,
          'User-Agent': 'TwilioProxy/1.1',
          ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } : {}),
        },
        ...(method === 'POST' ? { body: query } : {}),
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(options.webhookTimeoutMs ?? 15_000)]),
      });
      sent.status = response.status;
      const body = await response.text();
      if (response.ok) return body;
      sent.error = `answered ${response.status}`;
    } catch (error) {
      sent.error = error instanceof Error ? error.message : String(error);
    }
    return undefined;
  };

  /** The params Twilio sends about `call` in every request. */
  const aboutCall = (call: LocalCall): Record<string, string> => ({
    AccountSid: options.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: call.sid,
    Called: call.to,
    Caller: call.from,
    Direction: call.direction,
    From: call.from,
    To: call.to,
  });

  /**
   * A status callback of `call` for `event` (initiated, ringing, answered, completed), when its
   * callback asked for that event: the send, to run now or later. Its SequenceNumber is taken
   * when the event happens, whatever order the sends go in.
   */
  const statusEvent = (
    record: PlacedCall,
    kind: 'status' | 'child-status',
    call: LocalCall,
    callback: StatusCallback | null,
    sequence: { next: number },
    event: 'initiated' | 'ringing' | 'answered' | 'completed',
    at: Date,
  ): (() => Promise<unknown>) => {
    if (callback === null || !callback.events.has(event)) return async () => {};
    const params: Record<string, string> = {
      ...aboutCall(call),
      ...(call.parentCallSid ? { ParentCallSid: call.parentCallSid } : {}),
      CallStatus:
        event === 'initiated' ? 'initiated' : event === 'ringing' ? 'ringing' : event === 'answered' ? 'in-progress' : call.status,
      ...(event === 'completed' ? { CallDuration: String(call.durationSeconds ?? 0) } : {}),
      ...(call.answeredBy && (event === 'answered' || event === 'completed') ? { AnsweredBy: call.answeredBy } : {}),
      Timestamp: rfc2822(at),
      SequenceNumber: String(sequence.next++),
      CallbackSource: 'call-progress-events',
    };
    return () => requestStack(record, kind, callback.method, callback.url, params);
  };

  /**
   * Plays a created call out, in simulated time (no waiting: its start, end and Timestamps are
   * its start plus the seconds it would have taken). The agent (its To) answers after its
   * script; answered, its TwiML is fetched and read: `<Say>` and `<Pause>` take their time,
   * `<Dial>` rings its `<Number>`, which answers after that number's script, `<Hangup>` ends it.
   * The stored calls are updated, then the last callbacks go out in the chosen order.
   */
  const playCall = async (placement: Placement): Promise<void> => {
    const { call, record } = placement;
    const t0 = call.startTime.getTime();
    const at = (seconds: number) => new Date(t0 + seconds * 1000);
    const sequence = { next: 0 };
    const parentEvent = (event: 'initiated' | 'ringing' | 'answered' | 'completed', seconds: number) =>
      statusEvent(record, 'status', call, placement.statusCallback, sequence, event, at(seconds));
    try {
      call.status = 'ringing';
      await parentEvent('initiated', 0)();
      await parentEvent('ringing', 0)();
      const { agent } = placement;
      await ringFor(agent);
      if (UNANSWERED.includes(agent.answer)) {
        call.status = agent.answer as LocalCall['status'];
        call.durationSeconds = 0;
        call.endTime = at(agent.answer === 'no-answer' ? placement.timeout : 0);
        await parentEvent('completed', (call.endTime.getTime() - t0) / 1000)();
        return;
      }
      call.status = 'in-progress';
      call.answeredBy = placement.machineDetection ? agent.answer : null;
      await parentEvent('answered', 0)();
      let twiml = placement.twiml;
      if (twiml === null && record.url !== null) {
        twiml =
          (await requestStack(record, 'url', placement.method, record.url, {
            ...aboutCall(call),
            CallStatus: 'in-progress',
            ...(call.answeredBy ? { AnsweredBy: call.answeredBy } : {}),
          })) ?? null;
        if (twiml === null) record.error = `its Url did not answer with TwiML (${record.requests.at(-1)?.error ?? 'no answer'})`;
      } else if (twiml === null) record.error = 'created with an ApplicationSid: no application here, the call hangs up when answered';
      record.twiml = twiml;
      const response = twiml === null ? undefined : parseTwiml(twiml);
      if (twiml !== null && response?.name !== 'Response') record.error = 'its TwiML has no <Response>';
      // The last callbacks, in their natural order: each leg's, the Dial action's, the parent's.
      const last: (() => Promise<unknown>)[] = [];
      let elapsed = 0;
      for (const verb of response?.name === 'Response' ? elements(response) : []) {
        const name = verb.name.toLowerCase();
        if (name === 'say') elapsed += saySeconds(textOf(verb));
        else if (name === 'pause') elapsed += Math.max(0, Number(attribute(verb, 'length') ?? 1) || 0);
        else if (name === 'hangup' || name === 'reject') break;
        else if (name === 'dial') {
          const dialled = await dial(placement, verb, elapsed, at, last);
          elapsed = dialled.end;
          if (dialled.action) break;
        }
      }
      call.status = 'completed';
      call.durationSeconds = elapsed;
      call.endTime = at(elapsed);
      last.push(parentEvent('completed', elapsed));
      for (const sendIt of record.order === 'reversed' ? last.reverse() : last) await sendIt();
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    } finally {
      record.done = true;
    }
  };

  /**
   * A `<Dial>` of the played call, `offset` s into it: its `<Number>` (or its text) becomes a
   * child leg, kept in `calls`, that answers after the number's script; the leg's and the Dial
   * action's callbacks are added to `last`. Where the call is when the Dial ends, and whether it
   * had an action (Twilio then goes on with the action's TwiML: read here, but not played).
   */
  const dial = async (
    placement: Placement,
    verb: TwimlElement,
    offset: number,
    at: (seconds: number) => Date,
    last: (() => Promise<unknown>)[],
  ): Promise<{ end: number; action: boolean }> => {
    const { call: parent, record } = placement;
    const number = elements(verb).find((e) => e.name.toLowerCase() === 'number');
    const to = number === undefined ? (elements(verb).length === 0 ? textOf(verb) : '') : textOf(number);
    const action = attribute(verb, 'action');
    const actionUrl = action === undefined ? undefined : resolveUrl(action, record.url);
    if (action !== undefined && actionUrl === undefined) record.error = `cannot resolve the Dial action ${action}`;
    // Nothing this API can dial (`<Client>`, `<Sip>`, `<Conference>`…): the call goes on.
    if (to === '') return { end: offset, action: false };
    // Twilio's Dial rings for 30 s by default, 600 at most.
    const timeout = Number(attribute(verb, 'timeout') ?? 30);
    const ring = Number.isFinite(timeout) && timeout > 0 ? Math.min(600, Math.round(timeout)) : 30;
    const callback = number === undefined ? undefined : attribute(number, 'statusCallback');
    const callbackUrl = callback === undefined ? undefined : resolveUrl(callback, record.url);
    if (callback !== undefined && callbackUrl === undefined) record.error = `cannot resolve the Number statusCallback ${callback}`;
    const child: LocalCall = {
      sid: newCallSid(),
      parentCallSid: parent.sid,
      from: attribute(verb, 'callerId') ?? parent.from,
      to,
      status: 'ringing',
      direction: 'outbound-dial',
      startTime: at(offset),
      durationSeconds: 0,
      answeredBy: null,
    };
    calls.push(child);
    record.childSids.push(child.sid);
    const leg: StatusCallback | null =
      number === undefined || callbackUrl === undefined
        ? null
        : {
            url: callbackUrl,
            method: attribute(number, 'statusCallbackMethod')?.toUpperCase() === 'GET' ? 'GET' : 'POST',
            events: callbackEvents([attribute(number, 'statusCallbackEvent') ?? 'completed']),
          };
    const sequence = { next: 0 };
    const legEvent = (event: 'initiated' | 'ringing' | 'answered' | 'completed', seconds: number) =>
      statusEvent(record, 'child-status', child, leg, sequence, event, at(seconds));
    await legEvent('initiated', offset)();
    await legEvent('ringing', offset)();
    const outcome = callOutcomes.get(to) ?? DEFAULT_OUTCOME;
    await ringFor(outcome);
    const detection =
      number !== undefined && ['enable', 'detectmessageend'].includes(attribute(number, 'machineDetection')?.toLowerCase() ?? '');
    let end: number;
    if (UNANSWERED.includes(outcome.answer)) {
      child.status = outcome.answer as LocalCall['status'];
      end = offset + (outcome.answer === 'no-answer' ? ring : 0);
    } else {
      child.status = 'in-progress';
      child.answeredBy = detection ? outcome.answer : null;
      await legEvent('answered', offset)();
      child.status = 'completed';
      child.durationSeconds = outcome.seconds;
      end = offset + outcome.seconds;
    }
    child.endTime = at(end);
    last.push(legEvent('completed', end));
    if (actionUrl !== undefined) {
      const params = {
        ...aboutCall(parent),
        CallStatus: 'in-progress',
        DialCallSid: child.sid,
        DialCallStatus: child.status,
        DialCallDuration: String(child.durationSeconds ?? 0),
      };
      const method = attribute(verb, 'method')?.toUpperCase() === 'GET' ? 'GET' : 'POST';
      last.push(() => requestStack(record, 'dial-action', method, actionUrl, params));
    }
    return { end, action: actionUrl !== undefined };
  };

  /** `POST …/Messages.json`: Twilio's checks in Twilio's order, then the message is kept. */
  const createMessage = async (req: IncomingMessage, res: ServerResponse, account: string): Promise<number> => {
    if (account !== options.accountSid) {
      twilioError(res, 404, 20404, `The requested resource /2010-04-01/Accounts/${account}/Messages.json was not found`);
      return 404;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.from(chunk));
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const to = form.get('To') ?? '';
    const from = form.get('From');
    const service = form.get('MessagingServiceSid');
    const body = form.get('Body') ?? '';
    const fail = (code: number, message: string) => {
      twilioError(res, 400, code, message);
      return 400;
    };
    if (to === '') return fail(21604, "A 'To' phone number is required.");
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return fail(21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !service) return fail(21603, "A 'From' phone number is required.");
    if (service && !/^MG[0-9a-fA-F]{32}$/.test(service)) return fail(21701, 'The Messaging Service Sid is invalid.');
    if (body === '') return fail(21602, 'Message body is required.');
    if (landlines.has(to)) return fail(21614, `'To' number ${to} is not a valid mobile number`);
    if (optedOut.has(to)) return fail(21610, 'Attempt to send to unsubscribed recipient');
    const message: LocalMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to,
      from: service ? null : from,
      messagingServiceSid: service || null,
      body,
      dateCreated: new Date(),
    };
    messages.push(message);
    send(res, 201, messageResource(message, options.accountSid));
    return 201;
  };

  /**
   * A recording as Twilio serves it with "HTTP Basic Auth for media" on: its resource (`.json`),
   * its audio (`.mp3`, or `.wav` and no extension: Twilio's default), and `DELETE …json` (204;
   * 404 once gone; its transcription goes with it).
   */
  const serveRecording = (req: IncomingMessage, res: ServerResponse, account: string, sid: string, ext: string): number => {
    if (!authorized(req)) {
      twilioError(res, 401, 20003, 'Authenticate');
      return 401;
    }
    const recording = account === options.accountSid ? recordings.get(sid) : undefined;
    const path = `/2010-04-01/Accounts/${account}/Recordings/${sid}${ext}`;
    if (recording === undefined) {
      twilioError(res, 404, 20404, `The requested resource ${path} was not found`);
      return 404;
    }
    if (req.method === 'DELETE' && ext === '.json') {
      recordings.delete(sid);
      res.writeHead(204);
      res.end();
      return 204;
    }
    if (req.method !== 'GET') {
      twilioError(res, 405, 20004, 'Method not allowed');
      return 405;
    }
    if (ext === '.json') {
      send(res, 200, {
        account_sid: account,
        call_sid: recording.callSid,
        sid,
        duration: String(recording.durationSeconds),
        status: 'completed',
        channels: 1,
        source: 'RecordVerb',
        date_created: rfc2822(recording.dateCreated),
        media_url: `https://api.twilio.com/2010-04-01/Accounts/${account}/Recordings/${sid}`,
        uri: `/2010-04-01/Accounts/${account}/Recordings/${sid}.json`,
      });
      return 200;
    }
    const mp3 = ext === '.mp3';
    const audio = mp3 ? silentMp3(recording.durationSeconds) : silentWav(recording.durationSeconds);
    res.writeHead(200, { 'Content-Type': mp3 ? 'audio/mpeg' : 'audio/x-wav', 'Content-Length': String(audio.length) });
    res.end(audio);
    return 200;
  };

  /** A transcription's resource (`GET /Transcriptions/{sid}.json`), as long as its recording is kept. */
  const serveTranscription = (req: IncomingMessage, res: ServerResponse, account: string, sid: string): number => {
    if (!authorized(req)) {
      twilioError(res, 401, 20003, 'Authenticate');
      return 401;
    }
    const recording = account === options.accountSid ? [...recordings.values()].find((r) => r.transcription?.sid === sid) : undefined;
    const path = `/2010-04-01/Accounts/${account}/Transcriptions/${sid}.json`;
    if (recording?.transcription === undefined || req.method !== 'GET') {
      twilioError(res, 404, 20404, `The requested resource ${path} was not found`);
      return 404;
    }
    send(res, 200, {
      account_sid: account,
      sid,
      recording_sid: recording.sid,
      status: 'completed',
      transcription_text: recording.transcription.text,
      duration: String(recording.durationSeconds),
      type: 'fast',
      date_created: rfc2822(recording.dateCreated),
      uri: path,
    });
    return 200;
  };

  /** Local-only controls: seed calls (what Twilio "knows") and inject faults. */
  const admin = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<number> => {
    if (path === '/__local/faults' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(Buffer.from(chunk));
      let added: (Fault | undefined)[] = [undefined];
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        added = (Array.isArray(parsed) ? parsed : [parsed]).map(parseFault);
      } catch {
        // Reported below.
      }
      if (added.some((f) => f === undefined)) {
        send(res, 400, {
          message:
            'each fault needs kind (status with 429|500|502|503, delay with ms, or repeat), times >= 1, optional path and query patterns',
        });
        return 400;
      }
      faults.push(...added.filter((f): f is Fault => f !== undefined));
      send(res, 201, { faults: faults.length });
      return 201;
    }
    if (path === '/__local/calls' && req.method === 'GET') {
      send(
        res,
        200,
        calls.map((c) => toResource(c, options.accountSid)),
      );
      return 200;
    }
    if (path === '/__local/calls' && req.method === 'DELETE') {
      calls.length = 0;
      send(res, 200, { deleted: true });
      return 200;
    }
    if (path === '/__local/calls' && req.method === 'POST') {
      const parsed = await readJson(req);
      if (parsed === undefined) {
        send(res, 400, { message: 'body must be JSON' });
        return 400;
      }
      const added = (Array.isArray(parsed) ? parsed : [parsed]).map(parseLocalCall);
      if (added.some((c) => c === undefined)) {
        send(res, 400, { message: 'each call needs from, to, status, direction and an ISO startTime' });
        return 400;
      }
      const valid = added.filter((c): c is LocalCall => c !== undefined);
      calls.push(...valid);
      send(res, 201, { sids: valid.map((c) => c.sid) });
      return 201;
    }
    if (path === '/__local/recordings' && req.method === 'POST') {
      const given = await readJson(req);
      const list = Array.isArray(given) ? given : [given];
      const valid = list.every(
        (r) =>
          typeof r === 'object' &&
          r !== null &&
          typeof r.sid === 'string' &&
          /^RE[0-9a-fA-F]{32}$/.test(r.sid) &&
          typeof r.callSid === 'string' &&
          typeof r.durationSeconds === 'number' &&
          r.durationSeconds >= 0 &&
          r.durationSeconds <= 3600 &&
          (r.transcription === undefined ||
            (typeof r.transcription?.sid === 'string' &&
              /^TR[0-9a-fA-F]{32}$/.test(r.transcription.sid) &&
              typeof r.transcription.text === 'string')),
      );
      if (!valid) {
        send(res, 400, {
          message: 'each recording needs sid (RE…), callSid and durationSeconds (0-3600), and may have transcription { sid (TR…), text }',
        });
        return 400;
      }
      for (const r of list as Omit<LocalRecording, 'dateCreated'>[]) {
        recordings.set(r.sid, {
          sid: r.sid,
          callSid: r.callSid,
          durationSeconds: r.durationSeconds,
          dateCreated: new Date(),
          ...(r.transcription === undefined ? {} : { transcription: { sid: r.transcription.sid, text: r.transcription.text } }),
        });
      }
      send(res, 201, { recordings: recordings.size });
      return 201;
    }
    if (path === '/__local/messages' && req.method === 'GET') {
      send(
        res,
        200,
        messages.map((m) => messageResource(m, options.accountSid)),
      );
      return 200;
    }
    const marks = path === '/__local/opt-outs' ? optedOut : path === '/__local/landlines' ? landlines : undefined;
    if (marks !== undefined && req.method === 'POST') {
      const numbers = await readJson(req);
      if (!Array.isArray(numbers) || numbers.some((n) => typeof n !== 'string')) {
        send(res, 400, { message: 'body must be a JSON array of numbers' });
        return 400;
      }
      for (const n of numbers) marks.add(String(n));
      send(res, 201, { count: marks.size });
      return 201;
    }
    if (path === '/__local/call-outcomes' && req.method === 'GET') {
      send(res, 200, { order: state.callbackOrder, outcomes: [...callOutcomes].map(([number, o]) => ({ number, ...o })) });
      return 200;
    }
    if (path === '/__local/call-outcomes' && req.method === 'DELETE') {
      callOutcomes.clear();
      state.callbackOrder = 'natural';
      send(res, 200, { deleted: true });
      return 200;
    }
    if (path === '/__local/call-outcomes' && req.method === 'POST') {
      const given = await readJson(req);
      // An array of outcomes, one outcome, or { order?, outcomes? }.
      const body = typeof given === 'object' && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
      const list: unknown[] = Array.isArray(given)
        ? given
        : 'number' in body
          ? [given]
          : Array.isArray(body.outcomes)
            ? body.outcomes
            : body.outcomes === undefined
              ? []
              : [undefined];
      const order = body.order === undefined ? undefined : (['natural', 'reversed'] as const).find((o) => o === body.order);
      const outcomes = list.map(parseOutcome);
      const empty = list.length === 0 && body.order === undefined;
      if (empty || outcomes.some((o) => o === undefined) || (body.order !== undefined && order === undefined)) {
        send(res, 400, {
          message: `give [{ number, answer (${CALL_ANSWERS.join('|')}), seconds (0-14400, default 30), ringMs? (0-10000) }], or { order: natural|reversed, outcomes?: […] }`,
        });
        return 400;
      }
      for (const o of outcomes) if (o !== undefined) callOutcomes.set(o.number, { answer: o.answer, seconds: o.seconds, ringMs: o.ringMs });
      if (order !== undefined) state.callbackOrder = order;
      send(res, 201, { order: state.callbackOrder, outcomes: callOutcomes.size });
      return 201;
    }
    if (path === '/__local/placed' && req.method === 'GET') {
      send(res, 200, placed);
      return 200;
    }
    if (path === '/__local/placed' && req.method === 'DELETE') {
      placed.length = 0;
      send(res, 200, { deleted: true });
      return 200;
    }
    send(res, 404, { message: `no local route ${req.method} ${path}` });
    return 404;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res)
      .then((status) => requests.push({ method: req.method ?? '', url: req.url ?? '', status }))
      .catch((error: unknown) => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', status: 500 });
        if (!res.headersSent) twilioError(res, 500, 20500, error instanceof Error ? error.message : 'error');
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    calls,
    faults,
    get dateFilters() {
      return state.dateFilters;
    },
    set dateFilters(mode: DateFilterMode) {
      state.dateFilters = mode;
    },
    get maxPageSize() {
      return state.maxPageSize;
    },
    set maxPageSize(size: number) {
      state.maxPageSize = size;
    },
    requests,
    messages,
    recordings,
    optedOut,
    landlines,
    callOutcomes,
    get callbackOrder() {
      return state.callbackOrder;
    },
    set callbackOrder(order: CallbackOrder) {
      state.callbackOrder = order;
    },
    placed,
    settled: async () => {
      while (playing.size > 0) await Promise.allSettled([...playing]);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        stopping.abort();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
