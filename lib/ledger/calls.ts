/**
 * The domain: what each Twilio callback reports about its root call (the evidence the whole-call
 * rule in outcome.ts decides from), keyed by the root call. Plain functions over already-parsed
 * form parameters; no I/O.
 */

import { isOneOf } from '../table/items.js';
import { CALL_STATUSES, DIAL_CALL_STATUSES } from '../twilio/call-status.js';
import { type CallFacts, isMachine, isTerminal, type LegFact, QUEUE_RESULTS, type TerminalStatus } from './outcome.js';

export const MISSED_STATUSES = ['no-answer', 'busy', 'failed', 'canceled'] as const;
export type MissedStatus = (typeof MISSED_STATUSES)[number];

/**
 * What decided a call: the root's own final status callback, a Dial or queue action whose reply
 * ended the call, the settle time with no final callback, or the reconciliation. Items and
 * counters written by version 0.1.0 say `webhook` for `status-callback`; they read as it
 * ({@link sourceOf}).
 */
export const SOURCES = ['status-callback', 'dial-action', 'queue-action', 'recording', 'settle', 'reconcile'] as const;
export type Source = (typeof SOURCES)[number];
/** Older names of sources, still read. */
export const LEGACY_SOURCES: Readonly<Record<string, Source>> = { webhook: 'status-callback' };

/** A stored source name as a source (legacy names included), or undefined when unknown. */
export function sourceOf(value: unknown): Source | undefined {
  if (typeof value !== 'string') return undefined;
  return SOURCES.find((source) => source === value) ?? LEGACY_SOURCES[value];
}

/** One fact about a root call, from one callback (or one call listed by the REST API). */
export type Evidence =
  /**
   * A `<Dial>` child leg ended (its own status callback), with how long it talked and when it
   * was answered (its end less its duration) when the callback says.
   */
  | { kind: 'leg'; legSid: string; status: TerminalStatus; machine: boolean; durationSeconds?: number; answeredAt?: string }
  /** A `<Dial action>`: `DialCallStatus` for the leg `DialCallSid` (undefined when it names none). */
  | { kind: 'dial'; dialSid: string | undefined; status: (typeof DIAL_CALL_STATUSES)[number] }
  /** An `<Enqueue action>`: `QueueResult`, and `QueueTime` when the caller was queued. */
  | { kind: 'queue'; queueSid: string; result: (typeof QUEUE_RESULTS)[number]; seconds: number | undefined }
  /** The root call's own final status (the number's status callback, or the REST API). */
  | { kind: 'root'; status: TerminalStatus; durationSeconds: number | undefined }
  /**
   * A recording of the call is ready (or failed, or `absent`: nothing was recorded), from its
   * `recordingStatusCallback`; `voice`: a message (`RecordingSource` `RecordVerb`, or none said),
   * not a recorded conversation (`DialVerb`…).
   */
  | { kind: 'recording'; recordingSid: string; status: RecordingStatus; durationSeconds: number | undefined; voice: boolean }
  /** A recording's transcription (`transcribeCallback`): its text when `completed`. */
  | { kind: 'transcription'; recordingSid: string; status: 'completed' | 'failed'; text: string | undefined };

/** `RecordingStatus` of a recording status callback that the ledger keeps (`in-progress` says nothing yet). */
export const RECORDING_STATUSES = ['completed', 'failed', 'absent'] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

/** A call leg as a callback or the REST API describes it. */
export interface CallLeg {
  direction: string;
  from: string;
  to: string;
}

/** An answered call with the customer's number, as the reconciliation found it in its listing. */
export interface Reach {
  /** The answering CallSid. */
  id: string;
  /** When it was answered (its end less its duration). */
  at: string;
  by: 'callback' | 'returned-call';
}

