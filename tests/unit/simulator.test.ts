import { describe, expect, it } from 'vitest';
import { callbackTruth, FLOW_WEIGHTS, planDay } from '../../dev/simulator.js';
import { CALL_STATUSES, DIAL_CALL_STATUSES } from '../../lib/twilio/call-status.js';
import { ACCOUNT_SID } from '../helpers.js';

// Twilio's documented parameters (DESIGN.md, "Status callback parameters" and the <Dial> action),
// plus AnsweredBy (sent with answering machine detection) and the Dial action's Timestamp below.
const STATUS_CALLBACK_PARAMS = new Set([
  'CallSid',
  'AccountSid',
  'From',
  'To',
  'CallStatus',
  'ApiVersion',
  'Direction',
  'ForwardedFrom',
  'CallerName',
  'ParentCallSid',
  'CallDuration',
  'Timestamp',
  'SequenceNumber',
  'SipResponseCode',
  'CallbackSource',
  'Called',
  'Caller',
  'AnsweredBy',
]);
const DIAL_ACTION_PARAMS = new Set([
  'CallSid',
  'AccountSid',
  'From',
  'To',
  'CallStatus',
  'ApiVersion',
  'Direction',
  'DialCallStatus',
  'DialCallSid',
  'DialCallDuration',
  // Not among the Dial action's documented parameters: the simulator replays a day that happened
  // up to 50 minutes ago and stamps its Dial actions, so that what the ledger reckons from them
  // (when a miss or a returned call happened) keeps the replayed timeline. From live Twilio the
  // ledger falls back to the time it received the callback, seconds after the fact.
  'Timestamp',
]);

const plan = planDay({
  calls: 500,
  seed: 7,
  accountSid: ACCOUNT_SID,
  from: new Date('2026-11-24T08:00:00Z'),
  to: new Date('2026-11-24T18:00:00Z'),
});

describe('the simulator', () => {
  it('plays every flow of a small business day', () => {
    expect(new Set(plan.calls.map((c) => c.flow))).toEqual(new Set(Object.keys(FLOW_WEIGHTS)));
  });

  it('sends only Twilio-documented parameters, with valid values', () => {
    for (const call of plan.calls) {
      for (const { route, params } of call.callbacks) {
        const allowed = route === '/twilio/dial-status' ? DIAL_ACTION_PARAMS : STATUS_CALLBACK_PARAMS;
        expect(Object.keys(params).filter((k) => !allowed.has(k))).toEqual([]);
        expect(params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
        expect(params.AccountSid).toBe(ACCOUNT_SID);
        expect(CALL_STATUSES).toContain(params.CallStatus);
        if (route === '/twilio/dial-status') {
          expect(DIAL_CALL_STATUSES).toContain(params.DialCallStatus);
          expect(params.DialCallSid).toMatch(/^CA[0-9a-f]{32}$/);
        } else {
          expect(Number.isNaN(Date.parse(params.Timestamp ?? ''))).toBe(false);
          // Only <Dial> child legs carry ParentCallSid, and they are outbound-dial.
          expect(params.ParentCallSid !== undefined).toBe(params.Direction === 'outbound-dial');
        }
      }
    }
  });

  it('keys every callback of a call to its root, and registers each leg with Twilio', () => {
    for (const call of plan.calls) {
      for (const { params } of call.callbacks) expect(params.ParentCallSid ?? params.CallSid).toBe(call.rootCallSid);
      expect(call.legs.map((l) => l.parentCallSid ?? l.sid).every((sid) => sid === call.rootCallSid)).toBe(true);
    }
  });

  it('knows the ground truth: answered calls are not missed, anonymous and SIP callers make no contact', () => {
    for (const call of plan.calls) {
      if (call.flow === 'answered' || call.flow === 'dial-answered') expect(call.missed).toBeUndefined();
      if (call.flow === 'anonymous-missed' || call.flow === 'sip-missed') expect(call.customer).toBe('anonymous');
      if (call.flow === 'outbound-missed') expect(call.customer).toBe(call.legs[0]?.to);
    }
    const { truth } = plan;
    expect(truth.byStatus['no-answer'] + truth.byStatus.busy + truth.byStatus.failed).toBe(truth.missed);
    expect([...truth.contacts.values()].reduce((a, b) => a + b, 0) + truth.anonymous).toBe(truth.missed);
    expect(Math.max(...truth.contacts.values())).toBeGreaterThan(1);
  });

  it('replays the same day from the same seed', () => {
    const again = planDay({
      calls: 500,
      seed: 7,
      accountSid: ACCOUNT_SID,
      from: new Date('2026-11-24T08:00:00Z'),
      to: new Date('2026-11-24T18:00:00Z'),
    });
    expect(again.calls.map((c) => c.rootCallSid)).toEqual(plan.calls.map((c) => c.rootCallSid));
  });

  it('plans staff callbacks (some too short, some to voicemail) and counts the worklist by its definition', () => {
    const callbacks = plan.calls.filter((c) => c.flow === 'callback');
    expect(callbacks.length).toBeGreaterThan(0);
    const outcomes = new Set(callbacks.map((c) => c.callbacks[0]?.params.AnsweredBy ?? 'short'));
    expect(outcomes).toEqual(new Set(['short', 'machine_end_beep', 'human']));
    const sourceOf = new Map(plan.calls.filter((c) => c.missed !== undefined).map((c) => [c.rootCallSid, 'status-callback' as const]));
    const truth = callbackTruth(plan, sourceOf);
    expect(truth.opened).toBe(truth.resolved.callback + truth.resolved['returned-call'] + truth.openNow);
    expect(truth.seconds).toHaveLength(truth.resolved.callback + truth.resolved['returned-call']);
    expect(truth.seconds.every((s) => s > 0)).toBe(true);
    expect(truth.resolved.callback).toBeGreaterThan(0);
    expect(truth.resolved['returned-call']).toBeGreaterThan(0);
  });
});
