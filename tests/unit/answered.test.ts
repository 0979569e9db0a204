/** Which answered calls resolve a callback, and when they started. */
import { describe, expect, it } from 'vitest';
import { answeredByDialAction, answeredByQueue, answeredByStatusCallback, answeredByWholeCall } from '../../lib/callbacks/answered.js';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const outbound = (extra: Record<string, string> = {}) => ({
  CallSid: `CA${'a'.repeat(32)}`,
  CallStatus: 'completed',
  Direction: 'outbound-api',
  From: '+14155559876',
  To: '+14155550123',
  CallDuration: '30',
  Timestamp: 'Tue, 24 Nov 2026 10:00:30 +0000',
  ...extra,
});
const queueAction = (extra: Record<string, string> = {}) => ({
  CallSid: `CA${'d'.repeat(32)}`,
  Direction: 'inbound',
  From: '+14155550123',
  To: '+14155559876',
  QueueResult: 'bridged',
  QueueSid: `QU${'e'.repeat(32)}`,
  QueueTime: '40',
  ...extra,
});
const dialAction = (extra: Record<string, string> = {}) => ({
  CallSid: `CA${'b'.repeat(32)}`,
  DialCallSid: `CA${'c'.repeat(32)}`,
  Direction: 'inbound',
  From: '+14155550123',
  To: '+14155559876',
  DialCallStatus: 'completed',
  DialCallDuration: '45',
  ...extra,
});

describe('answered calls', () => {
  it('takes an outbound call to the number that lasted long enough: a callback that started at Timestamp less its duration', () => {
    expect(answeredByStatusCallback(outbound(), 10, NOW)).toEqual({
      phone: '+14155550123',
      durationSeconds: 30,
      call: { id: `CA${'a'.repeat(32)}`, at: '2026-11-24T10:00:00.000Z', by: 'callback' },
    });
  });

  it("ignores a <Dial> leg's own callback: its To is the business's phone (a hunt's cell), not the customer", () => {
    expect(answeredByStatusCallback(outbound({ Direction: 'outbound-dial' }), 10, NOW)).toBeUndefined();
  });

  it('takes the leg of an inbound call that the ledger joined to its caller: a returned call, from when the leg was answered', () => {
    const returned = {
      customer: '+14155550123',
      legSid: `CA${'c'.repeat(32)}`,
      durationSeconds: 45,
      answeredAt: '2026-11-24T10:00:20.000Z',
    };
    expect(answeredByWholeCall(returned, 10, NOW)).toEqual({
      phone: '+14155550123',
      durationSeconds: 45,
      call: { id: `CA${'c'.repeat(32)}`, at: '2026-11-24T10:00:20.000Z', by: 'returned-call' },
    });
    expect(answeredByWholeCall({ ...returned, answeredAt: undefined }, 10, NOW)?.call.at).toBe(
      new Date(NOW.getTime() - 45_000).toISOString(),
    );
    expect(answeredByWholeCall({ ...returned, durationSeconds: 9 }, 10, NOW)).toBeUndefined();
    expect(answeredByWholeCall({ ...returned, customer: 'client:alice' }, 10, NOW)).toBeUndefined();
    expect(answeredByWholeCall(undefined, 10, NOW)).toBeUndefined();
  });

  it.each([
    ['too short', { CallDuration: '9' }],
    ['a machine', { AnsweredBy: 'machine_end_beep' }],
    ['a fax', { AnsweredBy: 'fax' }],
    ['not completed', { CallStatus: 'no-answer' }],
    ['an inbound call answered by TwiML', { Direction: 'inbound' }],
    ['a client identity', { To: 'client:alice' }],
    ['a withheld number', { To: '+266696687' }],
    ['no duration', { CallDuration: '' }],
  ])('ignores %s', (_, extra) => {
    expect(answeredByStatusCallback(outbound(extra), 10, NOW)).toBeUndefined();
  });

  it('keeps a human or unknown AnsweredBy', () => {
    expect(answeredByStatusCallback(outbound({ AnsweredBy: 'human' }), 10, NOW)).toBeDefined();
    expect(answeredByStatusCallback(outbound({ AnsweredBy: 'unknown' }), 10, NOW)).toBeDefined();
  });

  it('takes a returned call whose <Dial> a person answered, keyed by the dialled leg, started at now less its duration', () => {
    expect(answeredByDialAction(dialAction(), 10, NOW)).toEqual({
      phone: '+14155550123',
      durationSeconds: 45,
      call: { id: `CA${'c'.repeat(32)}`, at: '2026-11-24T11:59:15.000Z', by: 'returned-call' },
    });
    expect(answeredByDialAction(dialAction({ DialCallStatus: 'answered' }), 10, NOW)?.call.by).toBe('returned-call');
  });

  it.each([
    ['nobody answered', { DialCallStatus: 'no-answer' }],
    ['too short', { DialCallDuration: '3' }],
    ['an outbound parent', { Direction: 'outbound-api' }],
  ])('ignores a Dial action when %s', (_, extra) => {
    expect(answeredByDialAction(dialAction(extra), 10, NOW)).toBeUndefined();
  });

  it('takes a caller bridged from a queue as a returned call, keyed by their CallSid, started when the callback came', () => {
    // The Enqueue action is requested when the bridge ends; it carries no Timestamp.
    expect(answeredByQueue(queueAction(), 10, NOW)).toEqual({
      phone: '+14155550123',
      durationSeconds: 0,
      call: { id: `CA${'d'.repeat(32)}`, at: NOW.toISOString(), by: 'returned-call' },
    });
    expect(answeredByQueue(queueAction({ QueueResult: 'redirected-from-bridged' }), 10, NOW)?.call.by).toBe('returned-call');
    // How long the agent talked is not told: CALLBACK_MIN_SECONDS cannot apply.
    expect(answeredByQueue(queueAction({ QueueTime: '0' }), 3600, NOW)).toBeDefined();
  });

  it.each([
    ['a hang-up in the queue', { QueueResult: 'hangup' }],
    ['a full queue', { QueueResult: 'queue-full' }],
    ['a <Leave>', { QueueResult: 'leave' }],
    ['a redirect before any bridge', { QueueResult: 'redirected' }],
    ['an outbound caller', { Direction: 'outbound-api' }],
    ['a withheld number', { From: '+266696687' }],
  ])('ignores an Enqueue action for %s', (_, extra) => {
    expect(answeredByQueue(queueAction(extra), 10, NOW)).toBeUndefined();
  });
});
