/**
 * A day of Twilio traffic: realistic call flows, each callback signed as Twilio signs it, sent
 * with the concurrency, duplication, reordering and drops asked for, the same calls registered
 * in the local Twilio-shaped API, and the ground truth of what the ledger must end up with.
 *
 * The truth is computed here on its own (`judge`), from Twilio's facts about each call by the
 * whole-call rule of issue 27, never by the ledger's code: a root call is answered when a person
 * took a `<Dial>` leg or a queue bridged it; missed when it ended otherwise and the caller reached
 * a `<Dial>` or a queue, or Twilio said so on the root itself; not missed when TwiML alone
 * handled it, unless the caller left a message there (`<Record>`, reason `voicemail`).
 *
 * With `voicemail: true` (the demo's day) callers leave messages too (issue 28): some calls that
 * ring out go on to `<Record>`, and calls to an after-hours line that goes straight to it are
 * added. A message is a recording status callback (and often a transcription callback), and a
 * recording Twilio keeps (`SimulatedCall.recordings`, for the local Twilio API); each miss's
 * expected `voicemail` is judged from those facts too, and `planDelivery` says what the ledger
 * can still know of it once some callbacks are lost (`SendSummary.voicemails`). Voicemail adds to
 * a day without redrawing it: its draws come from sequences of their own, so that a seed plays the
 * same calls, lost and duplicated alike, with voicemail or without.
 */
import type { MissedStatus } from '../lib/ledger/calls.js';
import { MISSED_REASONS, type MissedReason, type QueueResult, TERMINAL_STATUSES, type TerminalStatus } from '../lib/ledger/outcome.js';
import { callerId } from '../lib/phone/phone.js';
import { mapLimit } from '../lib/platform/pool.js';
import type { DialCallStatus } from '../lib/twilio/call-status.js';
import { postLikeTwilio } from './sign.js';
import type { LocalCall } from './twilio-api.js';

/** A call flow that a day's calls are drawn from (`FLOWS`), or a staff callback planned after them. */
export type Flow =
  | FlowName
  /** Staff calling a missed caller back (planned after the day's calls, not drawn by weight). */
  | 'callback'
  /** A closed line straight to voicemail: added to a day with voicemail on (`PlanOptions.voicemail`), not drawn by weight. */
  | 'after-hours-voicemail';

/**
 * Why a call was missed, and Twilio's queue results and ended statuses: names only, shared with
 * lib/ledger/outcome.ts. The rule that picks one (`judge` below) is this file's own.
 */
export const REASONS = MISSED_REASONS;
export type Reason = MissedReason;

/** What became of a call: a person took it, nobody did, or TwiML alone handled it (or it was ours and not missed). */
export type CallOutcome = 'answered' | 'missed' | 'not-missed';

export type Judgement = { outcome: 'answered' | 'not-missed' } | { outcome: 'missed'; reason: Reason };

export type { QueueResult };

const isTerminal = (status: string | undefined): status is TerminalStatus => TERMINAL_STATUSES.some((s) => s === status);

/** The settings the truth depends on (the ledger's variables of the same names). */
export interface TruthSettings {
  /** `SHORT_ABANDON_SECONDS` (default 10). */
  shortAbandonSeconds: number;
  /** `MISSED_INCLUDE_CANCELED` (default false). */
  includeCanceled: boolean;
  /** `IVR_HANGUPS_MISSED` (default false). */
  ivrHangupsMissed: boolean;
  /** `VOICEMAIL_MIN_SECONDS` (default 3): a shorter recording is a hang-up at the beep, no message. */
  voicemailMinSeconds: number;
}

/** A call that reached a number (Twilio knows it; its webhook may or may not arrive). */
export interface Reach {
  phone: string;
  /**
   * When a person took it: for a staff callback its start, for a returned call the instant its
   * `<Dial>` leg was answered (the answering callback's Timestamp less its duration) or its queue
   * bridged (the root's start plus the time before it was bridged).
   */
  at: string;
  by: 'callback' | 'returned-call';
  /** Long enough, and a person answered: it resolves a callback. */
  counts: boolean;
  /** The root call it belongs to (set by `planDay`). */
  rootCallSid?: string;
}

export interface Callback {
  route: '/twilio/call-status' | '/twilio/dial-status' | '/twilio/queue-status' | '/twilio/recording-status' | '/twilio/transcription';
  /**
   * The query of the URL in the TwiML, as written there (`?next=/voicemail` on a `<Dial action>`
   * that goes on to voicemail): part of the URL Twilio requests and signs. None by default.
   */
  query?: string;
  params: Record<string, string>;
}

/** The message a missed call shows (`voicemail` of its call item and of GET /contacts/{phone}'s calls). */
export interface Voicemail {
  recordingSid: string;
  durationSeconds: number;
  /** Only when a transcription callback `completed` brought it (none is normal). */
  transcript?: string;
}

/** A recording Twilio keeps (its REST API serves its audio): the body `POST /__local/recordings` takes. */
export interface TwilioRecording {
  sid: string;
  /** The call recorded (for `<Record>`, the root). */
  callSid: string;
  durationSeconds: number;
}

export interface SimulatedCall {
  flow: Flow;
  rootCallSid: string;
  /** The Twilio-side records of every leg, as the REST API lists them; the root first. */
  legs: LocalCall[];
  /** The call's recordings Twilio keeps (`completed` ones: a message, or a hang-up 1 or 2 s after the beep). */
  recordings: TwilioRecording[];
  /**
   * Every callback Twilio sends for the call; the root's final status callback last (a message's
   * recording and transcription callbacks, which Twilio sends after it, are listed before it:
   * they arrive in any order anyway).
   */
  callbacks: Callback[];
  /** Ground truth, by the rule, from all of the call's callbacks. */
  outcome: CallOutcome;
  /** Why it was missed (misses only). */
  reason: Reason | undefined;
  /** The `status:` counter of a miss (its reason mapped: no-answer, busy, failed, canceled as such, the others no-answer); undefined otherwise. */
  missed: MissedStatus | undefined;
  /** The caller of a miss: their E.164 number, or `anonymous` (no callable number); undefined for other calls. */
  customer: string | 'anonymous' | undefined;
  /**
   * The message a miss shows, by Twilio's facts (all of the call's callbacks): the longest
   * `<Record>` recording `completed` of at least `VOICEMAIL_MIN_SECONDS`, with its transcript
   * when a transcription `completed`; undefined when none, and for calls not missed. What the
   * ledger can still know of it when callbacks are lost: `SendSummary.voicemails`.
   */
  voicemail: Voicemail | undefined;
}

export interface Plan {
  calls: SimulatedCall[];
  truth: Truth;
  /** Answered calls with customers' numbers: staff callbacks and returned calls a person answered. */
  reaches: Reach[];
  /** The settings the truth was computed with. */
  settings: TruthSettings;
}

export interface Truth {
  /** Missed calls, short-abandoned included (the day counters' `total`). */
  missed: number;
  /** Missed calls by their `status:` counter. */
  byStatus: Record<MissedStatus, number>;
  /** Missed calls by reason; adds up to `missed`. */
  byReason: Record<Reason, number>;
  /** Every planned call (staff callbacks included) by outcome. */
  byOutcome: Record<CallOutcome, number>;
  /** Missed calls of callers with no callable number, short-abandoned excluded (they reach no contact). */
  anonymous: number;
  /** Missed calls per contact number, short-abandoned excluded (they make no contact). */
  contacts: Map<string, number>;
}

/** mulberry32: a small seeded PRNG, so that a seed replays the same day. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hex = (random: () => number, n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

const after = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);

// ---------------------------------------------------------------------------------------------
// The rule, on Twilio's facts

/** Twilio's facts about one root call, as its callbacks (or the REST API) report them. */
export interface CallFacts {
  /** The root's direction (`inbound` when no callback of the root or its actions says). */
  direction: string;
  /** The root's own final status and `CallDuration`; undefined when not known. */
  root: { status: TerminalStatus; durationSeconds: number | undefined } | undefined;
  /** Each `<Dial>` child leg's final status and `AnsweredBy`, by CallSid. */
  legs: Map<string, { status: TerminalStatus; answeredBy: string | undefined }>;
  /** Each Dial action's `DialCallStatus`, by `DialCallSid` (`-` when it names none). */
  dials: Map<string, DialCallStatus>;
  /** Each `<Enqueue action>` result, with `QueueTime` in seconds when sent. */
  queues: { result: QueueResult; seconds: number | undefined }[];
  /**
   * Each recording by `RecordingSid`, from its status callback (status, seconds, whether a
   * `<Record>` message rather than a recorded conversation) and its transcription callback
   * (`transcript`: the text, `null` when it failed). None when no such callback is known (the
   * REST API's call list says nothing of recordings).
   */
  recordings?: Map<string, RecordingFacts>;
}

