/**
 * A call back through Twilio (`POST /callbacks/{phone}/call`), on the webhook's side. Its URLs
 * carry `attempt` (the attempt's id) and `customer` (E.164) in their query, which Twilio signs
 * with the rest of the URL:
 *
 * - `POST /twilio/callback-call`: Twilio asks what to do once the agent answered: say whom they
 *   are calling, then bridge the customer from the line they called, with answering-machine
 *   detection on the customer's leg;
 * - `POST /twilio/call-status?attempt=…`: the agent's call ended (no `ParentCallSid`) or the
 *   customer's leg did (its `<Number statusCallback>`);
 * - `POST /twilio/dial-status?attempt=…`: the `<Dial action>`.
 *
 * These calls are the business calling out, not a caller missing the business: they never reach
 * the ledger. Each callback's facts go onto the attempt (lib/callbacks/calling.ts); a `reached`
 * outcome resolves the customer's callback as `callback`.
 */
import type { AttemptFacts } from '../callbacks/attempts.js';
import type { CallingStore } from '../callbacks/calling.js';
import type { CallbackResolver } from '../callbacks/store.js';
import { maskPhone, twilioE164 } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import { HttpError } from '../platform/request.js';
import { isOneOf } from '../table/items.js';
import { CALL_STATUSES, type CallStatus } from '../twilio/call-status.js';
import { xmlEscape } from './twiml.js';

type Params = Readonly<Record<string, string>>;

/** The attempt a URL's query names, or undefined when it names none (an ordinary callback). */
export function attemptOf(query: string): { attemptId: string; customer: string; line: string | undefined } | undefined {
  const q = new URLSearchParams(query);
  const attemptId = q.get('attempt');
  if (attemptId === null) return undefined;
  const customer = twilioE164(q.get('customer') ?? '');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(attemptId) || customer === undefined)
    throw new HttpError(400, 'attempt and customer must name a call back (attempt id, E.164 number)');
  const line = q.get('line');
  return { attemptId, customer, line: line === null ? undefined : (twilioE164(line) ?? undefined) };
}

/** The number said digit by digit (`4 1 5, 5 5 5, …`), for the agent to hear whom they call. */
export const spokenNumber = (e164: string): string =>
  e164
    .replace(/^\+1(?=\d{10}$)/, '')
    .replace(/\D/g, '')
    .split('')
    .join(' ');

/**
 * The TwiML of `/twilio/callback-call`: who is called, then the bridge. `base` is the URL the
 * callbacks go to (this API's, as Twilio reached it).
 */
export function callbackTwiml(base: string, attempt: { attemptId: string; customer: string; line: string }): string {
  const query = `attempt=${encodeURIComponent(attempt.attemptId)}&customer=${encodeURIComponent(attempt.customer)}`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?><Response>' +
    `<Say>Calling ${xmlEscape(spokenNumber(attempt.customer))}.</Say>` +
    `<Dial callerId="${xmlEscape(attempt.line)}" answerOnBridge="true" action="${xmlEscape(`${base}/twilio/dial-status?${query}`)}">` +
    `<Number machineDetection="Enable" statusCallback="${xmlEscape(`${base}/twilio/call-status?${query}`)}" statusCallbackEvent="completed">` +
    `${xmlEscape(attempt.customer)}</Number></Dial></Response>`
  );
}

const seconds = (value: string | undefined): number => (value !== undefined && /^\d{1,7}$/.test(value) ? Number(value) : 0);
const callStatus = (value: string | undefined): CallStatus | undefined => (isOneOf(CALL_STATUSES, value) ? value : undefined);

/** What one callback of an attempt's call says; undefined when it says nothing final. */
export function attemptFacts(route: '/twilio/call-status' | '/twilio/dial-status', params: Params): AttemptFacts | undefined {
  if (route === '/twilio/dial-status') {
    const status = params.DialCallStatus;
    if (status === undefined || status === '') return undefined;
    return {
      dial: { status, seconds: seconds(params.DialCallDuration), ...(params.DialCallSid ? { dialCallSid: params.DialCallSid } : {}) },
    };
  }
  const status = callStatus(params.CallStatus);
  if (status === undefined || status === 'queued' || status === 'ringing' || status === 'in-progress') return undefined;
  if (params.ParentCallSid) {
    return {
      leg: {
        callSid: params.CallSid ?? '',
        status,
        seconds: seconds(params.CallDuration),
        ...(params.AnsweredBy ? { answeredBy: params.AnsweredBy } : {}),
      },
    };
  }
  return { agent: { status, seconds: seconds(params.CallDuration) } };
}

/**
 * The agent answered (Twilio asks for the TwiML): the attempt shows `calling-customer`. Only
 * progress for the dashboard: when the table cannot take it, the call goes on all the same.
 */
export async function markAgentAnswered(
  calling: CallingStore,
  attempt: { attemptId: string; customer: string },
  deps: { minSeconds: number; now: Date },
): Promise<void> {
  try {
    await calling.record(attempt.customer, attempt.attemptId, { agentAnswered: deps.now.toISOString() }, deps.minSeconds);
  } catch (error) {
    logger.warn('The call back’s progress was not kept', { attemptId: attempt.attemptId, error: String(error) });
  }
}

/** Records one callback of an attempt's call; a `reached` outcome resolves the customer's callback. */
export async function recordAttemptCallback(
  route: '/twilio/call-status' | '/twilio/dial-status',
  params: Params,
  attempt: { attemptId: string; customer: string },
  deps: { calling: CallingStore; callbacks: CallbackResolver; minSeconds: number; now: Date },
): Promise<void> {
  const facts = attemptFacts(route, params);
  if (facts === undefined) return;
  const recorded = await deps.calling.record(attempt.customer, attempt.attemptId, facts, deps.minSeconds);
  const outcome = recorded?.attempt.outcome;
  logger.info('Call back attempt', {
    attemptId: attempt.attemptId,
    customer: maskPhone(attempt.customer),
    callSid: params.CallSid,
    facts: Object.keys(facts),
    outcome: outcome ?? 'pending',
    ...(recorded === undefined ? { kept: false } : {}),
  });
  if (recorded === undefined || outcome !== 'reached' || recorded.before === 'reached') return;
  // Reached: the customer's callback is resolved by this call, from when the customer answered.
  const leg = recorded.attempt.facts.leg ?? recorded.attempt.facts.dial;
  const talked = leg?.seconds ?? 0;
  const id =
    recorded.attempt.facts.leg?.callSid || recorded.attempt.facts.dial?.dialCallSid || recorded.attempt.callSid || attempt.attemptId;
  const at = new Date(deps.now.getTime() - talked * 1000).toISOString();
  // Called back by whoever placed it (a person signed in; a machine's key names nobody).
  const person = recorded.attempt.person === undefined ? {} : { person: recorded.attempt.person };
  const resolved = await deps.callbacks.resolve(attempt.customer, { id, at, by: 'callback', ...person });
  logger.info(resolved.outcome === 'resolved' ? 'Callback resolved' : 'Reached, no open callback it resolves', {
    attemptId: attempt.attemptId,
    customer: maskPhone(attempt.customer),
  });
}
