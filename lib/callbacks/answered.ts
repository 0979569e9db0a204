/**
 * Which answered calls resolve a callback (the Twilio facts: a parent call ends `completed` when
 * TwiML answered it, so only a `<Dial>` or an outbound call shows that a PERSON talked):
 *
 * - an outbound call to the number (`outbound-api`) that ends `completed` with `CallDuration` ≥
 *   the minimum and, when Twilio says `AnsweredBy`, not a machine or fax: resolvedBy
 *   `callback`, the customer is `To`;
 * - an inbound call from the number whose `<Dial>` a person answered for at least the minimum:
 *   resolvedBy `returned-call`, the customer is `From`. The Dial action says so itself
 *   (`DialCallStatus` `completed`/`answered`, `DialCallDuration`); without one, the ledger
 *   joins the answered leg's end to the root's caller (`answeredByWholeCall`).
 *
 * A direct inbound `completed` (an IVR, voicemail) resolves nothing, and neither does a `<Dial>`
 * leg's own callback: its `To` is the business's phone (a hunt's cell), not the customer.
 */
import { parseTwilioTimestamp } from '../ledger/calls.js';
import { isMachine } from '../ledger/outcome.js';
import type { ReturnedCall } from '../ledger/store.js';
import { twilioE164 } from '../phone/phone.js';
import type { ResolvingCall } from './model.js';

export interface AnsweredCall {
  /** The customer's number in E.164. */
  phone: string;
  call: ResolvingCall;
  durationSeconds: number;
}

type Params = Readonly<Record<string, string>>;

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,7}$/.test(value)) return undefined;
  return Number(value);
}

/** When the call started: Twilio's `Timestamp` (sent when it ended) less its duration, else `now` less it. */
function startedAt(params: Params, durationSeconds: number, now: Date): string {
  const ended = parseTwilioTimestamp(params.Timestamp) ?? now.toISOString();
  return new Date(Date.parse(ended) - durationSeconds * 1000).toISOString();
}

/**
 * The answered call a status callback reports (an outbound call to the number that a person
 * took), or undefined when it is none (or too short, or a machine).
 */
export function answeredByStatusCallback(params: Params, minSeconds: number, now: Date = new Date()): AnsweredCall | undefined {
  if (params.CallStatus !== 'completed') return undefined;
  if (params.Direction !== 'outbound-api') return undefined;
  if (isMachine(params.AnsweredBy)) return undefined;
  const duration = seconds(params.CallDuration);
  const phone = twilioE164(params.To ?? '');
  if (duration === undefined || duration < minSeconds || phone === undefined) return undefined;
  return { phone, durationSeconds: duration, call: { id: params.CallSid ?? '', at: startedAt(params, duration, now), by: 'callback' } };
}

/**
 * The answered call a `<Dial action>` reports (an inbound call from the number whose `<Dial>` a
 * person answered), or undefined when it is none (or too short).
 */
export function answeredByDialAction(params: Params, minSeconds: number, now: Date = new Date()): AnsweredCall | undefined {
  if (params.DialCallStatus !== 'completed' && params.DialCallStatus !== 'answered') return undefined;
  if (params.Direction !== 'inbound') return undefined;
  const duration = seconds(params.DialCallDuration);
  const phone = twilioE164(params.From ?? '');
  if (duration === undefined || duration < minSeconds || phone === undefined) return undefined;
  // The resolving call is the dialled leg when Twilio names it, else the parent.
  const resolving = params.DialCallSid || params.CallSid || '';
  return { phone, durationSeconds: duration, call: { id: resolving, at: startedAt(params, duration, now), by: 'returned-call' } };
}

/**
 * The answered call the ledger joined from a whole call (a person answered an inbound call's
 * `<Dial>` leg, no Dial action reported it), or undefined when too short or the caller is not callable.
 */
export function answeredByWholeCall(
  returned: ReturnedCall | undefined,
  minSeconds: number,
  now: Date = new Date(),
): AnsweredCall | undefined {
  if (returned === undefined || returned.durationSeconds < minSeconds) return undefined;
  const phone = twilioE164(returned.customer);
  if (phone === undefined) return undefined;
  const at = returned.answeredAt ?? new Date(now.getTime() - returned.durationSeconds * 1000).toISOString();
  return { phone, durationSeconds: returned.durationSeconds, call: { id: returned.legSid, at, by: 'returned-call' } };
}

/**
 * The answered call an `<Enqueue action>` reports: an inbound caller bridged to an agent
 * (`QueueResult` `bridged`, `redirected-from-bridged`). The callback says nothing of how long
 * they talked, so CALLBACK_MIN_SECONDS cannot apply; it was requested when the bridge ended.
 */
export function answeredByQueue(params: Params, _minSeconds: number, now: Date = new Date()): AnsweredCall | undefined {
  if (params.QueueResult !== 'bridged' && params.QueueResult !== 'redirected-from-bridged') return undefined;
  if (params.Direction !== 'inbound') return undefined;
  const phone = twilioE164(params.From ?? '');
  if (phone === undefined) return undefined;
  const waited = seconds(params.QueueTime) ?? 0;
  // It started when the caller was taken from the queue: after the wait, before now.
  const at = new Date(Math.min(now.getTime(), startedAtMs(params, now) + waited * 1000)).toISOString();
  return { phone, durationSeconds: 0, call: { id: params.CallSid ?? '', at, by: 'returned-call' } };
}

/** When the caller's call started, as far as a callback tells: its Timestamp, else now. */
const startedAtMs = (params: Params, now: Date): number => Date.parse(parseTwilioTimestamp(params.Timestamp) ?? now.toISOString());