export interface RecordingFacts {
  status: 'completed' | 'failed' | 'absent' | undefined;
  seconds: number | undefined;
  voice: boolean;
  transcript?: string | null;
}

/** Answered by a machine (answering machine detection): `machine_*` (the REST API may say `machine`) or `fax`. */
const isMachine = (answeredBy: string | undefined) =>
  answeredBy !== undefined && (answeredBy.startsWith('machine') || answeredBy === 'fax');

const whole = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined);

/** The facts that a set of callbacks of one call reports (any order, duplicates harmless). */
export function factsOf(callbacks: readonly Callback[]): CallFacts {
  const recordings = new Map<string, RecordingFacts>();
  const facts: CallFacts = { direction: 'inbound', root: undefined, legs: new Map(), dials: new Map(), queues: [], recordings };
  let rootDirection: string | undefined;
  for (const { route, params } of callbacks) {
    const recordingSid = params.RecordingSid ?? '';
    const known = recordings.get(recordingSid);
    if (route === '/twilio/recording-status') {
      const status = RECORDING_STATUSES.find((s) => s === params.RecordingStatus);
      // `in-progress` tells nothing yet; `DialVerb` (a recorded conversation) is no message.
      if (status === undefined) continue;
      const source = params.RecordingSource ?? '';
      recordings.set(recordingSid, {
        ...known,
        status,
        seconds: whole(params.RecordingDuration),
        voice: source === 'RecordVerb' || source === '',
      });
    } else if (route === '/twilio/transcription') {
      recordings.set(recordingSid, {
        status: known?.status,
        seconds: known?.seconds,
        voice: known?.voice ?? true,
        transcript: params.TranscriptionStatus === 'completed' ? (params.TranscriptionText ?? '') : null,
      });
    } else if (route === '/twilio/call-status') {
      if (!isTerminal(params.CallStatus)) continue;
      if (params.ParentCallSid) facts.legs.set(params.CallSid ?? '', { status: params.CallStatus, answeredBy: params.AnsweredBy });
      else {
        facts.root = { status: params.CallStatus, durationSeconds: whole(params.CallDuration) };
        rootDirection = params.Direction;
      }
    } else if (route === '/twilio/dial-status') {
      facts.dials.set(params.DialCallSid || '-', params.DialCallStatus as DialCallStatus);
      rootDirection ??= params.Direction;
    } else if (route === '/twilio/queue-status') {
      facts.queues.push({ result: params.QueueResult as QueueResult, seconds: whole(params.QueueTime) });
      rootDirection ??= params.Direction;
    }
  }
  facts.direction = rootDirection ?? 'inbound';
  return facts;
}

/**
 * The facts the REST API lists for a call's legs: every leg's status, `answered_by` and the
 * root's duration, but no Dial action and no queue result (a call abandoned in a queue is a
 * plain `completed` call there).
 */
export function factsOfLegs(legs: readonly LocalCall[]): CallFacts {
  const facts: CallFacts = { direction: 'inbound', root: undefined, legs: new Map(), dials: new Map(), queues: [] };
  for (const leg of legs) {
    if (!isTerminal(leg.status)) continue;
    if (leg.parentCallSid) facts.legs.set(leg.sid, { status: leg.status, answeredBy: leg.answeredBy ?? undefined });
    else {
      facts.root = { status: leg.status, durationSeconds: durationOf(leg) };
      facts.direction = leg.direction;
    }
  }
  return facts;
}

/** A root's length as its final status callback says (`CallDuration`): the REST API's `duration`, 0 for unanswered. */
const durationOf = (leg: LocalCall) => leg.durationSeconds ?? 0;

const ANSWERED_QUEUE: readonly QueueResult[] = ['bridged', 'bridging-in-process', 'redirected-from-bridged'];

const RECORDING_STATUSES = ['completed', 'failed', 'absent'] as const;

/**
 * The message the facts hold (issue 28): the longest `<Record>` recording `completed` and at
 * least `minSeconds` long (shorter is a hang-up at the beep, `absent` nothing recorded), with
 * its transcript when its transcription `completed`; undefined when none. A transcription
 * without its recording's status callback tells of no message.
 */
export function voicemailOfFacts(facts: CallFacts, minSeconds: number): Voicemail | undefined {
  let best: Voicemail | undefined;
  for (const [recordingSid, r] of facts.recordings ?? []) {
    if (r.status !== 'completed' || !r.voice || r.seconds === undefined || r.seconds < minSeconds) continue;
    if (best !== undefined && r.seconds <= best.durationSeconds) continue;
    best = { recordingSid, durationSeconds: r.seconds, ...(typeof r.transcript === 'string' ? { transcript: r.transcript } : {}) };
  }
  return best;
}

/**
 * The rule (issue 27), written here on its own from the text. The call is taken to have
 * ended (every planned call has; for a part of its callbacks, the ledger's settle time stands in).
 */
export function judge(facts: CallFacts, settings: TruthSettings): Judgement {
  const legMachine = (sid: string) => isMachine(facts.legs.get(sid)?.answeredBy);
  // Answered: a person took a <Dial> leg, a Dial action says so for a leg not known to be a machine, a queue bridged it.
  if ([...facts.legs.values()].some((leg) => leg.status === 'completed' && !isMachine(leg.answeredBy))) return { outcome: 'answered' };
  if ([...facts.dials].some(([sid, status]) => (status === 'completed' || status === 'answered') && !legMachine(sid))) {
    return { outcome: 'answered' };
  }
  if (facts.queues.some((q) => ANSWERED_QUEUE.includes(q.result))) return { outcome: 'answered' };
  const missed = (reason: Reason): Judgement => ({ outcome: 'missed', reason });
  // 1. What Twilio said on the root itself.
  const root = facts.root?.status;
  if (root === 'no-answer' || root === 'busy' || root === 'failed') return missed(root);
  if (root === 'canceled') return missed(settings.includeCanceled ? 'canceled' : 'abandoned');
  // 2. The queue's result.
  for (const q of facts.queues) {
    if (q.result === 'hangup') {
      return missed(q.seconds !== undefined && q.seconds < settings.shortAbandonSeconds ? 'short-abandoned' : 'queue-abandoned');
    }
  }
  if (facts.queues.some((q) => q.result === 'queue-full')) return missed('queue-full');
  if (facts.queues.some((q) => q.result === 'leave')) return missed('queue-left');
  if (facts.queues.some((q) => q.result === 'error' || q.result === 'system-error')) return missed('failed');
  // 3. The dialled legs and Dial actions, none answered (a machine's `completed` is a no-answer).
  const statuses = [
    ...[...facts.legs.values()].map((leg) => (isMachine(leg.answeredBy) ? 'no-answer' : leg.status)),
    ...[...facts.dials].map(([sid, status]) => (legMachine(sid) ? 'no-answer' : status)),
  ];
  if (statuses.length > 0) {
    let reason: Reason;
    if (statuses.includes('canceled')) reason = settings.includeCanceled ? 'canceled' : 'abandoned';
    else if (statuses.every((s) => s === 'busy')) reason = 'busy';
    else if (statuses.every((s) => s === 'failed')) reason = 'failed';
    else reason = 'no-answer';
    const seconds = facts.root?.durationSeconds;
    if ((reason === 'abandoned' || reason === 'no-answer') && seconds !== undefined && seconds < settings.shortAbandonSeconds) {
      return missed('short-abandoned');
    }
    return missed(reason);
  }
  // 4. TwiML alone handled the call: a message the caller left makes it a miss (an after-hours
  // line straight to <Record>). Else an IVR, a greeting: a call we placed that the callee took
  // (`completed`) is not an IVR hang-up whatever IVR_HANGUPS_MISSED says.
  if (voicemailOfFacts(facts, settings.voicemailMinSeconds) !== undefined) return missed('voicemail');
  if (facts.direction === 'inbound' && settings.ivrHangupsMissed) return missed('ivr');
  return { outcome: 'not-missed' };
}

/** The `status:` counter of a miss: what Twilio said, or `no-answer` for the reasons it has no word for. */
export const statusOfReason = (reason: Reason): MissedStatus =>
  reason === 'busy' || reason === 'failed' || reason === 'canceled' ? reason : 'no-answer';

