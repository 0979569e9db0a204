/**
 * The official `twilio` SDK (Calls slice) against the local Twilio-shaped API, and that API's
 * responses checked against Twilio's own OpenAPI document (a subset in tests/fixtures); and
 * Calls create, played out against a small stand-in for the stack.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newCallSid, type PlacedCall, parseTwiml, startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createTwilioCalls, TwilioAuthError, TwilioDeadlineError, TwilioUnavailableError } from '../../lib/twilio/client.js';
import { accountApi, OriginRequestClient } from '../../lib/twilio/rest.js';
import { verifyTwilioSignature } from '../../lib/twilio/signature.js';
import { ACCOUNT_SID, AUTH_TOKEN } from '../helpers.js';

// A subset of Twilio's own OpenAPI document (see its _source field), kept in the repository.
const OAI = new URL('../fixtures/twilio_api_v2010.calls.json', import.meta.url);

let api: TwilioApi;
beforeAll(async () => {
  api = await startTwilioApi({
    accountSid: ACCOUNT_SID,
    authTokens: [AUTH_TOKEN],
    apiKeys: { SK00000000000000000000000000000001: 'key-secret' },
  });
  const base = Date.parse('2026-11-20T00:00:00Z');
  for (let i = 0; i < 2500; i++) {
    api.calls.push({
      sid: newCallSid(),
      from: `+1415555${String(i).padStart(4, '0')}`,
      to: '+14155559876',
      status: 'no-answer',
      direction: 'inbound',
      startTime: new Date(base + i * 1000),
    });
  }
  api.calls.push({
    sid: newCallSid(),
    from: '+14155550001',
    to: '+14155559876',
    status: 'completed',
    direction: 'inbound',
    startTime: new Date(base),
    durationSeconds: 30,
  });
});
afterAll(async () => {
  await api.stop();
});

const client = (overrides: Partial<Parameters<typeof createTwilioCalls>[0]> = {}) =>
  createTwilioCalls({
    accountSid: ACCOUNT_SID,
    username: ACCOUNT_SID,
    password: AUTH_TOKEN,
    baseUrl: api.baseUrl,
    sleep: async () => {},
    ...overrides,
  });

/** The size of each page the client yields (calls inside the window). */
async function listAll(calls: ReturnType<typeof createTwilioCalls>, from: Date, to: Date) {
  const pages: number[] = [];
  for await (const page of calls.list('no-answer', from, to)) pages.push(page.calls.length);
  return pages;
}
const sum = (pages: number[]) => pages.reduce((a, b) => a + b, 0);

