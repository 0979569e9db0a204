/**
 * The whole-call rule, as a pure function of the evidence about one root call (every leg, the
 * Dial and queue results, the root's own end): answered, missed (and why), or not missed. No I/O;
 * the store (lib/ledger/store.ts) records evidence as it arrives and applies what this decides.
 *
 * A root call is ANSWERED when any evidence shows a person took it: a `<Dial>` leg that ended
 * `completed` and was not answered by a machine (`AnsweredBy` `machine_*` or `fax`), a Dial
 * action with `DialCallStatus` `completed`/`answered` for a leg not known to be a machine, an
 * `<Enqueue action>` with `QueueResult` `bridged` (or `bridging-in-process`,
 * `redirected-from-bridged`). Answered is final: later evidence never unanswers a call.
 *
 * Otherwise it is MISSED once it has ended when Twilio says so on the root itself, or when the
 * caller reached something meant to connect them to a person (a `<Dial>`, a queue). A call that
 * TwiML alone handled (an IVR, a message) is not missed, unless the caller left a voicemail
 * (`<Record>`, at least `VOICEMAIL_MIN_SECONDS`: reason `voicemail`) or `IVR_HANGUPS_MISSED=true`.
 */
import type { CallStatus, DialCallStatus } from '../twilio/call-status.js';
import type { MissedStatus } from './calls.js';

export const MISSED_REASONS = [
  'no-answer',
  'busy',
  'failed',
  'abandoned',
  'short-abandoned',
  'queue-abandoned',
  'queue-full',
  'queue-left',
  'ivr',
  'voicemail',
  'canceled',
] as const;
export type MissedReason = (typeof MISSED_REASONS)[number];

/** `QueueResult` of an `<Enqueue action>` callback. */
export const QUEUE_RESULTS = [
  'bridged',
  'bridging-in-process',
  'error',
  'hangup',
  'leave',
  'redirected',
  'redirected-from-bridged',
  'queue-full',
  'system-error',
] as const;
export type QueueResult = (typeof QUEUE_RESULTS)[number];

/** The terminal call statuses: a leg or a root with one of these has ended. */
export const TERMINAL_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export const isTerminal = (status: CallStatus): status is TerminalStatus => TERMINAL_STATUSES.some((s) => s === status);

/** `AnsweredBy` values that are not a person. */
export const isMachine = (answeredBy: string | undefined): boolean =>
  answeredBy !== undefined && (answeredBy.startsWith('machine') || answeredBy === 'fax');

/** A `<Dial>` leg's end: its status, whether a machine answered, and (answered) how long and since when. */
export interface LegFact {
  status: TerminalStatus;
  machine: boolean;
  durationSeconds?: number;
  /** When it was answered (ISO 8601): its end less its duration. */
  answeredAt?: string;
}

/** What is known of one root call: the facts its callbacks (or the REST API) reported. */
export interface CallFacts {
  /** Each `<Dial>` child leg's final status, and whether a machine answered it. */
  legs: ReadonlyMap<string, LegFact>;
  /** Each Dial action's `DialCallStatus`, by its `DialCallSid` (`-` when it names none). */
  dials: ReadonlyMap<string, DialCallStatus>;
  /** Each `<Enqueue action>` result, by `QueueSid`, with `QueueTime` in seconds when given. */
  queues: ReadonlyMap<string, { result: QueueResult; seconds: number | undefined }>;
  /**
   * Each recording of the call by `RecordingSid`: its status and seconds when its status callback
   * came, whether it is a message (`<Record>`, not a recorded conversation), and its transcript
   * (`null`: the transcription failed; absent: none came).
   */
  recordings?: ReadonlyMap<string, RecordingFact>;
  /** The root's own final status and its `CallDuration`, from its status callback or the REST API. */
  root: { status: TerminalStatus; durationSeconds: number | undefined } | undefined;
  /** The root is an inbound call (a call TwiML alone handled is `ivr` only for inbound calls). */
  inbound?: boolean;
  /**
   * Whether the call is known to have ended: the root's final status, a Dial or queue action
   * whose reply ended the call, the settle time passed with no more evidence, or the REST API.
   */
  ended: boolean;
}

export interface RecordingFact {
  status: 'completed' | 'failed' | 'absent' | undefined;
  seconds: number | undefined;
  voice: boolean;
  transcript?: string | null;
}

/** The voicemail a call holds: the longest message recorded of at least `minSeconds`; undefined when none. */
export function voicemailOf(
  facts: CallFacts,
  minSeconds: number,
): { recordingSid: string; durationSeconds: number; transcript: string | null | undefined } | undefined {
  let best: { recordingSid: string; durationSeconds: number; transcript: string | null | undefined } | undefined;
  for (const [recordingSid, r] of facts.recordings ?? []) {
    if (r.status !== 'completed' || !r.voice || r.seconds === undefined || r.seconds < minSeconds) continue;
    if (best === undefined || r.seconds > best.durationSeconds)
      best = { recordingSid, durationSeconds: r.seconds, transcript: r.transcript };
  }
  return best;
}