/** Whether a miss opens (or joins) a callback, counts on a contact and may be texted. */
export const opensCallback = (call: SimulatedCall): boolean =>
  call.outcome === 'missed' && call.reason !== 'short-abandoned' && call.customer !== undefined && call.customer !== 'anonymous';

// ---------------------------------------------------------------------------------------------
// Planning

/**
 * The draws of one planned day, all from one seeded sequence: a seed replays the same day only
 * while every planner takes the same draws in the same order.
 */
interface Draws {
  random: () => number;
  pick: <T>(items: readonly T[]) => T;
  /** A whole number from `low` to `high` inclusive (one draw). */
  between: (low: number, high: number) => number;
  /** A Call SID (32 draws). */
  sid: () => string;
}

function draws(seed: number): Draws {
  const random = rng(seed);
  return {
    random,
    pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T,
    between: (low, high) => low + Math.floor(random() * (high - low + 1)),
    sid: () => `CA${hex(random, 32)}`,
  };
}

/** One call as its flow's planner gets it: who calls whom, when, and what was drawn for every call. */
interface CallContext {
  accountSid: string;
  /** The business's Twilio number. */
  business: string;
  /** Its agents' phones, which a <Dial> rings: the office's desk phone first, then the owner's cell. */
  agents: readonly string[];
  /** The business's one queue (`QU…`). */
  queueSid: string;
  /** The root leg's CallSid. */
  root: string;
  /** Who calls (an inbound call's From; an outbound call's To). */
  caller: string;
  start: Date;
  /** Drawn for every call whatever its flow; the flows that miss without a choice of their own use it. */
  missedStatus: 'no-answer' | 'busy' | 'failed';
  /**
   * With voicemail on (`PlanOptions.voicemail`), the draws of the messages callers leave: a
   * sequence of their own, so that the day's other draws stay as they are without voicemail.
   */
  voicemail: Draws | undefined;
}

/** What a flow's planner returns: the call's Twilio records and callbacks (the truth is judged from these). */
interface FlowOutcome {
  /** The root leg first. */
  legs: LocalCall[];
  /** The root's final status callback last. */
  callbacks: Callback[];
  /** Answered calls with the customer that resolve a callback. */
  reaches?: Reach[];
  /** The recordings Twilio keeps of the call. */
  recordings?: TwilioRecording[];
}

/** A call flow: its share of a day's calls and how one of its calls goes. */
interface FlowEntry {
  name: string;
  /** Share of the day (relative to the other flows' weights). */
  weight: number;
  /** Who calls, when not a number from the run's pool of callers (that takes one draw). */
  caller?: (index: number) => string;
  /** Its legs and callbacks, taking any draws of its own after those taken for every call. */
  plan: (call: CallContext, draw: Draws) => FlowOutcome;
}

/**
 * The root leg, `seconds` long: a `completed` root is connected all that time (TwiML answered
 * it), an unanswered one rang that long and lists a duration of 0.
 */
function rootLeg(call: CallContext, status: TerminalStatus, direction: 'inbound' | 'outbound-api', seconds: number): LocalCall {
  const [from, to] = direction === 'inbound' ? [call.caller, call.business] : [call.business, call.caller];
  return {
    sid: call.root,
    parentCallSid: null,
    from,
    to,
    status,
    direction,
    startTime: call.start,
    endTime: after(call.start, seconds),
    durationSeconds: status === 'completed' ? seconds : 0,
    answeredBy: null,
  };
}

interface ChildSpec {
  to: string;
  status: TerminalStatus;
  /** Seconds after the root's start when the <Dial> dialled it. */
  at: number;
  /** Seconds it rang before it was answered or ended. */
  ring: number;
  /** Seconds connected (a `completed` leg). */
  talk?: number;
  /** With `<Number machineDetection>`: what answered. */
  answeredBy?: string;
}

/** A `<Dial>` child leg (`outbound-dial`; From is the business number, as with `<Dial callerId>`). */
function childLeg(call: CallContext, draw: Draws, spec: ChildSpec): LocalCall {
  const talk = spec.status === 'completed' ? (spec.talk ?? 0) : 0;
  return {
    sid: draw.sid(),
    parentCallSid: call.root,
    from: call.business,
    to: spec.to,
    status: spec.status,
    direction: 'outbound-dial',
    startTime: after(call.start, spec.at),
    endTime: after(call.start, spec.at + spec.ring + talk),
    durationSeconds: talk,
    answeredBy: spec.answeredBy ?? null,
  };
}

const endOf = (leg: LocalCall) => leg.endTime ?? after(leg.startTime, leg.durationSeconds ?? 0);

/** The status callback of a leg's final status (sent when it ended, `CallDuration` its connected time), as its `seq`th callback. */
function statusCallback(call: CallContext, of: LocalCall, seq: number): Callback {
  return {
    route: '/twilio/call-status',
    params: {
      AccountSid: call.accountSid,
      ApiVersion: '2010-04-01',
      CallbackSource: 'call-progress-events',
      CallSid: of.sid,
      CallStatus: of.status,
      Direction: of.direction,
      From: of.from,
      To: of.to,
      Called: of.to,
      Caller: of.from,
      CallDuration: String(of.durationSeconds ?? 0),
      Timestamp: rfc2822(endOf(of)),
      SequenceNumber: String(seq),
      ...(of.parentCallSid ? { ParentCallSid: of.parentCallSid } : {}),
      ...(of.answeredBy ? { AnsweredBy: of.answeredBy } : {}),
    },
  };
}

/**
 * The `<Dial action>` request once the dialled legs ended with `status`: `dialled` is the leg it
 * names (the answered one), `endedAt` when the <Dial> ended. The action's URL has no `next`, so
 * the reply ends the call that second.
 */
function dialAction(
  call: CallContext,
  parent: LocalCall,
  status: DialCallStatus,
  dialled: LocalCall | undefined,
  endedAt: Date,
  next?: string,
): Callback {
  return {
    route: '/twilio/dial-status',
    // `<Dial action="…/twilio/dial-status?next=/voicemail">`: the flow goes on there (DESIGN.md).
    ...(next === undefined ? {} : { query: `?next=${next}` }),
    params: {
      AccountSid: call.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: parent.sid,
      CallStatus: 'in-progress',
      Direction: parent.direction,
      From: parent.from,
      To: parent.to,
      DialCallStatus: status,
      DialCallSid: dialled?.sid ?? parent.sid,
      DialCallDuration: String(dialled?.durationSeconds ?? 0),
      // Not documented for the Dial action: stamped so that a replayed day keeps its timeline.
      Timestamp: rfc2822(endedAt),
    },
  };
}

/**
 * The `<Enqueue action>` request when the caller left the queue (`QueueTime` only if queued).
 * After a hang-up, or a bridge (requested once both parties hung up), the call has ended; after
 * `<Leave>` or a full queue it goes on, and the reply (no `next`) ends it that second.
 */
function queueAction(call: CallContext, parent: LocalCall, result: QueueResult, queueSeconds: number | undefined, at: Date): Callback {
  return {
    route: '/twilio/queue-status',
    params: {
      AccountSid: call.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: parent.sid,
      CallStatus: result === 'hangup' || result === 'bridged' ? 'completed' : 'in-progress',
      Direction: parent.direction,
      From: parent.from,
      To: parent.to,
      QueueResult: result,
      QueueSid: call.queueSid,
      ...(queueSeconds === undefined ? {} : { QueueTime: String(queueSeconds) }),
      // Not documented for the Enqueue action: stamped, as the Dial action is, for a replayed day.
      Timestamp: rfc2822(at),
    },
  };
}

/** What a caller did at the beep of a `<Record transcribe>`, as drawn. */
interface Message {
  recordingSid: string;
  /** Seconds of `<Say>` before the beep. */
  greeting: number;
  /** `absent`: the caller hung up at the beep, nothing recorded. */
  status: 'completed' | 'absent';
  /** The recording's length (0 when absent); the caller hangs up at its end, and the call ends. */
  seconds: number;
  /** The transcription callback Twilio sends (none when it was not asked for, or the recording too short). */
  transcription: { status: 'completed'; text: string } | { status: 'failed' } | undefined;
}

/** What callers say (Twilio transcribes recordings of 2 to 120 s). */
const TRANSCRIPTS = [
  'Hi, it is about my order, please call me back.',
  'Hello, calling about the quote you sent me last week. Call me back when you can, thanks.',
  'I need to move my appointment on Thursday to the afternoon if possible.',
  'Hi, this is about the invoice, there seems to be a mistake on it. Please call back.',
  'Good morning, do you have any openings this week? Please give me a call.',
  'Hi, returning your call from this morning.',
] as const;