describe('the SDK against the local Twilio API', () => {
  it('lists a status in a time window in pages of 1000, following next_page_uri', async () => {
    const calls = client();
    const pages = await listAll(calls, new Date('2026-11-19T00:00:00Z'), new Date('2026-11-21T00:00:00Z'));
    expect(pages).toEqual([1000, 1000, 500]);
    expect(calls.requests()).toBe(3);
    const urls = api.requests.slice(-3).map((r) => new URL(r.url, api.baseUrl));
    expect(urls[0]?.searchParams.get('Status')).toBe('no-answer');
    expect(urls[0]?.searchParams.get('StartTime>')).toBe('2026-11-19T00:00:00Z');
    // Whole UTC days: the day after the window's end, so that a date-granular reading loses nothing.
    expect(urls[0]?.searchParams.get('StartTime<')).toBe('2026-11-22T00:00:00Z');
    expect(urls[0]?.searchParams.get('PageSize')).toBe('1000');
    expect(urls[1]?.searchParams.get('PageToken')).toMatch(/^PACA[0-9a-f]{32}$/);
  });

  it('keeps only the calls that started inside the window, under either reading of the date filters', async () => {
    for (const mode of ['exact', 'day'] as const) {
      api.dateFilters = mode;
      const seen: string[] = [];
      for await (const page of client({ pageSize: 500 }).list(
        'no-answer',
        new Date('2026-11-20T00:00:05Z'),
        new Date('2026-11-20T00:00:14Z'),
      )) {
        seen.push(...page.calls.map((c) => c.from));
      }
      expect(seen.sort(), mode).toEqual(Array.from({ length: 10 }, (_, i) => `+1415555${String(i + 5).padStart(4, '0')}`));
    }
    api.dateFilters = 'exact';
  });

  it('reads the local API in day mode as Twilio documents it: timestamps truncated to their date', async () => {
    api.dateFilters = 'day';
    const url = (q: string) => `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?Status=no-answer&PageSize=1&${q}`;
    const auth = { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` };
    const count = async (q: string) =>
      ((await (await fetch(`${api.baseUrl}${url(q)}`, { headers: auth })).json()) as { calls: unknown[] }).calls.length;
    // StartTime< 2026-11-20T00:41:00Z reads as "before 2026-11-20": none of that day's calls.
    expect(await count('StartTime%3C=2026-11-20T00:41:00Z')).toBe(0);
    expect(await count('StartTime%3E=2026-11-20T00:41:00Z')).toBe(1);
    api.dateFilters = 'exact';
    expect(await count('StartTime%3C=2026-11-20T00:41:00Z')).toBe(1);
  });

  it('accepts an API key and secret', async () => {
    const pages = await listAll(
      client({ username: 'SK00000000000000000000000000000001', password: 'key-secret' }),
      new Date('2026-11-20T00:00:00Z'),
      new Date('2026-11-20T00:00:00Z'),
    );
    expect(sum(pages)).toBe(1);
  });

  it('checks credentials with a Calls list of one: an API key passes, though it may not read the account', async () => {
    const key = client({ username: 'SK00000000000000000000000000000001', password: 'key-secret' });
    await expect(key.checkCredentials()).resolves.toBeUndefined();
    expect(new URL(api.requests.at(-1)?.url ?? '', api.baseUrl).searchParams.get('PageSize')).toBe('1');
    const account = await fetch(`${api.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}.json`, {
      headers: { Authorization: `Basic ${Buffer.from('SK00000000000000000000000000000001:key-secret').toString('base64')}` },
    });
    expect(account.status).toBe(403);
    await expect(client({ password: 'wrong' }).checkCredentials()).rejects.toThrow('Twilio credentials rejected (401)');
  });

  it('rides out a 429 storm and a 500, counting every attempt', async () => {
    api.faults.push({ kind: 'status', status: 429, times: 4 }, { kind: 'status', status: 500, times: 1 });
    const calls = client();
    const pages = await listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-20T00:00:04Z'));
    expect(sum(pages)).toBe(5);
    // The whole day is 3 pages; the first took 5 more attempts.
    expect(calls.requests()).toBe(3 + 5);
  });

  it('gives up after its bound with TwilioUnavailableError', async () => {
    api.faults.push({ kind: 'status', status: 429, times: 10 });
    const calls = client({ maxAttempts: 3 });
    await expect(listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-20T00:00:04Z'))).rejects.toThrow(
      TwilioUnavailableError,
    );
    expect(calls.requests()).toBe(3);
    api.faults.length = 0;
  });

  it('abandons a page slower than its deadline with TwilioDeadlineError, without retrying it', async () => {
    api.faults.push({ kind: 'delay', ms: 3_000, times: 1 });
    const end = Date.now() + 300;
    const calls = client({ deadlineMs: () => end - Date.now() });
    await expect(listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-20T00:00:04Z'))).rejects.toThrow(TwilioDeadlineError);
    // One attempt, cut at the deadline: neither the 15 s timeout nor a retry was waited for.
    expect(calls.requests()).toBe(1);
    expect(api.faults[0]?.times).toBe(0);
    api.faults.length = 0;
  });

  it('fails at once with a clear message on a wrong token (401)', async () => {
    const calls = client({ password: 'wrong-token' });
    await expect(listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-21T00:00:00Z'))).rejects.toThrow(
      new TwilioAuthError('Twilio credentials rejected (401): check TWILIO_ACCOUNT_SID and the auth token or API key'),
    );
    expect(calls.requests()).toBe(1);
  });

  it('fetches one call, and undefined for an unknown SID', async () => {
    const first = api.calls[0];
    expect(await client().fetch(first?.sid ?? '')).toMatchObject({
      sid: first?.sid,
      from: first?.from,
      status: 'no-answer',
      direction: 'inbound',
    });
    expect(await client().fetch(newCallSid())).toBeUndefined();
  });
});

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; $ref?: string; nullable?: boolean };
const doc = JSON.parse(readFileSync(OAI, 'utf8')) as {
  components: { schemas: Record<string, Schema> };
  paths: Record<string, { get: { responses: { 200: { content: { 'application/json': { schema: Schema } } } } } }>;
};
const resolve = (schema: Schema): Schema => (schema.$ref ? (doc.components.schemas[schema.$ref.split('/').at(-1) ?? ''] ?? {}) : schema);

/** Every property must be declared in the schema, with the declared JSON type. */
function conforms(value: unknown, schema: Schema, path: string): string[] {
  const s = resolve(schema);
  if (value === null) return s.nullable || s.type === undefined ? [] : [`${path} is null`];
  if (s.type === 'array')
    return Array.isArray(value) ? value.flatMap((v, i) => conforms(v, s.items ?? {}, `${path}[${i}]`)) : [`${path} not an array`];
  if (s.type === 'object' && s.properties) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path} not an object`];
    return Object.entries(value).flatMap(([k, v]) => {
      const prop = s.properties?.[k];
      return prop === undefined ? [`${path}.${k} is not in the schema`] : conforms(v, prop, `${path}.${k}`);
    });
  }
  if (s.type === 'integer') return Number.isInteger(value) ? [] : [`${path} not an integer`];
  if (s.type === 'string') return typeof value === 'string' ? [] : [`${path} not a string`];
  if (s.type === 'object') return typeof value === 'object' ? [] : [`${path} not an object`];
  return [];
}

describe("the local API's responses against Twilio's OpenAPI document", () => {
  const get = async (path: string) => {
    const response = await fetch(`${api.baseUrl}${path}`, {
      headers: { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` },
    });
    expect(response.status).toBe(200);
    const body: unknown = await response.json();
    return body;
  };

  it('a Calls list page conforms to ListCallResponse', async () => {
    const body = await get(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?Status=no-answer&PageSize=2`);
    const schema = doc.paths['/2010-04-01/Accounts/{AccountSid}/Calls.json']?.get.responses[200].content['application/json'].schema ?? {};
    expect(conforms(body, schema, 'page')).toEqual([]);
    if (typeof body !== 'object' || body === null || !('calls' in body) || !Array.isArray(body.calls)) throw new Error('not a page');
    expect(body.calls).toHaveLength(2);
    expect(body.calls[0]?.start_time).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('the fetched account conforms to api.v2010.account', async () => {
    const body = await get(`/2010-04-01/Accounts/${ACCOUNT_SID}.json`);
    expect(conforms(body, { $ref: '#/components/schemas/api.v2010.account' }, 'account')).toEqual([]);
  });

  it('a fetched call conforms to api.v2010.account.call', async () => {
    const body = await get(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${api.calls[0]?.sid}.json`);
    expect(conforms(body, { $ref: '#/components/schemas/api.v2010.account.call' }, 'call')).toEqual([]);
  });
});

describe('recordings on the local Twilio API (as Twilio serves them with media authentication on)', () => {
  const auth = { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` };
  const sid = `RE${'6'.repeat(32)}`;
  const url = (ext: string) => `${api.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${sid}${ext}`;

  it('serves its resource and its MP3 with the credential, 401 without, and deletes it once', async () => {
    const seeded = await fetch(`${api.baseUrl}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify([{ sid, callSid: newCallSid(), durationSeconds: 9 }]),
    });
    expect(seeded.status).toBe(201);
    const resource = await fetch(url('.json'), { headers: auth });
    expect(await resource.json()).toMatchObject({ sid, duration: '9', status: 'completed', source: 'RecordVerb' });
    const audio = await fetch(url('.mp3'), { headers: auth });
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await audio.arrayBuffer());
    // 250 frames of 36 ms (9 s), each an MPEG-1 Layer III header (32 kbps, 32 kHz, mono) and empty side information.
    expect(bytes.length).toBe(250 * 144);
    expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xfb, 0x18, 0xc0]);
    expect((await fetch(url('.mp3'))).status).toBe(401);
    expect((await fetch(url('.json'), { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(url('.json'), { method: 'DELETE', headers: auth })).status).toBe(404);
    expect((await fetch(url('.mp3'), { headers: auth })).status).toBe(404);
  });

  it('serves the WAV (its default, with no extension too) and the transcription, which goes with the recording', async () => {
    const wavSid = `RE${'7'.repeat(32)}`;
    const transcriptionSid = `TR${'7'.repeat(32)}`;
    const base = `${api.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}`;
    const seeded = await fetch(`${api.baseUrl}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify({
        sid: wavSid,
        callSid: newCallSid(),
        durationSeconds: 3,
        transcription: { sid: transcriptionSid, text: 'Call me' },
      }),
    });
    expect(seeded.status).toBe(201);
    for (const ext of ['.wav', '']) {
      const wav = await fetch(`${base}/Recordings/${wavSid}${ext}`, { headers: auth });
      expect(wav.headers.get('content-type')).toBe('audio/x-wav');
      const bytes = Buffer.from(await wav.arrayBuffer());
      // RIFF/WAVE, PCM 8 kHz mono 16-bit: 3 s are 48,000 bytes of samples after a 44-byte header.
      expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
      expect(bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
      expect([bytes.readUInt16LE(20), bytes.readUInt16LE(22), bytes.readUInt32LE(24), bytes.readUInt16LE(34)]).toEqual([1, 1, 8000, 16]);
      expect(bytes.readUInt32LE(40)).toBe(48_000);
      expect(bytes.length).toBe(44 + 48_000);
    }
    const transcription = await fetch(`${base}/Transcriptions/${transcriptionSid}.json`, { headers: auth });
    expect(await transcription.json()).toMatchObject({
      sid: transcriptionSid,
      recording_sid: wavSid,
      status: 'completed',
      transcription_text: 'Call me',
    });
    expect((await fetch(`${base}/Transcriptions/${transcriptionSid}.json`)).status).toBe(401);
    expect((await fetch(`${base}/Recordings/${wavSid}.json`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(`${base}/Transcriptions/${transcriptionSid}.json`, { headers: auth })).status).toBe(404);
  });

  it('refuses a recording it cannot keep', async () => {
    const refused = await fetch(`${api.baseUrl}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify({ sid: 'RE1', durationSeconds: 3 }),
    });
    expect(refused.status).toBe(400);
  });
});

describe('Calls create on the local Twilio API: the call placed and played out against the stack', () => {
  const AGENT = '+14155550100';
  const CUSTOMER = '+14155550142';
  const BUSINESS = '+14155559876';
  /** "Calling 4 1 5 5 5 5 0 1 4 2": 11 words at 2.5 a second. */
  const SAY_SECONDS = 5;

  /** A request the stand-in for the stack received: its params (a GET's from its query), and whether its signature holds. */
  interface Received {
    method: string;
    url: string;
    path: string;
    params: Record<string, string>;
    valid: boolean;
  }
  let placing: TwilioApi;
  let stack: Server;
  let stackUrl: string;
  let received: Received[] = [];
  /** The TwiML the stack answers the call's Url with. */
  let twiml = '';
  /** How long the stack takes to answer the Url. */
  let urlDelayMs = 0;

  beforeAll(async () => {
    placing = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN, 'a-secondary-token'] });
    stack = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const url = `${stackUrl}${req.url ?? ''}`;
        const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        const signature = String(req.headers['x-twilio-signature'] ?? '');
        received.push({
          method: req.method ?? '',
          url,
          path: new URL(url).pathname,
          params: req.method === 'GET' ? Object.fromEntries(new URL(url).searchParams) : body,
          // The project's own verifier, with the token the stack would have.
          valid: verifyTwilioSignature([AUTH_TOKEN], signature, url, req.method === 'GET' ? {} : body),
        });
        if (new URL(url).pathname === '/twilio/agent') {
          await new Promise((resolve) => setTimeout(resolve, urlDelayMs));
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          res.end(twiml);
        } else if (new URL(url).pathname === '/twilio/dial-status') {
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
        } else {
          res.writeHead(204);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => stack.listen(0, '127.0.0.1', resolve));
    stackUrl = `http://127.0.0.1:${(stack.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await placing.stop();
    stack.closeAllConnections();
    await new Promise((resolve) => stack.close(resolve));
  });
  beforeEach(() => {
    received = [];
    urlDelayMs = 0;
    twiml = dialTwiml();
  });
  afterEach(async () => {
    await placing.settled();
    // Every request the stack received was signed as Twilio signs, over the exact URL.
    expect(received.filter((r) => !r.valid).map((r) => r.url)).toEqual([]);
    placing.callOutcomes.clear();
    placing.callbackOrder = 'natural';
  });

  /** The stack's TwiML: a `<Say>`, then a `<Dial>` of the customer with its leg's status callback. */
  function dialTwiml(options: { detection?: boolean; timeout?: number } = {}): string {
    const timeout = options.timeout === undefined ? '' : ` timeout="${options.timeout}"`;
    const detection = options.detection === false ? '' : ' machineDetection="Enable"';
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<Response><Say>Calling 4 1 5 5 5 5 0 1 4 2</Say>',
      `<Dial callerId="${BUSINESS}" answerOnBridge="true" action="/twilio/dial-status?attempt=a1&amp;leg=1"${timeout}>`,
      `<Number${detection} statusCallback="${stackUrl}/twilio/call-status?attempt=a1" statusCallbackEvent="completed">${CUSTOMER}</Number>`,
      '</Dial></Response>',
    ].join('');
  }

  const rest = () =>
    accountApi(
      { accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: AUTH_TOKEN, baseUrl: placing.baseUrl },
      new OriginRequestClient(placing.baseUrl, 5_000),
    );
  /** Calls create through the official SDK, as the stack's call-back feature would, then its play-out. */
  async function place(overrides: Partial<Parameters<ReturnType<typeof rest>['calls']['create']>[0]> = {}): Promise<PlacedCall> {
    const call = await rest().calls.create({
      to: AGENT,
      from: BUSINESS,
      url: `${stackUrl}/twilio/agent?attempt=a1`,
      statusCallback: `${stackUrl}/twilio/agent-status?attempt=a1`,
      statusCallbackEvent: ['completed'],
      ...overrides,
    });
    await placing.settled();
    const placed = placing.placed.find((p) => p.sid === call.sid);
    if (placed === undefined) throw new Error(`${call.sid} was not placed`);
    expect(placed.done).toBe(true);
    return placed;
  }
  const auth = { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` };
  const fetchCall = async (sid: string) =>
    (await (await fetch(`${placing.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${sid}.json`, { headers: auth })).json()) as Record<
      string,
      unknown
    >;
  const at = (path: string) => received.filter((r) => r.path === path);

  it('answers 201 with the queued call before playing it out, as the SDK and Twilio’s schema expect', async () => {
    urlDelayMs = 1_000;
    const started = Date.now();
    const call = await rest().calls.create({ to: AGENT, from: BUSINESS, url: `${stackUrl}/twilio/agent?attempt=a1` });
    // Answered at once: the Url, which the stack answers 1 s later, is requested after the 201.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(call).toMatchObject({
      status: 'queued',
      direction: 'outbound-api',
      from: BUSINESS,
      to: AGENT,
      accountSid: ACCOUNT_SID,
      startTime: null,
      endTime: null,
      parentCallSid: null,
      uri: `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${call.sid}.json`,
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(placing.placed.find((p) => p.sid === call.sid)?.done).toBe(false);

    const raw = await fetch(`${placing.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: AGENT, From: BUSINESS, Url: `${stackUrl}/twilio/agent` }),
    });
    expect(raw.status).toBe(201);
    const body = (await raw.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'queued', direction: 'outbound-api', start_time: null, end_time: null, duration: null });
    expect(conforms(body, { $ref: '#/components/schemas/api.v2010.account.call' }, 'call')).toEqual([]);

    const unauthorized = await fetch(`${placing.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`, {
      method: 'POST',
      body: new URLSearchParams({ To: AGENT, From: BUSINESS, Url: `${stackUrl}/twilio/agent` }),
    });
    expect(unauthorized.status).toBe(401);
    await placing.settled();
    expect(placing.placed.find((p) => p.sid === call.sid)?.done).toBe(true);
  });

  it('refuses a create as Twilio does: 21201, 21211, 21213, 21205, and places nothing', async () => {
    const before = { calls: placing.calls.length, placed: placing.placed.length };
    const url = `${stackUrl}/twilio/agent`;
    const refusals = [
      [{ to: '', from: BUSINESS, url }, 21201, "No 'To' number is specified"],
      [{ to: '415-555', from: BUSINESS, url }, 21211, "Invalid 'To' Phone Number"],
      [{ to: AGENT, from: '', url }, 21213, "No 'From' number is specified"],
      [{ to: AGENT, from: BUSINESS }, 21205, 'Url parameter is required'],
    ] as const;
    for (const [params, code, message] of refusals) {
      await expect(rest().calls.create(params)).rejects.toMatchObject({
        status: 400,
        code,
        message,
        moreInfo: `https://www.twilio.com/docs/errors/${code}`,
      });
    }
    expect({ calls: placing.calls.length, placed: placing.placed.length }).toEqual(before);
    // Faults apply to the create as to the other routes.
    placing.faults.push({ kind: 'status', status: 503, times: 1, path: /Calls\.json$/ });
    await expect(rest().calls.create({ to: AGENT, from: BUSINESS, url })).rejects.toMatchObject({ status: 503 });
    expect(placing.calls.length).toBe(before.calls);
    expect(received).toEqual([]);
  });

  it('a human answer: the Url, then the leg’s status, the Dial action and the parent’s status, with their durations', async () => {
    placing.callOutcomes.set(CUSTOMER, { answer: 'human', seconds: 42 });
    const placed = await place();
    expect(placed).toMatchObject({ answer: 'human', twiml, order: 'natural' });
    expect(placed.error).toBeUndefined();
    expect(received.map((r) => `${r.method} ${r.url.slice(stackUrl.length)}`)).toEqual([
      'POST /twilio/agent?attempt=a1',
      'POST /twilio/call-status?attempt=a1',
      // Relative to the Url, its entity decoded.
      'POST /twilio/dial-status?attempt=a1&leg=1',
      'POST /twilio/agent-status?attempt=a1',
    ]);
    const [answered, leg, action, parent] = received.map((r) => r.params);
    const [childSid] = placed.childSids;
    expect(answered).toEqual({
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      CallSid: placed.sid,
      CallStatus: 'in-progress',
      Called: AGENT,
      Caller: BUSINESS,
      Direction: 'outbound-api',
      From: BUSINESS,
      To: AGENT,
    });
    expect(leg).toMatchObject({
      CallSid: childSid,
      ParentCallSid: placed.sid,
      CallStatus: 'completed',
      CallDuration: '42',
      AnsweredBy: 'human',
      Direction: 'outbound-dial',
      From: BUSINESS,
      To: CUSTOMER,
      Called: CUSTOMER,
      Caller: BUSINESS,
      SequenceNumber: '0',
      CallbackSource: 'call-progress-events',
    });
    expect(leg?.Timestamp).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(action).toMatchObject({
      CallSid: placed.sid,
      CallStatus: 'in-progress',
      Direction: 'outbound-api',
      From: BUSINESS,
      To: AGENT,
      DialCallSid: childSid,
      DialCallStatus: 'completed',
      DialCallDuration: '42',
    });
    expect(parent).toMatchObject({
      CallSid: placed.sid,
      CallStatus: 'completed',
      CallDuration: String(SAY_SECONDS + 42),
      Direction: 'outbound-api',
      SequenceNumber: '0',
      CallbackSource: 'call-progress-events',
    });
    expect(parent).not.toHaveProperty('AnsweredBy');
    // What the API kept of it: each request with the status the stack answered.
    expect(placed.requests.map((r) => [r.kind, r.status])).toEqual([
      ['url', 200],
      ['child-status', 204],
      ['dial-action', 200],
      ['status', 204],
    ]);

    // The Calls list shows both legs as Twilio would.
    const legs = (await (
      await fetch(`${placing.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?ParentCallSid=${placed.sid}`, { headers: auth })
    ).json()) as { calls: Record<string, unknown>[] };
    expect(legs.calls).toEqual([
      expect.objectContaining({
        sid: childSid,
        parent_call_sid: placed.sid,
        status: 'completed',
        duration: '42',
        direction: 'outbound-dial',
        from: BUSINESS,
        to: CUSTOMER,
        answered_by: 'human',
      }),
    ]);
    const agent = await fetchCall(placed.sid);
    expect(agent).toMatchObject({ status: 'completed', duration: String(SAY_SECONDS + 42), parent_call_sid: null, answered_by: null });
    expect(Date.parse(String(agent.end_time)) - Date.parse(String(agent.start_time))).toBe((SAY_SECONDS + 42) * 1000);
  });

  it('a machine answers the customer’s phone: AnsweredBy machine_start, with detection only', async () => {
    placing.callOutcomes.set(CUSTOMER, { answer: 'machine_start', seconds: 12 });
    const placed = await place();
    expect(at('/twilio/call-status')[0]?.params).toMatchObject({
      CallStatus: 'completed',
      CallDuration: '12',
      AnsweredBy: 'machine_start',
    });
    expect(at('/twilio/dial-status')[0]?.params).toMatchObject({ DialCallStatus: 'completed', DialCallDuration: '12' });
    expect(await fetchCall(placed.childSids[0] ?? '')).toMatchObject({ answered_by: 'machine_start', duration: '12' });

    // Without machineDetection on the <Number>, Twilio says nothing of who answered.
    received = [];
    twiml = dialTwiml({ detection: false });
    const undetected = await place();
    expect(at('/twilio/call-status')[0]?.params).not.toHaveProperty('AnsweredBy');
    expect(await fetchCall(undetected.childSids[0] ?? '')).toMatchObject({ answered_by: null, status: 'completed', duration: '12' });

    // MachineDetection on the create: the agent's answer is told in its Url request and status callback.
    received = [];
    placing.callOutcomes.set(AGENT, { answer: 'machine_end_beep', seconds: 30 });
    const detected = await place({ machineDetection: 'DetectMessageEnd' });
    expect(at('/twilio/agent')[0]?.params).toMatchObject({ CallStatus: 'in-progress', AnsweredBy: 'machine_end_beep' });
    expect(at('/twilio/agent-status')[0]?.params).toMatchObject({ CallStatus: 'completed', AnsweredBy: 'machine_end_beep' });
    expect(await fetchCall(detected.sid)).toMatchObject({ answered_by: 'machine_end_beep' });
  });

  it('the customer does not answer: DialCallStatus no-answer, the leg no-answer with 0 s, the parent rang out the Dial timeout', async () => {
    placing.callOutcomes.set(CUSTOMER, { answer: 'no-answer', seconds: 0 });
    twiml = dialTwiml({ timeout: 20 });
    const placed = await place();
    expect(received.map((r) => r.path)).toEqual(['/twilio/agent', '/twilio/call-status', '/twilio/dial-status', '/twilio/agent-status']);
    expect(at('/twilio/call-status')[0]?.params).toMatchObject({ CallStatus: 'no-answer', CallDuration: '0' });
    expect(at('/twilio/call-status')[0]?.params).not.toHaveProperty('AnsweredBy');
    expect(at('/twilio/dial-status')[0]?.params).toMatchObject({
      CallStatus: 'in-progress',
      DialCallSid: placed.childSids[0],
      DialCallStatus: 'no-answer',
      DialCallDuration: '0',
    });
    expect(at('/twilio/agent-status')[0]?.params).toMatchObject({ CallStatus: 'completed', CallDuration: String(SAY_SECONDS + 20) });
    expect(await fetchCall(placed.childSids[0] ?? '')).toMatchObject({ status: 'no-answer', duration: '0', parent_call_sid: placed.sid });
  });

  it('the agent does not answer: only the parent’s no-answer callback, the Url never requested', async () => {
    placing.callOutcomes.set(AGENT, { answer: 'no-answer', seconds: 0 });
    const placed = await place({ timeout: 25 });
    expect(received.map((r) => r.path)).toEqual(['/twilio/agent-status']);
    expect(received[0]?.params).toMatchObject({
      CallSid: placed.sid,
      CallStatus: 'no-answer',
      CallDuration: '0',
      Direction: 'outbound-api',
      From: BUSINESS,
      To: AGENT,
      SequenceNumber: '0',
    });
    expect(placed).toMatchObject({ answer: 'no-answer', twiml: null, childSids: [] });
    const agent = await fetchCall(placed.sid);
    expect(agent).toMatchObject({ status: 'no-answer', duration: '0' });
    // It rang for its Timeout.
    expect(Date.parse(String(agent.end_time)) - Date.parse(String(agent.start_time))).toBe(25_000);

    // Busy: the same, at once.
    received = [];
    placing.callOutcomes.set(AGENT, { answer: 'busy', seconds: 0 });
    await place();
    expect(received.map((r) => [r.path, r.params.CallStatus])).toEqual([['/twilio/agent-status', 'busy']]);
  });

  it('delivers the last callbacks in reverse when told so over HTTP, with the outcomes scripted there', async () => {
    const outcomes = await fetch(`${placing.baseUrl}/__local/call-outcomes`, {
      method: 'POST',
      body: JSON.stringify({ order: 'reversed', outcomes: [{ number: CUSTOMER, answer: 'human', seconds: 7 }] }),
    });
    expect(outcomes.status).toBe(201);
    expect(await (await fetch(`${placing.baseUrl}/__local/call-outcomes`)).json()).toEqual({
      order: 'reversed',
      outcomes: [{ number: CUSTOMER, answer: 'human', seconds: 7 }],
    });
    for (const bad of [
      { order: 'sideways' },
      [{ number: CUSTOMER, answer: 'maybe' }],
      [{ number: CUSTOMER, answer: 'human', seconds: -1 }],
      {},
    ]) {
      const refused = await fetch(`${placing.baseUrl}/__local/call-outcomes`, { method: 'POST', body: JSON.stringify(bad) });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
    }
    const placed = await place();
    expect(placed.order).toBe('reversed');
    expect(received.map((r) => r.path)).toEqual(['/twilio/agent', '/twilio/agent-status', '/twilio/dial-status', '/twilio/call-status']);
    // Their content is the same: only the order changes.
    expect(at('/twilio/agent-status')[0]?.params).toMatchObject({ CallStatus: 'completed', CallDuration: String(SAY_SECONDS + 7) });
    expect(at('/twilio/call-status')[0]?.params).toMatchObject({ CallStatus: 'completed', CallDuration: '7', SequenceNumber: '0' });
    const listed = (await (await fetch(`${placing.baseUrl}/__local/placed`)).json()) as PlacedCall[];
    expect(listed.find((p) => p.sid === placed.sid)?.requests.map((r) => r.kind)).toEqual(['url', 'status', 'dial-action', 'child-status']);

    expect((await fetch(`${placing.baseUrl}/__local/call-outcomes`, { method: 'DELETE' })).status).toBe(200);
    expect(placing.callbackOrder).toBe('natural');
    expect(placing.callOutcomes.size).toBe(0);
  });

  it('without a <Dial>: the call completes after its <Say>; every event asked for, by GET, numbered in order', async () => {
    twiml = '<Response><Say voice="alice">Nobody to call back. Goodbye.</Say><Hangup/><Say>never said</Say></Response>';
    const placed = await place({
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      statusCallbackMethod: 'GET',
      method: 'GET',
    });
    expect(placed.childSids).toEqual([]);
    expect(received.map((r) => [r.method, r.path, r.params.CallStatus, r.params.SequenceNumber])).toEqual([
      ['GET', '/twilio/agent-status', 'initiated', '0'],
      ['GET', '/twilio/agent-status', 'ringing', '1'],
      ['GET', '/twilio/agent-status', 'in-progress', '2'],
      ['GET', '/twilio/agent', 'in-progress', undefined],
      ['GET', '/twilio/agent-status', 'completed', '3'],
    ]);
    // The callback's own query string first, exactly as given, then Twilio's params.
    expect(received[0]?.url).toMatch(new RegExp(`^${stackUrl}/twilio/agent-status\\?attempt=a1&AccountSid=`));
    // "Nobody to call back. Goodbye.": 5 words, 2 s.
    expect(received.at(-1)?.params.CallDuration).toBe('2');
    expect(await fetchCall(placed.sid)).toMatchObject({ status: 'completed', duration: '2' });
  });

  it('signs with the first auth token only: the stack’s check fails with any other', async () => {
    const placed = await place();
    expect(received.map((r) => r.url)).toEqual(placed.requests.map((r) => r.url));
    for (const [i, r] of received.entries()) {
      const signature = placed.requests[i]?.signature ?? '';
      expect(verifyTwilioSignature([AUTH_TOKEN], signature, r.url, r.method === 'GET' ? {} : r.params)).toBe(true);
      expect(verifyTwilioSignature(['a-secondary-token'], signature, r.url, r.method === 'GET' ? {} : r.params)).toBe(false);
      // A changed query string is another URL: the signature no longer holds.
      expect(verifyTwilioSignature([AUTH_TOKEN], signature, `${r.url}x`, r.method === 'GET' ? {} : r.params)).toBe(false);
    }
  });

  it('reads TwiML tolerantly: entities, CDATA, comments, single quotes, unclosed elements', () => {
    const response = parseTwiml(
      `<?xml version="1.0"?><!-- a comment --><Response><Say><![CDATA[Tom & Jerry]]></Say>` +
        `<Dial action='/a?x=1&amp;y=&#50;'><Number statusCallback="/s?q=1&amp;r=2">+14155550142</Number>`,
    );
    expect(response?.name).toBe('Response');
    const [say, dial] = (response?.children ?? []).filter((c) => typeof c !== 'string');
    expect(say).toMatchObject({ name: 'Say', children: ['Tom & Jerry'] });
    expect(dial).toMatchObject({
      name: 'Dial',
      attributes: { action: '/a?x=1&y=2' },
      children: [{ name: 'Number', attributes: { statusCallback: '/s?q=1&r=2' }, children: ['+14155550142'] }],
    });
    expect(parseTwiml('not xml at all')).toBeUndefined();
  });
});