export interface OutcomeSettings {
  /** `MISSED_INCLUDE_CANCELED`: a caller who hung up while it rang is reason `canceled` (its old meaning). */
  includeCanceled: boolean;
  /** `SHORT_ABANDON_SECONDS`: a hang-up within this is `short-abandoned`. */
  shortAbandonSeconds: number;
  /** `IVR_HANGUPS_MISSED`: a call TwiML alone handled is missed (reason `ivr`). */
  ivrHangupsMissed: boolean;
  /** `VOICEMAIL_MIN_SECONDS`: a message shorter than this is no voicemail (default 3). */
  voicemailMinSeconds?: number;
}

/** `VOICEMAIL_MIN_SECONDS`' default: a shorter recording is a hang-up at the beep, not a message. */
export const VOICEMAIL_MIN_SECONDS = 3;

export type Outcome =
  | { outcome: 'undecided' }
  | { outcome: 'answered' }
  | { outcome: 'not-missed' }
  | { outcome: 'missed'; reason: MissedReason; status: MissedStatus };

const ANSWERED_QUEUE_RESULTS: readonly QueueResult[] = ['bridged', 'bridging-in-process', 'redirected-from-bridged'];

/** Whether any evidence shows that a person took the call. */
export function isAnswered(facts: CallFacts): boolean {
  for (const leg of facts.legs.values()) if (leg.status === 'completed' && !leg.machine) return true;
  for (const [dialSid, status] of facts.dials) {
    if ((status === 'completed' || status === 'answered') && facts.legs.get(dialSid)?.machine !== true) return true;
  }
  for (const queue of facts.queues.values()) if (ANSWERED_QUEUE_RESULTS.includes(queue.result)) return true;
  return false;
}

/** The `status:` counter of a miss: what Twilio said, or `no-answer` for the reasons it has no word for. */
export function statusOfReason(reason: MissedReason): MissedStatus {
  return reason === 'busy' || reason === 'failed' || reason === 'canceled' ? reason : 'no-answer';
}

const missed = (reason: MissedReason): Outcome => ({ outcome: 'missed', reason, status: statusOfReason(reason) });

/** Why a call that reached a queue and was not answered there was missed; undefined without a queue result. */
function queueReason(facts: CallFacts, settings: OutcomeSettings): MissedReason | undefined {
  const results = [...facts.queues.values()].filter((q) => q.result !== 'redirected');
  // The most telling result when a caller met several queues: a hang-up, then the others.
  const hangup = results.find((q) => q.result === 'hangup');
  if (hangup !== undefined) {
    return hangup.seconds !== undefined && hangup.seconds < settings.shortAbandonSeconds ? 'short-abandoned' : 'queue-abandoned';
  }
  if (results.some((q) => q.result === 'queue-full')) return 'queue-full';
  if (results.some((q) => q.result === 'leave')) return 'queue-left';
  if (results.some((q) => q.result === 'error' || q.result === 'system-error')) return 'failed';
  return undefined;
}

/** Why a call whose `<Dial>` nobody answered was missed; undefined when it reached no `<Dial>`. */
function dialReason(facts: CallFacts, settings: OutcomeSettings): MissedReason | undefined {
  const statuses = [
    ...[...facts.legs.values()].map((leg) => (leg.machine ? 'no-answer' : leg.status)),
    ...[...facts.dials].map(([dialSid, status]) => (facts.legs.get(dialSid)?.machine ? 'no-answer' : status)),
  ];
  if (statuses.length === 0) return undefined;
  let reason: MissedReason;
  if (statuses.includes('canceled')) reason = settings.includeCanceled ? 'canceled' : 'abandoned';
  else if (statuses.every((s) => s === 'busy')) reason = 'busy';
  else if (statuses.every((s) => s === 'failed')) reason = 'failed';
  else reason = 'no-answer';
  const duration = facts.root?.durationSeconds;
  if ((reason === 'abandoned' || reason === 'no-answer') && duration !== undefined && duration < settings.shortAbandonSeconds) {
    return 'short-abandoned';
  }
  return reason;
}

/**
 * The outcome the facts give. `undecided` while the call may still be answered: it has not
 * ended and no evidence shows a person took it.
 */
export function decideOutcome(facts: CallFacts, settings: OutcomeSettings): Outcome {
  if (isAnswered(facts)) return { outcome: 'answered' };
  if (!facts.ended) return { outcome: 'undecided' };
  const root = facts.root?.status;
  if (root === 'no-answer' || root === 'busy' || root === 'failed') return missed(root);
  if (root === 'canceled') return missed(settings.includeCanceled ? 'canceled' : 'abandoned');
  const reason = queueReason(facts, settings) ?? dialReason(facts, settings);
  if (reason !== undefined) return missed(reason);
  // TwiML alone handled it: a message left makes it a miss (an after-hours flow straight to <Record>).
  if (voicemailOf(facts, settings.voicemailMinSeconds ?? VOICEMAIL_MIN_SECONDS) !== undefined) return missed('voicemail');
  return settings.ivrHangupsMissed && facts.inbound === true ? missed('ivr') : { outcome: 'not-missed' };
}

/** Missed calls of these reasons open (or join) a callback and may be texted; the others are only counted. */
export const opensCallback = (reason: MissedReason): boolean => reason !== 'short-abandoned';