/** What one callback (or the reconciliation) reports about one root call. */
export interface CallReport {
  /** `ParentCallSid ?? CallSid`: the child legs of one `<Dial>` and their parent are one call. */
  rootCallSid: string;
  accountSid: string;
  /** The legs it names (the root itself and/or a child leg). */
  legCallSids: string[];
  /** What it says; empty for a status that is not final (`ringing`, `in-progress`…). */
  evidence: Evidence[];
  /** The root leg's direction and numbers, when the report is about the root (not a child leg). */
  root: CallLeg | undefined;
  /** Whether the call has ended with this report: the root's final status, or an action whose reply ended it. */
  ends: boolean;
  /** When Twilio sent it (`Timestamp`), ISO 8601. */
  reportedAt: string | undefined;
  /** When the call started, where the report tells (the REST API; the root's end less its duration). */
  startedAt: string | undefined;
  /** What it is, as the source of a decision it makes. */
  source: Exclude<Source, 'settle'>;
  /**
   * The reconciliation's answered calls with the customer since the call (from its own listing):
   * the contact uses these instead of asking Twilio. Undefined: not looked for.
   */
  reached?: Reach[];
}

/** Input that is not a valid Twilio callback: maps to a 4xx, nothing is written. */
export class InvalidCallbackError extends Error {
  override name = 'InvalidCallbackError';
}

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const QUEUE_SID = /^QU[0-9a-fA-F]{32}$/;
/** A Twilio RecordingSid. */
export const RECORDING_SID = /^RE[0-9a-fA-F]{32}$/;

type Params = Readonly<Record<string, string>>;

/** The root call of a leg: its parent for a `<Dial>` child leg, itself otherwise. */
export function rootCallSid(callSid: string, parentCallSid: string | null | undefined): string {
  return parentCallSid ?? callSid;
}

/**
 * The external party of a call leg, by direction: `From` of an inbound call, `To` of an
 * outbound-api call; undefined for a `<Dial>` child leg (`outbound-dial`), which does not carry it.
 */
export function customerNumber(leg: CallLeg): string | undefined {
  if (leg.direction === 'inbound') return leg.from || undefined;
  if (leg.direction === 'outbound-api') return leg.to || undefined;
  return undefined;
}

/** The Twilio number of a call leg (the other end from the customer); undefined for a child leg. */
export function lineNumber(leg: CallLeg): string | undefined {
  if (leg.direction === 'inbound') return leg.to || undefined;
  if (leg.direction === 'outbound-api') return leg.from || undefined;
  return undefined;
}

const legOf = (params: Params): CallLeg => ({ direction: params.Direction ?? '', from: params.From ?? '', to: params.To ?? '' });

function requireMatch(params: Params, name: string, pattern: RegExp, what: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new InvalidCallbackError(`${name} is required`);
  if (!pattern.test(value)) throw new InvalidCallbackError(`${name} is not a valid ${what}`);
  return value;
}

function optionalSid(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (!CALL_SID.test(value)) throw new InvalidCallbackError(`${name} is not a valid Twilio SID`);
  return value;
}

function requireOneOf<T extends string>(params: Params, name: string, values: readonly T[], what: string): T {
  const value = params[name];
  if (value === undefined || value === '') throw new InvalidCallbackError(`${name} is required`);
  if (!isOneOf(values, value)) throw new InvalidCallbackError(`${name} "${value.slice(0, 32)}" is not ${what}`);
  return value;
}

/** A whole number of seconds, or undefined when absent; malformed is refused. */
function seconds(params: Params, name: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,7}$/.test(value)) throw new InvalidCallbackError(`${name} is not a whole number of seconds`);
  return Number(value);
}