/**
 * The caller at the beep: leaves a message of 4 to 60 s (share `messages`), hangs up at the beep
 * (`absent`, share `absent`), or after 1 or 2 s (a recording too short to be a message). A
 * message is transcribed (70%), its transcription fails (15%) or none was asked for (15%); a
 * 1-second or 2-second one is transcribed half the time ("Hello?"). Six draws, then the
 * recording's SID.
 */
function drawMessage(draw: Draws, shares: { messages: number; absent: number }): Message {
  const greeting = draw.between(3, 8);
  const roll = draw.random();
  const kind = roll < shares.messages ? 'message' : roll < shares.messages + shares.absent ? 'absent' : 'short';
  const seconds = draw.between(4, 60);
  const short = draw.between(1, 2);
  const transcribed = draw.random();
  const text = draw.pick(TRANSCRIPTS);
  const recordingSid = `RE${hex(draw.random, 32)}`;
  if (kind === 'absent') return { recordingSid, greeting, status: 'absent', seconds: 0, transcription: undefined };
  if (kind === 'short') {
    const transcription = transcribed < 0.5 ? ({ status: 'completed', text: 'Hello?' } as const) : undefined;
    return { recordingSid, greeting, status: 'completed', seconds: short, transcription };
  }
  const transcription =
    transcribed < 0.7 ? ({ status: 'completed', text } as const) : transcribed < 0.85 ? ({ status: 'failed' } as const) : undefined;
  return { recordingSid, greeting, status: 'completed', seconds, transcription };
}

/** How long a message takes after the point the TwiML reached `<Say>`: its greeting, then the recording. */
const messageSeconds = (message: Message) => message.greeting + message.seconds;

/**
 * The callbacks of a message on the call `parent` (which ended when the caller hung up, at the
 * recording's end): `recordingStatusCallback` (stamped, as the actions are, for a replayed day),
 * then the `transcribeCallback` when one comes.
 */
function messageCallbacks(call: CallContext, parent: LocalCall, message: Message): Callback[] {
  const end = endOf(parent);
  const recordingUrl = `https://api.twilio.com/2010-04-01/Accounts/${call.accountSid}/Recordings/${message.recordingSid}`;
  const recording: Callback = {
    route: '/twilio/recording-status',
    params: {
      AccountSid: call.accountSid,
      CallSid: parent.sid,
      RecordingSid: message.recordingSid,
      RecordingUrl: recordingUrl,
      RecordingStatus: message.status,
      RecordingDuration: String(message.seconds),
      RecordingChannels: '1',
      RecordingSource: 'RecordVerb',
      RecordingStartTime: rfc2822(after(end, -message.seconds)),
      ErrorCode: '0',
      // Not documented for the recording status callback: stamped for a replayed day's timeline.
      Timestamp: rfc2822(end),
    },
  };
  const { transcription } = message;
  if (transcription === undefined) return [recording];
  const transcriptionSid = `TR${message.recordingSid.slice(2)}`;
  return [
    recording,
    {
      route: '/twilio/transcription',
      params: {
        AccountSid: call.accountSid,
        ApiVersion: '2010-04-01',
        CallSid: parent.sid,
        CallStatus: 'completed',
        Direction: parent.direction,
        From: parent.from,
        To: parent.to,
        RecordingSid: message.recordingSid,
        RecordingUrl: recordingUrl,
        TranscriptionSid: transcriptionSid,
        TranscriptionStatus: transcription.status,
        ...(transcription.status === 'completed' ? { TranscriptionText: transcription.text } : {}),
        TranscriptionUrl: `${recordingUrl}/Transcriptions/${transcriptionSid}`,
      },
    },
  ];
}

/** The recording Twilio keeps of a message (none when nothing was recorded). */
const messageRecordings = (parent: LocalCall, message: Message | undefined): TwilioRecording[] =>
  message === undefined || message.status !== 'completed'
    ? []
    : [{ sid: message.recordingSid, callSid: parent.sid, durationSeconds: message.seconds }];

/**
 * With voicemail on, whether a call whose phones rang out goes on to `<Say>` and `<Record>`
 * (60%), and what the caller did there (a message 80%, a hang-up at the beep 10%, 1 or 2 s
 * 10%): one draw of the voicemail sequence, then `drawMessage`'s there; none with voicemail off.
 */
const voicemailAfterRinging = (call: CallContext): Message | undefined =>
  call.voicemail !== undefined && call.voicemail.random() < 0.6 ? drawMessage(call.voicemail, { messages: 0.8, absent: 0.1 }) : undefined;

/** A call of one leg that ends with `status` after `seconds`, and its one status callback. */
function oneLeg(call: CallContext, status: TerminalStatus, direction: 'inbound' | 'outbound-api', seconds: number): FlowOutcome {
  const only = rootLeg(call, status, direction, seconds);
  return { legs: [only], callbacks: [statusCallback(call, only, 3)] };
}

/** The caller reached a person at `at`: a returned call that resolves their callback (for a callable number). */
const returnedCall = (call: CallContext, at: Date): Reach[] =>
  callerId(call.caller).kind === 'number' ? [{ phone: call.caller, at: at.toISOString(), by: 'returned-call', counts: true }] : [];

/** When a leg was answered: its end less its connected time. */
const answeredAt = (leg: LocalCall) => after(endOf(leg), -(leg.durationSeconds ?? 0));

/**
 * An inbound call that TwiML answered and ended with no <Dial> (a message, a menu the caller
 * went through). From Twilio's facts it cannot be told from an IVR: not missed, or `ivr` with
 * IVR_HANGUPS_MISSED=true.
 */
const answered = (call: CallContext, draw: Draws): FlowOutcome => oneLeg(call, 'completed', 'inbound', draw.between(20, 180));

/** An inbound call that TwiML handled alone: a <Gather> menu the caller hung up in or finished. */
const ivrOnly = (call: CallContext, draw: Draws): FlowOutcome => oneLeg(call, 'completed', 'inbound', draw.between(10, 90));

/** Rings before each final status of an unanswered root. */
const ROOT_RING = { 'no-answer': 30, busy: 4, failed: 1 } as const;

/** An inbound call whose root itself ends unanswered, with the status drawn for every call. */
const missedInbound = (call: CallContext): FlowOutcome => oneLeg(call, call.missedStatus, 'inbound', ROOT_RING[call.missedStatus]);

/** The business called the customer, who did not answer (the REST API's Timeout: 60 s). */
const missedOutbound = (call: CallContext, draw: Draws): FlowOutcome => {
  const status = draw.pick(['no-answer', 'busy'] as const);
  return oneLeg(call, status, 'outbound-api', status === 'no-answer' ? 60 : 5);
};

/**
 * An inbound call that <Dial action>s one agent's phone (drawn) or all of them at once; answered,
 * or all ring out alike (no-answer after the default 30 s timeout, or busy at once).
 */
const dial =
  (dialling: 'one' | 'all', outcome: 'answered' | 'missed') =>
  (call: CallContext, draw: Draws): FlowOutcome => {
    const dialled = dialling === 'all' ? call.agents : [draw.pick(call.agents)];
    if (outcome === 'answered') {
      const child = childLeg(call, draw, {
        to: dialled[0] ?? '',
        status: 'completed',
        at: 1,
        ring: draw.between(3, 12),
        talk: draw.between(30, 300),
      });
      const parent = rootLeg(call, 'completed', 'inbound', (endOf(child).getTime() - call.start.getTime()) / 1000);
      return {
        legs: [parent, child],
        callbacks: [
          statusCallback(call, child, 2),
          dialAction(call, parent, 'completed', child, endOf(child)),
          statusCallback(call, parent, 4),
        ],
        reaches: returnedCall(call, answeredAt(child)),
      };
    }
    const status = draw.pick(['no-answer', 'no-answer', 'busy'] as const);
    const ring = status === 'no-answer' ? 30 : 3;
    const children = dialled.map((to) => childLeg(call, draw, { to, status, at: 1, ring }));
    // The Dial action goes on to voicemail (`?next=/voicemail`), or its reply ends the call.
    const message = voicemailAfterRinging(call);
    const parent = rootLeg(call, 'completed', 'inbound', 1 + ring + (message === undefined ? 0 : messageSeconds(message)));
    return {
      legs: [parent, ...children],
      recordings: messageRecordings(parent, message),
      callbacks: [
        ...children.map((child) => statusCallback(call, child, 2)),
        dialAction(call, parent, status, children[0], after(call.start, 1 + ring), message === undefined ? undefined : '/voicemail'),
        ...(message === undefined ? [] : messageCallbacks(call, parent, message)),
        statusCallback(call, parent, 4),
      ],
    };
  };

