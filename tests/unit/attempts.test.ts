/** A call-back attempt's outcome from its callbacks' facts, whatever their order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttemptFacts,
  activeClaim,
  attemptOutcome,
  attemptProgress,
  failedSince,
  MAX_ATTEMPTS,
  placedBetween,
  withAttempt,
} from '../../lib/callbacks/attempts.js';
import { attemptFacts, attemptOf, callbackTwiml, spokenNumber } from '../../lib/webhook/attempts.js';

const MIN = 10;

describe('an attempt through Twilio', () => {
  it('is decided from the customer’s leg first: a person, a machine, too short, no answer, busy, failed', () => {
    const leg = (status: 'completed' | 'no-answer' | 'busy' | 'failed' | 'canceled', seconds: number, answeredBy?: string) =>
      attemptOutcome({ leg: { callSid: 'CA2', status, seconds, ...(answeredBy ? { answeredBy } : {}) } }, MIN);
    expect(leg('completed', 45, 'human')).toBe('reached');
    // Detection could not tell: a person (the module says why).
    expect(leg('completed', 45, 'unknown')).toBe('reached');
    expect(leg('completed', 45)).toBe('reached');
    for (const machine of ['machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax']) {
      expect({ machine, outcome: leg('completed', 45, machine) }).toEqual({ machine, outcome: 'voicemail' });
    }
    expect(leg('completed', 9, 'human')).toBe('too-short');
    expect(leg('completed', MIN, 'human')).toBe('reached');
    expect(leg('no-answer', 0)).toBe('no-answer');
    expect(leg('canceled', 0)).toBe('no-answer');
    expect(leg('busy', 0)).toBe('busy');
    expect(leg('failed', 0)).toBe('failed');
  });

  it('falls back on the Dial action when the leg’s callback was lost, and says agent-missed when only the agent’s call ended', () => {
    expect(attemptOutcome({ dial: { status: 'completed', seconds: 40 } }, MIN)).toBe('reached');
    expect(attemptOutcome({ dial: { status: 'no-answer', seconds: 0 } }, MIN)).toBe('no-answer');
    expect(attemptOutcome({ agent: { status: 'no-answer', seconds: 0 } }, MIN)).toBe('agent-missed');
    expect(attemptOutcome({ agent: { status: 'completed', seconds: 4 } }, MIN)).toBe('agent-missed');
    expect(attemptOutcome({}, MIN)).toBeUndefined();
  });

  it('ends with the same outcome in any order of its callbacks (property)', () => {
    const parts = fc.record({
      agent: fc.option(fc.record({ status: fc.constantFrom('completed' as const, 'no-answer' as const), seconds: fc.nat(120) }), {
        nil: undefined,
      }),
      leg: fc.option(
        fc.record({
          callSid: fc.constant('CA2'),
          status: fc.constantFrom('completed' as const, 'no-answer' as const, 'busy' as const),
          seconds: fc.nat(120),
          answeredBy: fc.constantFrom('human', 'machine_start', 'unknown'),
        }),
        { nil: undefined },
      ),
      dial: fc.option(fc.record({ status: fc.constantFrom('completed', 'no-answer'), seconds: fc.nat(120) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(parts, fc.array(fc.nat(2), { minLength: 3, maxLength: 3 }), (p, order) => {
        const pieces: AttemptFacts[] = [p.agent ? { agent: p.agent } : {}, p.leg ? { leg: p.leg } : {}, p.dial ? { dial: p.dial } : {}];
        // Merged in another order, as the store merges what each callback brings.
        const shuffled = pieces.map((piece, i) => ({ piece, k: order[i] ?? 0 })).sort((a, b) => a.k - b.k);
        const merged: AttemptFacts = Object.assign({}, ...shuffled.map(({ piece }) => piece));
        expect(attemptOutcome(merged, MIN)).toBe(attemptOutcome({ ...pieces[0], ...pieces[1], ...pieces[2] }, MIN));
      }),
    );
  });

  it('keeps the newest attempts, one per id, and a claim only until it ends', () => {
    const many = Array.from({ length: MAX_ATTEMPTS + 5 }, (_, i) => ({
      id: `a${i}`,
      at: new Date(Date.UTC(2026, 11, 6, 10, i)).toISOString(),
      agent: '+14155550100',
    }));
    const kept = many.reduce(withAttempt, [] as ReturnType<typeof withAttempt>);
    expect(kept.map((a) => a.id)).toEqual(many.slice(-MAX_ATTEMPTS).map((a) => a.id));
    const updated = withAttempt(kept, { ...(kept.at(-1) as (typeof kept)[number]), outcome: 'reached' });
    expect(updated).toHaveLength(MAX_ATTEMPTS);
    expect(updated.at(-1)?.outcome).toBe('reached');
    const claim = { attemptId: 'a1', agent: '+14155550100', until: '2026-12-06T10:00:30.000Z' };
    expect(activeClaim(claim, new Date('2026-12-06T10:00:29.000Z'))).toEqual(claim);
    expect(activeClaim(claim, new Date('2026-12-06T10:00:30.000Z'))).toBeUndefined();
  });
});

describe('the attempts of a callback', () => {
  const attempt = (id: string, minute: number, more: Partial<Parameters<typeof attemptProgress>[0]> = {}) => ({
    id,
    at: new Date(Date.UTC(2026, 11, 6, 10, minute)).toISOString(),
    agent: '+14155550100',
    facts: {},
    ...more,
  });
  it('shows where a call without an outcome is: placing, ringing the agent, calling the customer', () => {
    expect(attemptProgress(attempt('a', 0))).toBe('placing');
    expect(attemptProgress(attempt('a', 0, { callSid: 'CA1' }))).toBe('ringing-agent');
    expect(attemptProgress(attempt('a', 0, { callSid: 'CA1', facts: { agentAnswered: '2026-12-06T10:00:09Z' } }))).toBe('calling-customer');
    expect(attemptProgress(attempt('a', 0, { callSid: 'CA1', outcome: 'busy' }))).toBeUndefined();
  });
  it('counts the placed ones in a span, and the failed tries at the customer since the callback opened', () => {
    const attempts = [
      attempt('a', 0, { callSid: 'CA1', outcome: 'voicemail' }),
      attempt('b', 5, { callSid: 'CA2', outcome: 'agent-missed' }),
      attempt('c', 10, { callSid: 'CA3', outcome: 'no-answer' }),
      attempt('d', 15), // Twilio never answered its create: not placed
      attempt('e', 20, { callSid: 'CA5', outcome: 'reached' }),
      attempt('f', 25, { callSid: 'CA6', outcome: 'too-short' }),
    ];
    expect(placedBetween(attempts, attempts[0]?.at ?? '', attempts[4]?.at ?? '')).toBe(4);
    expect(placedBetween(attempts, attempts[1]?.at ?? '', attempts[5]?.at ?? '')).toBe(4);
    // Voicemail, no answer and too short tried the customer; agent-missed and reached do not count.
    expect(failedSince(attempts, attempts[0]?.at ?? '')).toBe(3);
    expect(failedSince(attempts, attempts[3]?.at ?? '')).toBe(1);
  });
});

describe("a call back's TwiML and callbacks (lib/webhook/attempts.ts)", () => {
  it('says the number digit by digit, then bridges the customer from the line with machine detection', () => {
    const twiml = callbackTwiml('https://api.example.com/prod', { attemptId: 'a1', customer: '+14155550142', line: '+14155559876' });
    expect(spokenNumber('+14155550142')).toBe('4 1 5 5 5 5 0 1 4 2');
    expect(spokenNumber('+442071838750')).toBe('4 4 2 0 7 1 8 3 8 7 5 0');
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Calling 4 1 5 5 5 5 0 1 4 2.</Say>' +
        '<Dial callerId="+14155559876" answerOnBridge="true" action="https://api.example.com/prod/twilio/dial-status?attempt=a1&amp;customer=%2B14155550142">' +
        '<Number machineDetection="Enable" statusCallback="https://api.example.com/prod/twilio/call-status?attempt=a1&amp;customer=%2B14155550142" statusCallbackEvent="completed">+14155550142</Number>' +
        '</Dial></Response>',
    );
  });

  it('reads the attempt from the query, and refuses one that names no attempt or number', () => {
    expect(attemptOf('')).toBeUndefined();
    expect(attemptOf('next=%2Fvoicemail')).toBeUndefined();
    expect(attemptOf('attempt=a1&customer=%2B14155550142&line=%2B14155559876')).toEqual({
      attemptId: 'a1',
      customer: '+14155550142',
      line: '+14155559876',
    });
    for (const bad of [
      'attempt=a1',
      'attempt=a1&customer=anonymous',
      'attempt=..%2F&customer=%2B14155550142',
      `attempt=${'x'.repeat(65)}&customer=%2B14155550142`,
    ]) {
      expect(() => attemptOf(bad)).toThrow('attempt and customer must name a call back');
    }
  });

  it("tells the agent's end from the customer's leg (ParentCallSid) and the Dial action, and ignores progress", () => {
    expect(attemptFacts('/twilio/call-status', { CallSid: 'CA1', CallStatus: 'no-answer', CallDuration: '0' })).toEqual({
      agent: { status: 'no-answer', seconds: 0 },
    });
    expect(
      attemptFacts('/twilio/call-status', {
        CallSid: 'CA2',
        ParentCallSid: 'CA1',
        CallStatus: 'completed',
        CallDuration: '31',
        AnsweredBy: 'human',
      }),
    ).toEqual({ leg: { callSid: 'CA2', status: 'completed', seconds: 31, answeredBy: 'human' } });
    expect(attemptFacts('/twilio/dial-status', { DialCallStatus: 'busy', DialCallSid: 'CA2' })).toEqual({
      dial: { status: 'busy', seconds: 0, dialCallSid: 'CA2' },
    });
    expect(attemptFacts('/twilio/call-status', { CallSid: 'CA1', CallStatus: 'in-progress' })).toBeUndefined();
  });
});
