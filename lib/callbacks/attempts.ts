/**
 * Calling a customer back through Twilio (`POST /callbacks/{phone}/call`): each attempt and its
 * outcome, as a pure function of the attempt's call facts, and the claim that keeps two people
 * from calling the same customer at once. The call rings the agent first (the root, an
 * `outbound-api` call to the agent), then bridges the customer (its `<Dial><Number
 * machineDetection>` child leg). Its callbacks come in any order; the outcome is decided from
 * all of them, the customer's leg first:
 *
 * - the customer's leg ended `completed`: `voicemail` when Twilio's answering-machine detection
 *   said `machine_*` or `fax`, else `reached` when it lasted `CALLBACK_MIN_SECONDS`, else
 *   `too-short`. `unknown` (detection could not tell) counts as a person: a live customer who
 *   said little is likelier than a machine detection missed, and a wrong `reached` is corrected
 *   by the next miss, while a wrong `voicemail` would leave a reached customer on the worklist;
 * - the customer's leg ended otherwise: `no-answer`, `busy`, `failed` (`canceled`, the agent
 *   hung up while it rang, is `no-answer`);
 * - no leg, a Dial action: the same from `DialCallStatus` and `DialCallDuration` (without
 *   `AnsweredBy`: the leg's callback was lost);
 * - neither, the agent's call ended: `agent-missed` (the agent did not pick up, or hung up before
 *   the customer was dialled).
 */
import type { CallStatus } from '../twilio/call-status.js';
import type { Actor } from './model.js';

export const ATTEMPT_OUTCOMES = ['reached', 'voicemail', 'no-answer', 'busy', 'failed', 'agent-missed', 'too-short'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** What an attempt's callbacks said (each kept as it came; any order). */
export interface AttemptFacts {
  /** When the agent answered (Twilio asked for the call's TwiML): the customer is being called. */
  agentAnswered?: string;
  /** The agent's call (the root) ended. */
  agent?: { status: CallStatus; seconds: number };
  /** The customer's leg ended (`<Number statusCallback>`). */
  leg?: { callSid: string; status: CallStatus; seconds: number; answeredBy?: string };
  /** The `<Dial action>`. */
  dial?: { status: string; seconds: number; dialCallSid?: string };
}

const MACHINE = /^(machine_|fax$)/;

function fromStatus(status: string, seconds: number, answeredBy: string | undefined, minSeconds: number): AttemptOutcome {
  if (status === 'completed' || status === 'answered') {
    if (answeredBy !== undefined && MACHINE.test(answeredBy)) return 'voicemail';
    return seconds >= minSeconds ? 'reached' : 'too-short';
  }
  if (status === 'busy' || status === 'failed') return status;
  return 'no-answer';
}

/** The outcome the facts give, or undefined while the call goes on. */
export function attemptOutcome(facts: AttemptFacts, minSeconds: number): AttemptOutcome | undefined {
  if (facts.leg !== undefined) return fromStatus(facts.leg.status, facts.leg.seconds, facts.leg.answeredBy, minSeconds);
  if (facts.dial !== undefined) return fromStatus(facts.dial.status, facts.dial.seconds, undefined, minSeconds);
  if (facts.agent !== undefined) return 'agent-missed';
  return undefined;
}

/** One attempt as the callback keeps it. */
export interface Attempt {
  /** The attempt's id (the idempotency key of `POST /callbacks/{phone}/call`). */
  id: string;
  /** When it was placed. */
  at: string;
  /** Who called: the agent's number. */
  agent: string;
  /** Who called, when a person signed in. */
  person?: Actor;
  /** The agent's call (the root); absent while Twilio has not answered the create. */
  callSid?: string;
  outcome?: AttemptOutcome;
}

/** Where an attempt without an outcome is: Twilio not answered yet, ringing the agent, calling the customer. */
export type AttemptProgress = 'placing' | 'ringing-agent' | 'calling-customer';

export function attemptProgress(attempt: Attempt & { facts: AttemptFacts }): AttemptProgress | undefined {
  if (attempt.outcome !== undefined) return undefined;
  if (attempt.facts.agentAnswered !== undefined) return 'calling-customer';
  return attempt.callSid === undefined ? 'placing' : 'ringing-agent';
}

/** At most this many attempts are kept on a callback (the newest). */
export const MAX_ATTEMPTS = 20;

/** The attempts with `attempt` added or updated (by id), newest kept, oldest first. */
export function withAttempt(attempts: readonly Attempt[], attempt: Attempt): Attempt[] {
  const others = attempts.filter((a) => a.id !== attempt.id);
  return [...others, attempt].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).slice(-MAX_ATTEMPTS);
}

/** Attempts placed (Twilio created their call, or they have an outcome) from `from` to `to` (ISO instants, inclusive). */
export const placedBetween = (attempts: readonly Attempt[], from: string, to: string): number =>
  attempts.filter((a) => a.at >= from && a.at <= to && (a.callSid !== undefined || a.outcome !== undefined)).length;

/**
 * Attempts that tried the customer and did not reach them: every outcome but `reached` and
 * `agent-missed` (the customer was never dialled). `CALLBACK_MAX_ATTEMPTS` of them since the
 * callback opened let it be closed as `unreachable`.
 */
export const failedSince = (attempts: readonly Attempt[], since: string): number =>
  attempts.filter((a) => a.at >= since && a.outcome !== undefined && a.outcome !== 'reached' && a.outcome !== 'agent-missed').length;

/** Who holds a callback while they call: until `until`, nobody else may start a call. */
export interface Claim {
  attemptId: string;
  agent: string;
  /** The person calling, when signed in. */
  person?: Actor;
  until: string;
}

/** The claim that holds at `now`, if any. */
export const activeClaim = (claim: Claim | undefined, now: Date): Claim | undefined =>
  claim !== undefined && Date.parse(claim.until) > now.getTime() ? claim : undefined;