/**
 * A hunt, `<Dial timeout="15">office</Dial><Dial>cell</Dial>` with no action: the office rings
 * out after 15 s, then the cell rings (30 s by default) and is answered or not; the TwiML ends
 * and the call with it a moment later. With voicemail on, the TwiML of a hunt nobody answered
 * may go on to `<Say>` and `<Record>` (`voicemailAfterRinging`).
 */
const hunt =
  (outcome: 'answered' | 'missed') =>
  (call: CallContext, draw: Draws): FlowOutcome => {
    const [office = '', cell = ''] = call.agents;
    const first = childLeg(call, draw, { to: office, status: 'no-answer', at: 0, ring: 15 });
    const second =
      outcome === 'answered'
        ? childLeg(call, draw, { to: cell, status: 'completed', at: 15, ring: draw.between(4, 12), talk: draw.between(50, 70) })
        : childLeg(call, draw, { to: cell, status: 'no-answer', at: 15, ring: 30 });
    // The TwiML after the last <Dial> (none) ends the call a moment later.
    const moment = outcome === 'answered' ? draw.between(1, 3) : draw.between(0, 1);
    const message = outcome === 'missed' ? voicemailAfterRinging(call) : undefined;
    const seconds =
      (endOf(second).getTime() - call.start.getTime()) / 1000 + moment + (message === undefined ? 0 : messageSeconds(message));
    const parent = rootLeg(call, 'completed', 'inbound', seconds);
    return {
      legs: [parent, first, second],
      recordings: messageRecordings(parent, message),
      callbacks: [
        statusCallback(call, first, 2),
        statusCallback(call, second, 2),
        ...(message === undefined ? [] : messageCallbacks(call, parent, message)),
        statusCallback(call, parent, 4),
      ],
      reaches: outcome === 'answered' ? returnedCall(call, answeredAt(second)) : [],
    };
  };

/**
 * Simultaneous ring, one `<Dial action>` with three `<Number>`s: one agent (drawn) answers, the
 * two others' legs end `canceled` that instant.
 */
const simringAnswered = (call: CallContext, draw: Draws): FlowOutcome => {
  const winner = draw.between(0, call.agents.length - 1);
  const ring = draw.between(3, 12);
  const talk = draw.between(30, 300);
  const children = call.agents.map((to, i) =>
    i === winner
      ? childLeg(call, draw, { to, status: 'completed', at: 1, ring, talk })
      : childLeg(call, draw, { to, status: 'canceled', at: 1, ring }),
  );
  const answering = children[winner];
  const parent = rootLeg(call, 'completed', 'inbound', 1 + ring + talk);
  return {
    legs: [parent, ...children],
    callbacks: [
      ...children.map((child) => statusCallback(call, child, 2)),
      dialAction(call, parent, 'completed', answering, endOf(parent)),
      statusCallback(call, parent, 4),
    ],
    reaches: answering === undefined ? [] : returnedCall(call, answeredAt(answering)),
  };
};

/**
 * The caller hangs up while a `<Dial>` (no action) rings one agent or all three: after 20 to 28 s,
 * or within 2 to 9 s (`short`). The ringing legs end `canceled`, or, in one call of four,
 * `no-answer` (as some accounts report); the root ends `completed` (TwiML answered it) that second.
 */
const ringAbandoned =
  (length: 'long' | 'short') =>
  (call: CallContext, draw: Draws): FlowOutcome => {
    const seconds = length === 'long' ? draw.between(20, 28) : draw.between(2, 9);
    const dialled = draw.random() < 0.5 ? [draw.pick(call.agents)] : call.agents;
    const status = draw.random() < 0.25 ? 'no-answer' : 'canceled';
    const children = dialled.map((to) => childLeg(call, draw, { to, status, at: 1, ring: seconds - 1 }));
    const parent = rootLeg(call, 'completed', 'inbound', seconds);
    return {
      legs: [parent, ...children],
      callbacks: [...children.map((child) => statusCallback(call, child, 2)), statusCallback(call, parent, 4)],
    };
  };

/**
 * A caller put in the business's queue (a greeting, then `<Enqueue action>`) leaves it with
 * `result` after waiting `wait` seconds: hangs up (long or short wait), is bridged to an agent's
 * `<Dial><Queue>` (a separate call, not under this root), is sent out by `<Leave>`, or finds the
 * queue full. The REST API knows nothing of this: the root is a `completed` call of no legs.
 */
const queue =
  (result: 'hangup' | 'bridged' | 'leave' | 'queue-full', wait?: readonly [number, number]) =>
  (call: CallContext, draw: Draws): FlowOutcome => {
    const greeting = draw.between(2, 5);
    const queued = wait === undefined ? undefined : draw.between(wait[0], wait[1]);
    const talk = result === 'bridged' ? draw.between(30, 240) : 0;
    const parent = rootLeg(call, 'completed', 'inbound', greeting + (queued ?? 0) + talk);
    return {
      legs: [parent],
      callbacks: [queueAction(call, parent, result, queued, endOf(parent)), statusCallback(call, parent, 3)],
      reaches: result === 'bridged' ? returnedCall(call, after(call.start, greeting + (queued ?? 0))) : [],
    };
  };

/**
 * A forwarded cell phone whose carrier voicemail picks up: `<Dial action><Number
 * machineDetection="Enable">` (AnsweredBy `machine_start`) or `"DetectMessageEnd"`
 * (`machine_end_beep`). The leg and the Dial action say `completed`; no person took the call.
 */
const forwardedVoicemail = (call: CallContext, draw: Draws): FlowOutcome => {
  const answeredBy = draw.pick(['machine_start', 'machine_end_beep'] as const);
  const cell = call.agents[1] ?? '';
  const child = childLeg(call, draw, {
    to: cell,
    status: 'completed',
    at: 1,
    ring: draw.between(15, 25),
    talk: draw.between(20, 40),
    answeredBy,
  });
  const parent = rootLeg(call, 'completed', 'inbound', (endOf(child).getTime() - call.start.getTime()) / 1000);
  return {
    legs: [parent, child],
    callbacks: [
      statusCallback(call, child, 2),
      dialAction(call, parent, 'completed', child, endOf(child)),
      statusCallback(call, parent, 4),
    ],
  };
};

/**
 * A closed line straight to voicemail, `<Say>We are closed…</Say><Record transcribe>` with no
 * `<Dial>` (TwiML alone handles it): the caller leaves a message (60%; reason `voicemail`), hangs
 * up at the beep (20%; nothing recorded) or 1 or 2 s after it (20%); the last two are calls
 * TwiML alone handled, not misses. Only with voicemail on, added after the day's other calls.
 */
const afterHoursVoicemail = (call: CallContext, draw: Draws): FlowOutcome => {
  const message = drawMessage(draw, { messages: 0.6, absent: 0.2 });
  const parent = rootLeg(call, 'completed', 'inbound', draw.between(2, 6) + messageSeconds(message));
  return {
    legs: [parent],
    recordings: messageRecordings(parent, message),
    callbacks: [...messageCallbacks(call, parent, message), statusCallback(call, parent, 3)],
  };
};

/**
 * The flows of a small business's day, each with its share. A call draws its flow by weight, in
 * this order, then its start, its root CallSid, its caller and a missed status, then the draws of
 * its flow's planner.
 */
const FLOWS = [
  { name: 'answered', weight: 18, plan: answered },
  { name: 'missed-direct', weight: 8, plan: missedInbound },
  { name: 'dial-one-missed', weight: 10, plan: dial('one', 'missed') },
  { name: 'dial-three-missed', weight: 6, plan: dial('all', 'missed') },
  { name: 'dial-answered', weight: 14, plan: dial('one', 'answered') },
  { name: 'anonymous-missed', weight: 4, caller: () => 'anonymous', plan: missedInbound },
  { name: 'sip-missed', weight: 4, caller: (i) => `sip:caller${i}@example.sip.twilio.com`, plan: missedInbound },
  { name: 'outbound-missed', weight: 10, plan: missedOutbound },
  { name: 'hunt-answered', weight: 8, plan: hunt('answered') },
  { name: 'hunt-missed', weight: 5, plan: hunt('missed') },
  { name: 'simring-answered', weight: 7, plan: simringAnswered },
  { name: 'ring-abandoned', weight: 6, plan: ringAbandoned('long') },
  { name: 'short-abandoned', weight: 5, plan: ringAbandoned('short') },
  { name: 'queue-abandoned', weight: 5, plan: queue('hangup', [30, 120]) },
  { name: 'queue-short', weight: 4, plan: queue('hangup', [1, 9]) },
  { name: 'queue-bridged', weight: 8, plan: queue('bridged', [5, 60]) },
  { name: 'queue-left', weight: 4, plan: queue('leave', [60, 300]) },
  { name: 'queue-full', weight: 4, plan: queue('queue-full') },
  { name: 'forwarded-voicemail', weight: 5, plan: forwardedVoicemail },
  { name: 'ivr-only', weight: 8, plan: ivrOnly },
] as const satisfies readonly FlowEntry[];