/** Twilio's `Timestamp` (RFC 2822) as ISO 8601; undefined when absent or unparsable. */
export function parseTwilioTimestamp(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const minus = (iso: string | undefined, s: number | undefined): string | undefined =>
  iso === undefined || s === undefined ? undefined : new Date(Date.parse(iso) - s * 1000).toISOString();

/** A leg's end as evidence; its duration and answer time only for a leg that was answered. */
function legEvidence(
  legSid: string,
  status: TerminalStatus,
  machine: boolean,
  durationSeconds: number | undefined,
  answeredAt: string | undefined,
): Evidence {
  if (status !== 'completed' || durationSeconds === undefined) return { kind: 'leg', legSid, status, machine };
  return { kind: 'leg', legSid, status, machine, durationSeconds, ...(answeredAt === undefined ? {} : { answeredAt }) };
}

/** The parameters every callback about a call carries. */
function base(params: Params) {
  return {
    callSid: requireMatch(params, 'CallSid', CALL_SID, 'Twilio SID'),
    accountSid: requireMatch(params, 'AccountSid', ACCOUNT_SID, 'Twilio SID'),
    reportedAt: parseTwilioTimestamp(params.Timestamp),
  };
}

/**
 * A status callback of any call leg: a `<Dial>` child leg's end (`ParentCallSid` set), or the
 * root call's own end (the number's status callback; an outbound-api call is its own root). A
 * status that is not final reports nothing.
 * @throws InvalidCallbackError when a required parameter is missing or malformed.
 */
export function classifyStatusCallback(params: Params): CallReport {
  const { callSid, accountSid, reportedAt } = base(params);
  const status = requireOneOf(params, 'CallStatus', CALL_STATUSES, 'a Twilio call status');
  const parent = optionalSid(params, 'ParentCallSid');
  const duration = seconds(params, 'CallDuration');
  const root = rootCallSid(callSid, parent);
  const final = isTerminal(status);
  if (parent !== undefined) {
    return {
      rootCallSid: root,
      accountSid,
      legCallSids: [root, callSid],
      evidence: final ? [legEvidence(callSid, status, isMachine(params.AnsweredBy), duration, minus(reportedAt, duration))] : [],
      root: undefined,
      ends: false,
      reportedAt,
      startedAt: undefined,
      source: 'status-callback',
    };
  }
  return {
    rootCallSid: root,
    accountSid,
    legCallSids: [root],
    evidence: final ? [{ kind: 'root', status, durationSeconds: duration }] : [],
    root: legOf(params),
    ends: final,
    reportedAt,
    startedAt: final ? minus(reportedAt, duration) : undefined,
    source: 'status-callback',
  };
}

/**
 * A `<Dial action>` callback (`CallSid` is the parent, `DialCallSid` the dialled leg when there
 * was one). `ends`: whether the reply to it ends the call.
 * @throws InvalidCallbackError when a required parameter is missing or malformed.
 */
export function classifyDialAction(params: Params, ends: boolean): CallReport {
  const { callSid, accountSid, reportedAt } = base(params);
  const status = requireOneOf(params, 'DialCallStatus', DIAL_CALL_STATUSES, 'a Twilio call status');
  const dialSid = optionalSid(params, 'DialCallSid');
  seconds(params, 'DialCallDuration');
  return {
    rootCallSid: callSid,
    accountSid,
    legCallSids: dialSid === undefined ? [callSid] : [callSid, dialSid],
    evidence: [{ kind: 'dial', dialSid, status }],
    root: legOf(params),
    ends,
    reportedAt,
    startedAt: undefined,
    source: 'dial-action',
  };
}

/**
 * An `<Enqueue action>` callback: the caller left the queue (`QueueResult`); `QueueTime` is how
 * long they waited. `ends`: whether the reply to it ends the call.
 * @throws InvalidCallbackError when a required parameter is missing or malformed.
 */
export function classifyQueueResult(params: Params, ends: boolean): CallReport {
  const { callSid, accountSid, reportedAt } = base(params);
  const result = requireOneOf(params, 'QueueResult', QUEUE_RESULTS, 'a Twilio queue result');
  const queueSid =
    params.QueueSid === undefined || params.QueueSid === '' ? '-' : requireMatch(params, 'QueueSid', QUEUE_SID, 'Twilio SID');
  return {
    rootCallSid: callSid,
    accountSid,
    legCallSids: [callSid],
    // `redirected`: the call went on elsewhere; nothing is known yet of how it ends.
    evidence: result === 'redirected' ? [] : [{ kind: 'queue', queueSid, result, seconds: seconds(params, 'QueueTime') }],
    root: legOf(params),
    ends: ends && result !== 'redirected',
    reportedAt,
    startedAt: undefined,
    source: 'queue-action',
  };
}

/**
 * A recording status callback (`recordingStatusCallback` of `<Record>`, or of `<Dial record>`):
 * `CallSid` is the call that was recorded (for `<Record>`, the root). `in-progress` reports nothing.
 * @throws InvalidCallbackError when a required parameter is missing or malformed.
 */
export function classifyRecordingStatus(params: Params): CallReport {
  const { callSid, accountSid, reportedAt } = base(params);
  const recordingSid = requireMatch(params, 'RecordingSid', RECORDING_SID, 'Twilio SID');
  const raw = params.RecordingStatus ?? '';
  if (raw !== 'in-progress' && !isOneOf(RECORDING_STATUSES, raw))
    throw new InvalidCallbackError('RecordingStatus is not a Twilio recording status');
  const durationSeconds = seconds(params, 'RecordingDuration');
  const source = params.RecordingSource ?? '';
  if (!/^[A-Za-z]{0,40}$/.test(source)) throw new InvalidCallbackError('RecordingSource is malformed');
  return {
    rootCallSid: callSid,
    accountSid,
    legCallSids: [callSid],
    evidence:
      raw === 'in-progress'
        ? []
        : [
            {
              kind: 'recording',
              recordingSid,
              status: raw as RecordingStatus,
              durationSeconds,
              voice: source === 'RecordVerb' || source === '',
            },
          ],
    root: undefined,
    ends: false,
    reportedAt,
    startedAt: undefined,
    source: 'recording',
  };
}

/** Transcriptions longer than this are kept cut (Twilio transcribes at most 2 minutes). */
export const TRANSCRIPT_MAX_CHARS = 4_000;

/**
 * A transcription callback (`transcribeCallback` of `<Record transcribe>`): its text when
 * `TranscriptionStatus` is `completed`. `CallSid` is the recorded call.
 * @throws InvalidCallbackError when a required parameter is missing or malformed.
 */
export function classifyTranscription(params: Params): CallReport {
  const { callSid, accountSid, reportedAt } = base(params);
  const recordingSid = requireMatch(params, 'RecordingSid', RECORDING_SID, 'Twilio SID');
  const status = params.TranscriptionStatus;
  if (status !== 'completed' && status !== 'failed') throw new InvalidCallbackError('TranscriptionStatus is not completed or failed');
  const text = status === 'completed' ? (params.TranscriptionText ?? '').slice(0, TRANSCRIPT_MAX_CHARS) : undefined;
  return {
    rootCallSid: callSid,
    accountSid,
    legCallSids: [callSid],
    evidence: [{ kind: 'transcription', recordingSid, status, text }],
    root: undefined,
    ends: false,
    reportedAt,
    startedAt: undefined,
    source: 'recording',
  };
}

/** The facts a set of evidence makes, added to `facts` (a new object). */
export function withEvidence(facts: CallFacts, evidence: readonly Evidence[], ended: boolean): CallFacts {
  const legs = new Map(facts.legs);
  const dials = new Map(facts.dials);
  const queues = new Map(facts.queues);
  const recordings = new Map(facts.recordings ?? []);
  let root = facts.root;
  for (const e of evidence) {
    if (e.kind === 'leg') legs.set(e.legSid, legFact(e));
    else if (e.kind === 'dial') dials.set(e.dialSid ?? '-', e.status);
    else if (e.kind === 'queue') queues.set(e.queueSid, { result: e.result, seconds: e.seconds });
    else if (e.kind === 'recording') {
      const known = recordings.get(e.recordingSid);
      recordings.set(e.recordingSid, {
        ...known,
        status: e.status,
        seconds: e.durationSeconds,
        voice: e.voice,
      });
    } else if (e.kind === 'transcription') {
      const known = recordings.get(e.recordingSid);
      recordings.set(e.recordingSid, {
        status: known?.status,
        seconds: known?.seconds,
        voice: known?.voice ?? true,
        transcript: e.text ?? null,
      });
    } else root = { status: e.status, durationSeconds: e.durationSeconds };
  }
  return { ...facts, legs, dials, queues, recordings, root, ended: facts.ended || ended };
}

/** What a leg's evidence tells of it, as the facts hold it. */
const legFact = (e: Extract<Evidence, { kind: 'leg' }>): LegFact => ({
  status: e.status,
  machine: e.machine,
  ...(e.durationSeconds === undefined ? {} : { durationSeconds: e.durationSeconds }),
  ...(e.answeredAt === undefined ? {} : { answeredAt: e.answeredAt }),
});

export const NO_FACTS: CallFacts = {
  legs: new Map(),
  dials: new Map(),
  queues: new Map(),
  recordings: new Map(),
  root: undefined,
  ended: false,
};
