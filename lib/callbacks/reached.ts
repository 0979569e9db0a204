/**
 * For a miss applied late (reconciled, or its webhook or the stream delayed): was the number
 * already reached since, by a call whose webhook came and went before the miss was known? Asks
 * Twilio's Calls list, with the same rules as lib/callbacks/answered.ts, instead of storing every
 * answered call of every number.
 */
import { isMachine } from '../ledger/outcome.js';
import type { TwilioCall, TwilioCalls } from '../twilio/client.js';
import type { ResolvingCall } from './model.js';

/** Inbound calls from the number whose `<Dial>` legs are looked at (earliest first). */
const MAX_PARENTS = 10;

/** When a call was answered: its end less its duration (as the webhook reckons it), else its start. */
function answeredAt(call: TwilioCall): string | undefined {
  if (call.endTime !== null) return new Date(call.endTime.getTime() - call.duration * 1000).toISOString();
  return call.startTime?.toISOString();
}

/**
 * Which of these inbound roots the ledger holds as answered from a queue (`QueueResult`
 * `bridged`), with the seconds the caller waited: the REST API lists such a call as a plain
 * `completed` call of no legs, so only its `<Enqueue action>` told.
 */
export type QueueBridges = (rootCallSids: readonly string[]) => Promise<ReadonlyMap<string, number>>;

/** Answered calls with `phone` that started after `since` and count as reaching it. */
export async function reachedSince(
  twilio: TwilioCalls,
  phone: string,
  since: Date,
  minSeconds: number,
  bridges?: QueueBridges,
): Promise<ResolvingCall[]> {
  const after = (call: TwilioCall) => call.startTime !== null && call.startTime.getTime() > since.getTime();
  const [outbound, inbound] = await Promise.all([twilio.completed({ to: phone, since }), twilio.completed({ from: phone, since })]);
  const reached: ResolvingCall[] = [];
  for (const call of outbound) {
    if (!after(call) || (call.direction !== 'outbound-api' && call.direction !== 'outbound-dial')) continue;
    const at = answeredAt(call);
    if (call.duration >= minSeconds && !isMachine(call.answeredBy ?? undefined) && at !== undefined)
      reached.push({ id: call.sid, at, by: 'callback' });
  }
  const parents = inbound
    .filter((call) => after(call) && call.direction === 'inbound')
    .sort((a, b) => (a.startTime?.getTime() ?? 0) - (b.startTime?.getTime() ?? 0))
    .slice(0, MAX_PARENTS);
  const unanswered: TwilioCall[] = [];
  for (const parent of parents) {
    const legs = await twilio.completed({ parentCallSid: parent.sid, since });
    const leg = legs.find((child) => child.duration >= minSeconds && !isMachine(child.answeredBy ?? undefined));
    const at = leg === undefined ? undefined : answeredAt(leg);
    if (leg !== undefined && at !== undefined) reached.push({ id: leg.sid, at, by: 'returned-call' });
    else unanswered.push(parent);
  }
  // A caller bridged from a queue: answered from when they were taken from it (its start plus the wait).
  const bridged =
    bridges === undefined || unanswered.length === 0 ? new Map<string, number>() : await bridges(unanswered.map((p) => p.sid));
  for (const parent of unanswered) {
    const waited = bridged.get(parent.sid);
    if (waited === undefined || parent.startTime === null) continue;
    reached.push({ id: parent.sid, at: new Date(parent.startTime.getTime() + waited * 1000).toISOString(), by: 'returned-call' });
  }
  return reached;
}