type FlowName = (typeof FLOWS)[number]['name'];

/** The flows only a day with voicemail on has (`PlanOptions.voicemail`). */
export const VOICEMAIL_FLOWS: readonly Flow[] = ['after-hours-voicemail'];

/** With voicemail on, calls to the after-hours line added: this share of the day's calls, rounded up. */
const AFTER_HOURS_SHARE = 0.04;

/**
 * Share of each flow in a small business's day; 0 for the calls added to it (staff callbacks,
 * and with voicemail on `AFTER_HOURS_SHARE` of the calls to the after-hours line).
 */
export const FLOW_WEIGHTS: Readonly<Record<Flow, number>> = {
  ...(Object.fromEntries(FLOWS.map((f) => [f.name, f.weight])) as Record<FlowName, number>),
  callback: 0,
  'after-hours-voicemail': 0,
};

export interface PlanOptions {
  calls: number;
  seed: number;
  accountSid: string;
  /** The business's Twilio number and its agents' phones. */
  businessNumber?: string;
  /** Calls start between these two instants. */
  from: Date;
  to: Date;
  /** `SHORT_ABANDON_SECONDS` of the ledger under test (default 10). */
  shortAbandonSeconds?: number;
  /** `MISSED_INCLUDE_CANCELED` (default false). */
  includeCanceled?: boolean;
  /** `IVR_HANGUPS_MISSED` (default false). */
  ivrHangupsMissed?: boolean;
  /** `VOICEMAIL_MIN_SECONDS` (default 3). */
  voicemailMinSeconds?: number;
  /**
   * Callers leave voicemails (issue 28; the demo's day): some calls whose phones rang out go on
   * to `<Record>`, and calls to the after-hours line are added (4% of `calls`, rounded up), with
   * the staff callbacks of their misses. The day is otherwise the one the seed plays without
   * voicemail (default false), the same calls with the same callbacks lost and duplicated.
   */
  voicemail?: boolean;
  /**
   * Only these flows, by their weights (default: every flow; the same seed then draws other
   * calls). With voicemail on, `after-hours-voicemail` alone makes every call one to the
   * after-hours line; left out, none is.
   */
  flows?: readonly Exclude<Flow, 'callback'>[];
}

/** A planned call with its truth judged from all its callbacks. */
function judged(flow: Flow, root: string, caller: string, planned: FlowOutcome, settings: TruthSettings): SimulatedCall {
  const facts = factsOf(planned.callbacks);
  const verdict = judge(facts, settings);
  const reason = verdict.outcome === 'missed' ? verdict.reason : undefined;
  return {
    flow,
    rootCallSid: root,
    legs: planned.legs,
    recordings: planned.recordings ?? [],
    callbacks: planned.callbacks,
    outcome: verdict.outcome,
    reason,
    missed: reason === undefined ? undefined : statusOfReason(reason),
    customer: reason === undefined ? undefined : callerId(caller).kind === 'number' ? caller : 'anonymous',
    voicemail: reason === undefined ? undefined : voicemailOfFacts(facts, settings.voicemailMinSeconds),
  };
}

/** The callbacks and Twilio records of `options.calls` calls, with their ground truth. */
export function planDay(options: PlanOptions): Plan {
  const settings: TruthSettings = {
    shortAbandonSeconds: options.shortAbandonSeconds ?? 10,
    includeCanceled: options.includeCanceled ?? false,
    ivrHangupsMissed: options.ivrHangupsMissed ?? false,
    voicemailMinSeconds: options.voicemailMinSeconds ?? 3,
  };
  const voicemail = options.voicemail ?? false;
  const draw = draws(options.seed);
  const flows = options.flows === undefined ? FLOWS : FLOWS.filter((f) => options.flows?.includes(f.name));
  const afterHours =
    voicemail && (options.flows === undefined || options.flows.includes('after-hours-voicemail'))
      ? flows.length === 0
        ? options.calls
        : Math.ceil(options.calls * AFTER_HOURS_SHARE)
      : 0;
  if (flows.length === 0 && afterHours === 0) throw new Error('planDay: options.flows names no flow');
  // The messages' draws: a sequence of their own, so that voicemail does not redraw the day.
  const messages = voicemail ? draws((options.seed ^ 0x766d) >>> 0) : undefined;
  const business = options.businessNumber ?? '+14155559876';
  const agents = ['+14155550181', '+14155550182', '+14155550183'];
  // Callers of this run: a block of numbers unique to the seed, some of them calling again.
  const area = draw.pick(['212', '312', '415', '512', '617', '646', '718', '917']);
  const block = 2000 + Math.floor(draw.random() * 7000);
  const pool = Array.from({ length: Math.max(5, Math.floor(options.calls * 0.6)) }, (_, i) =>
    `+1${area}${block}${String(i).padStart(3, '0')}`.slice(0, 12),
  );
  const queueSid = `QU${hex(draw.random, 32)}`;
  // Whole seconds, as Twilio's times are (RFC 2822).
  const first = Math.ceil(options.from.getTime() / 1000) * 1000;
  const span = Math.max(0, options.to.getTime() - first);

  const calls: SimulatedCall[] = [];
  const reaches: Reach[] = [];
  const context = (root: string, caller: string, start: Date, missedStatus: CallContext['missedStatus']): CallContext => ({
    accountSid: options.accountSid,
    business,
    agents,
    queueSid,
    root,
    caller,
    start,
    missedStatus,
    voicemail: messages,
  });
  const staffCallbacks = (missedCalls: readonly SimulatedCall[]) => {
    for (const missedCall of missedCalls) {
      const planned = staffCallback(missedCall, draw, business, options, settings);
      if (planned === undefined) continue;
      calls.push(planned.call);
      reaches.push({ ...planned.reach, rootCallSid: planned.call.rootCallSid });
    }
  };
  for (let i = 0; i < (flows.length === 0 ? 0 : options.calls); i++) {
    const flow = chooseFlow(draw, flows);
    const start = new Date(first + Math.floor((draw.random() * span) / 1000) * 1000);
    const root = draw.sid();
    const caller = flow.caller ? flow.caller(i) : draw.pick(pool);
    const missedStatus = draw.pick(['no-answer', 'no-answer', 'busy', 'failed'] as const);
    const planned = flow.plan(context(root, caller, start, missedStatus), draw);
    reaches.push(...(planned.reaches ?? []).map((reach) => ({ ...reach, rootCallSid: root })));
    calls.push(judged(flow.name, root, caller, planned, settings));
  }
  staffCallbacks([...calls]);

  // With voicemail on, the after-hours line's calls, and staff calling back the messages left
  // there: after all the day's other draws, which they leave as they were.
  const added = calls.length;
  for (let i = 0; i < afterHours; i++) {
    const start = new Date(first + Math.floor((draw.random() * span) / 1000) * 1000);
    const root = draw.sid();
    const caller = draw.pick(pool);
    const planned = afterHoursVoicemail(context(root, caller, start, 'no-answer'), draw);
    calls.push(judged('after-hours-voicemail', root, caller, planned, settings));
  }
  staffCallbacks(calls.slice(added));
  return { calls, truth: truthOf(calls), reaches, settings };
}

/** A flow drawn by weight among `flows` (one draw). */
function chooseFlow(draw: Draws, flows: readonly (FlowEntry & { name: FlowName })[]): FlowEntry & { name: FlowName } {
  let r = draw.random() * flows.reduce((sum, f) => sum + f.weight, 0);
  for (const flow of flows) {
    r -= flow.weight;
    if (r < 0) return flow;
  }
  return flows[0] ?? FLOWS[0];
}

/**
 * Staff call half of the callers on the worklist back (misses that open a callback), 2 to 40
 * minutes later: 15% hang up within 5 s, 15% reach voicemail (answering machine detection says
 * so), the rest talk 1 to 5 minutes. Three draws for each such miss; for a callback planned, one
 * more for a person's talk time, then its CallSid's.
 */
function staffCallback(
  missedCall: SimulatedCall,
  draw: Draws,
  business: string,
  options: Pick<PlanOptions, 'accountSid' | 'to'>,
  settings: TruthSettings,
): { call: SimulatedCall; reach: Reach } | undefined {
  const phone = missedCall.customer;
  const missedLeg = missedCall.legs[0];
  if (!opensCallback(missedCall) || phone === undefined || missedLeg === undefined) return undefined;
  const roll = draw.random();
  const startMs = missedLeg.startTime.getTime() + (2 + Math.floor(draw.random() * 38)) * 60_000;
  const outcome = draw.random();
  if (roll >= 0.5 || startMs > options.to.getTime()) return undefined;
  const kind = outcome < 0.15 ? 'short' : outcome < 0.3 ? 'machine' : 'person';
  const duration = kind === 'short' ? 5 : kind === 'machine' ? 30 : 60 + Math.floor(draw.random() * 240);
  const start = new Date(startMs);
  const callSid = draw.sid();
  const leg: LocalCall = {
    sid: callSid,
    parentCallSid: null,
    from: business,
    to: phone,
    status: 'completed',
    direction: 'outbound-api',
    startTime: start,
    endTime: after(start, duration),
    durationSeconds: duration,
    answeredBy: kind === 'machine' ? 'machine_end_beep' : kind === 'person' ? 'human' : null,
  };
  const callbacks: Callback[] = [
    {
      route: '/twilio/call-status',
      params: {
        AccountSid: options.accountSid,
        ApiVersion: '2010-04-01',
        CallSid: callSid,
        CallStatus: 'completed',
        Direction: 'outbound-api',
        From: business,
        To: phone,
        CallDuration: String(duration),
        Timestamp: rfc2822(after(start, duration)),
        ...(kind === 'short' ? {} : { AnsweredBy: kind === 'machine' ? 'machine_end_beep' : 'human' }),
      },
    },
  ];
  const call = judged('callback', callSid, phone, { legs: [leg], callbacks }, settings);
  return { call, reach: { phone, at: start.toISOString(), by: 'callback', counts: kind === 'person' } };
}

const zeroes = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** What the ledger must count: the missed calls by status and reason, anonymous, and per contact. */
export function truthOf(calls: readonly SimulatedCall[]): Truth {
  const truth: Truth = {
    missed: 0,
    byStatus: zeroes(['no-answer', 'busy', 'failed', 'canceled'] as const),
    byReason: zeroes(REASONS),
    byOutcome: zeroes(['answered', 'missed', 'not-missed'] as const),
    anonymous: 0,
    contacts: new Map(),
  };
  for (const call of calls) {
    truth.byOutcome[call.outcome] += 1;
    if (call.outcome !== 'missed' || call.reason === undefined || call.missed === undefined) continue;
    truth.missed += 1;
    truth.byStatus[call.missed] += 1;
    truth.byReason[call.reason] += 1;
    if (call.reason === 'short-abandoned') continue;
    if (call.customer === 'anonymous') truth.anonymous += 1;
    else if (call.customer !== undefined) truth.contacts.set(call.customer, (truth.contacts.get(call.customer) ?? 0) + 1);
  }
  return truth;
}

// ---------------------------------------------------------------------------------------------
// The worklist and text-back truth

/**
 * What the ledger learned a missed call from: its root's final status callback (delivered at
 * least once), only other callbacks of it (its legs, its actions: the settle time decides it, or
 * the reconciliation if that runs first), or nothing but the reconciliation.
 */
export type Recorder = 'root' | 'evidence' | 'reconcile';

/** What the callback worklist must end up with, from the plan and which source recorded each miss. */
export interface CallbackTruth {
  opened: number;
  resolved: Record<'callback' | 'returned-call' | 'operator', number>;
  openNow: number;
  /** The open callbacks: number → when its first unresolved miss happened. */
  open: Map<string, string>;
  /** Each resolution's seconds to callback. */
  seconds: number[];
}

/**
 * The worklist by its definition, computed here on its own: each miss that opens a callback
 * (short-abandoned misses open none) belongs to the first counting call with that number that
 * started after it; misses that none follows stay open. A miss happened when the ledger says:
 * when its root's final status callback says the root started (Timestamp less CallDuration: the
 * start of a root TwiML answered, the end of the ringing of a root that ended unanswered, whose
 * CallDuration is 0), or the root's start as the REST API lists it when only the reconciliation
 * told of it (`sourceOf` says `reconcile`). A miss learned from other callbacks alone
 * (`evidence`) is reckoned as from its root's callback, which the ledger may not match to the
 * second. Calls in `unknown` are left out, misses and answered calls alike: the ledger cannot
 * know them (`SendSummary.unrecoverable`, `SendSummary.lostBridges`).
 */
export function callbackTruth(
  plan: Plan,
  sourceOf: ReadonlyMap<string, Recorder>,
  unknown: ReadonlySet<string> = new Set(),
): CallbackTruth {
  const truth: CallbackTruth = {
    opened: 0,
    resolved: { callback: 0, 'returned-call': 0, operator: 0 },
    openNow: 0,
    open: new Map(),
    seconds: [],
  };
  const byPhone = new Map<string, string[]>();
  for (const call of plan.calls) {
    const leg = call.legs[0];
    if (!opensCallback(call) || call.customer === undefined || leg === undefined || unknown.has(call.rootCallSid)) continue;
    const at = sourceOf.get(call.rootCallSid) === 'reconcile' ? leg.startTime : after(endOf(leg), -(leg.durationSeconds ?? 0));
    byPhone.set(call.customer, [...(byPhone.get(call.customer) ?? []), at.toISOString()]);
  }
  for (const [phone, misses] of byPhone) {
    const reaches = plan.reaches
      .filter((r) => r.phone === phone && r.counts && !unknown.has(r.rootCallSid ?? ''))
      .sort((a, b) => a.at.localeCompare(b.at));
    const groups = new Map<Reach | undefined, string[]>();
    for (const at of misses) {
      const reach = reaches.find((r) => r.at > at);
      groups.set(reach, [...(groups.get(reach) ?? []), at]);
    }
    for (const [reach, group] of groups) {
      truth.opened += 1;
      const first = [...group].sort()[0] ?? '';
      if (reach === undefined) {
        truth.openNow += 1;
        truth.open.set(phone, first);
      } else {
        truth.resolved[reach.by] += 1;
        truth.seconds.push(Math.round((Date.parse(reach.at) - Date.parse(first)) / 1000));
      }
    }
  }
  return truth;
}

/**
 * Who may get a text-back (TEXT_BACK=on, cooldown longer than the day): a caller whose every
 * miss that opens a callback was inbound gets exactly one outcome (sent, or failed for a number
 * marked opted out or not mobile); a number we only called (outbound misses) never gets a text;
 * short-abandoned misses and answered calls never do. A number missed both ways gets at most
 * one: whether its callback opened on an inbound or an outbound miss depends on the order the
 * ledger learned of them, so the truth is a bound there.
 */
export function textBackTruth(plan: Plan): { inboundOnly: string[]; outboundOnly: string[]; mixed: string[] } {
  const directions = new Map<string, Set<string>>();
  for (const call of plan.calls) {
    const direction = call.legs[0]?.direction;
    if (!opensCallback(call) || call.customer === undefined || direction === undefined) continue;
    directions.set(call.customer, (directions.get(call.customer) ?? new Set()).add(direction));
  }
  const of = (test: (d: Set<string>) => boolean) =>
    [...directions]
      .filter(([, d]) => test(d))
      .map(([phone]) => phone)
      .sort();
  return {
    inboundOnly: of((d) => d.size === 1 && d.has('inbound')),
    outboundOnly: of((d) => !d.has('inbound')),
    mixed: of((d) => d.size > 1 && d.has('inbound')),
  };
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface SendOptions {
  target: string;
  authToken: string;
  /** Share of callbacks never delivered (lost webhooks), 0..1. */
  drop: number;
  /** Share of delivered callbacks delivered twice, 0..1. */
  duplicates: number;
  concurrency: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

/** The order a call's callbacks arrive in: shuffled (separate requests, in no guaranteed order). */
const deliveryOrder = (callbacks: readonly Callback[], random: () => number): Callback[] => [...callbacks].sort(() => random() - 0.5);

/** A message's callbacks (`<Record>`'s recording status and transcription). */
const isMessageCallback = (callback: Callback) =>
  callback.route === '/twilio/recording-status' || callback.route === '/twilio/transcription';

/** How many times a callback arrives: lost (0) with probability `drop`, else twice with probability `duplicates`. */
function deliveries(random: () => number, options: Pick<SendOptions, 'drop' | 'duplicates'>): 0 | 1 | 2 {
  if (random() < options.drop) return 0;
  return random() < options.duplicates ? 2 : 1;
}

export interface SendSummary {
  /**
   * The one source that is certain: `reconcile`, the missed calls none of whose callbacks was
   * delivered (the REST API lists their legs; `unrecoverable` ones left out). What decided the
   * others (`status-callback`, `dial-action`, `queue-action`, `settle`, or `reconcile` when it
   * runs before the settle time) depends on which final callback wins a delivery race, and is
   * not predicted.
   */
  expectedBySource: { reconcile: number };
  /** What the ledger learned each missed call (root CallSid) from. */
  sourceOf: Map<string, Recorder>;
  /**
   * Calls some callbacks of which were delivered, whose delivered callbacks alone give another
   * outcome or reason than all of them (root CallSid → what they give; e.g. a hunt whose
   * answering leg's callback was lost looks missed): right only once corrected from the REST API.
   */
  differing: Map<string, Judgement>;
  /**
   * Missed queue calls whose `<Enqueue action>` was never delivered: only that callback tells
   * (the REST API lists them as plain `completed` calls), so no reconciliation can find them.
   * Likewise misses of reason `voicemail` (TwiML alone handled them) whose message's recording
   * status callback was never delivered (`lostVoicemails` has them too): to the ledger they are
   * calls TwiML alone handled.
   */
  unrecoverable: Set<string>;
  /**
   * The message each missed call must show (root CallSid → voicemail), from the callbacks
   * delivered: the ledger learns of a message only from its recording status callback and of
   * its transcript only from its transcription callback, and the reconciliation lists calls,
   * never recordings or transcriptions. So a message whose recording status callback was lost is
   * no voicemail the ledger can show (`lostVoicemails`), and a transcript whose callback was lost
   * is none (`lostTranscripts`). Misses with no message the ledger can know are not keys.
   */
  voicemails: Map<string, Voicemail>;
  /** Missed calls with a message (by Twilio's facts) whose recording status callback was never delivered. */
  lostVoicemails: Set<string>;
  /** Missed calls whose message's recording status callback came but whose transcript's callback was lost. */
  lostTranscripts: Set<string>;
  /**
   * Queue calls bridged to an agent whose `<Enqueue action>` was never delivered: the same, so the
   * returned call they are resolves no callback (left out of the worklist's truth).
   */
  lostBridges: Set<string>;
  callbacks: number;
  sent: number;
  dropped: number;
  duplicated: number;
  failed: number;
  statuses: Record<string, number>;
}

/** What `sendDay` will deliver for each call (drops, duplicates and order decided from the seed) and its summary, nothing sent. */
export function planDelivery(
  plan: Plan,
  options: Pick<SendOptions, 'drop' | 'duplicates' | 'seed'>,
): { work: Callback[][]; summary: SendSummary } {
  const random = rng(options.seed ^ 0x5eed);
  // A message's callbacks take their place, drop and duplicate from a sequence of their own: the
  // day's other callbacks arrive, get lost and come twice as they do without voicemail.
  const messageRandom = rng(options.seed ^ 0x5eed ^ 0x766d);
  const summary: SendSummary = {
    expectedBySource: { reconcile: 0 },
    sourceOf: new Map(),
    differing: new Map(),
    unrecoverable: new Set(),
    lostBridges: new Set(),
    voicemails: new Map(),
    lostVoicemails: new Set(),
    lostTranscripts: new Set(),
    callbacks: 0,
    sent: 0,
    dropped: 0,
    duplicated: 0,
    failed: 0,
    statuses: {},
  };
  const work = plan.calls.map((call) => {
    const order = deliveryOrder(
      call.callbacks.filter((c) => !isMessageCallback(c)),
      random,
    );
    for (const message of call.callbacks.filter(isMessageCallback)) {
      order.splice(Math.floor(messageRandom() * (order.length + 1)), 0, message);
    }
    const delivered = order.flatMap((callback) => {
      summary.callbacks += 1;
      const times = deliveries(isMessageCallback(callback) ? messageRandom : random, options);
      if (times === 0) summary.dropped += 1;
      if (times === 2) summary.duplicated += 1;
      return Array.from({ length: times }, () => callback);
    });
    const queueTold = delivered.some((c) => c.route === '/twilio/queue-status');
    const queueCall = call.callbacks.some((c) => c.route === '/twilio/queue-status');
    if (call.outcome === 'missed' && queueCall && !queueTold) summary.unrecoverable.add(call.rootCallSid);
    if (call.outcome === 'answered' && queueCall && !queueTold) summary.lostBridges.add(call.rootCallSid);
    if (call.outcome === 'missed' && call.voicemail !== undefined) {
      // The voicemail the ledger must show is what the delivered callbacks tell of the message:
      // the nightly reconciliation lists calls, never recordings or transcriptions, so nothing
      // recovers a lost one. Its recording status callback lost: no voicemail at all (and a call
      // straight to voicemail is then, to the ledger, a call TwiML alone handled: no miss).
      // Its transcription callback lost (or failed): the voicemail without a transcript.
      const told = voicemailOfFacts(factsOf(delivered), plan.settings.voicemailMinSeconds);
      if (told === undefined) {
        summary.lostVoicemails.add(call.rootCallSid);
        if (call.reason === 'voicemail') summary.unrecoverable.add(call.rootCallSid);
      } else {
        summary.voicemails.set(call.rootCallSid, told);
        if (call.voicemail.transcript !== undefined && told.transcript === undefined) summary.lostTranscripts.add(call.rootCallSid);
      }
    }
    if (call.outcome === 'missed') {
      // The root's final status callback is the call's last.
      const rootFinal = call.callbacks.at(-1);
      const toldByRoot = rootFinal !== undefined && delivered.includes(rootFinal);
      const recorder: Recorder = delivered.length === 0 ? 'reconcile' : toldByRoot ? 'root' : 'evidence';
      summary.sourceOf.set(call.rootCallSid, recorder);
      if (recorder === 'reconcile' && !summary.unrecoverable.has(call.rootCallSid)) summary.expectedBySource.reconcile += 1;
    }
    if (delivered.length > 0) {
      const seen = judge(factsOf(delivered), plan.settings);
      const same = seen.outcome === call.outcome && (seen.outcome !== 'missed' || seen.reason === call.reason);
      if (!same) summary.differing.set(call.rootCallSid, seen);
    }
    return delivered;
  });
  return { work, summary };
}

/**
 * Sends each call's callbacks in a shuffled order (callbacks are separate requests: Twilio does
 * not guarantee their order), one after another within a call, calls in parallel up to
 * `concurrency`.
 */
export async function sendDay(plan: Plan, options: SendOptions): Promise<SendSummary> {
  const { work, summary } = planDelivery(plan, options);
  const target = options.target.replace(/\/+$/, '');
  const post = async (callback: Callback) => {
    const url = `${target}${callback.route}${callback.query ?? ''}`;
    const response = await postLikeTwilio(url, callback.params, options.authToken);
    await response.arrayBuffer();
    summary.sent += 1;
    summary.statuses[response.status] = (summary.statuses[response.status] ?? 0) + 1;
    if (response.status >= 400) summary.failed += 1;
  };
  let done = 0;
  await mapLimit(work, options.concurrency, async (callbacks) => {
    for (const callback of callbacks) await post(callback);
    done += 1;
    options.onProgress?.(done, work.length);
  });
  return summary;
}

/** Registers the recordings Twilio keeps of the calls in the local Twilio-shaped API (`POST /__local/recordings`), so that their audio exists. */
export async function registerRecordings(twilioApi: string, calls: readonly SimulatedCall[]): Promise<number> {
  const recordings = calls.flatMap((c) => c.recordings);
  for (let i = 0; i < recordings.length; i += 500) {
    const response = await fetch(`${twilioApi.replace(/\/+$/, '')}/__local/recordings`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(recordings.slice(i, i + 500)),
    });
    if (response.status !== 201)
      throw new Error(`The local Twilio API refused the recordings: ${response.status} ${await response.text()}`);
  }
  return recordings.length;
}
