/** A contact after each missed call: counts, first and last miss, each miss's reason, order-independent. */
import { describe, expect, it } from 'vitest';
import { nextContact, withoutMiss } from '../../lib/contacts/store.js';
import type { PendingCall } from '../../lib/ledger/call-item.js';

describe('nextContact', () => {
  const call = (sid: string, occurredAt: string, status: PendingCall['status'], reason: PendingCall['reason']): PendingCall => ({
    rootCallSid: sid,
    action: 'apply',
    customer: '+14155550123',
    line: '+14155559876',
    status,
    reason,
    occurredAt,
    day: occurredAt.slice(0, 10),
    knownAt: occurredAt,
    token: `1@${occurredAt}`,
    applied: undefined,
    reached: undefined,
  });
  const calls = [
    call('CA1', '2026-11-02T10:00:00.000Z', 'busy', 'busy'),
    call('CA2', '2026-11-01T10:00:00.000Z', 'no-answer', 'queue-abandoned'),
    call('CA3', '2026-11-03T10:00:00.000Z', 'no-answer', 'abandoned'),
  ];

  it('ends the same whatever order the calls are applied in', () => {
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    const at = (i: number): PendingCall => {
      const found = calls[i];
      if (found === undefined) throw new Error(`no call ${i}`);
      return found;
    };
    const results = orders.map((order) =>
      order.reduce<ReturnType<typeof nextContact> | undefined>(
        (contact, i) => nextContact(contact, '+14155550123', at(i), 'now'),
        undefined,
      ),
    );
    results.forEach((result, i) => {
      // Counted as created on the day of the first miss it was made from (the contactsCreated counter).
      expect(result?.createdDay).toBe(at(orders[i]?.[0] ?? -1).day);
      expect(result).toEqual({
        pk: 'CONTACT#+14155550123',
        type: 'contact',
        phone: '+14155550123',
        missedCount: 3,
        statusCounts: { busy: 1, 'no-answer': 2 },
        firstMissedAt: '2026-11-01T10:00:00.000Z',
        lastMissedAt: '2026-11-03T10:00:00.000Z',
        lastCallSid: 'CA3',
        lastStatus: 'no-answer',
        createdAt: 'now',
        createdDay: expect.any(String),
        updatedAt: 'now',
        recentCallSids: expect.arrayContaining(['CA1', 'CA2', 'CA3']),
        gsi1pk: expect.stringMatching(/^CONTACTS#[0-7]$/),
        gsi1sk: '2026-11-03T10:00:00.000Z#+14155550123',
        version: 3,
        callbacks: {
          misses: [
            { callSid: 'CA2', at: '2026-11-01T10:00:00.000Z', status: 'no-answer', reason: 'queue-abandoned', line: '+14155559876' },
            { callSid: 'CA1', at: '2026-11-02T10:00:00.000Z', status: 'busy', reason: 'busy', line: '+14155559876' },
            { callSid: 'CA3', at: '2026-11-03T10:00:00.000Z', status: 'no-answer', reason: 'abandoned', line: '+14155559876' },
          ],
          calls: [],
        },
        callback: {
          openSince: '2026-11-01T10:00:00.000Z',
          openMissedCount: 3,
          lastMissedAt: '2026-11-03T10:00:00.000Z',
          lastStatus: 'no-answer',
          lastReason: 'abandoned',
          line: '+14155559876',
        },
        gsi2pk: expect.stringMatching(/^CALLBACKS#open#[0-7]$/),
        gsi2sk: '2026-11-01T10:00:00.000Z#+14155550123',
      });
      expect(result?.recentCallSids).toHaveLength(3);
    });
  });

  it('takes back a miss that turned out answered: counts, last miss and the open callback as if it never was', () => {
    const [first, second, third] = calls as [PendingCall, PendingCall, PendingCall];
    const all = [first, second, third].reduce<ReturnType<typeof nextContact> | undefined>(
      (contact, c) => nextContact(contact, '+14155550123', c, 'now'),
      undefined,
    );
    if (all === undefined) throw new Error('no contact');
    const without = withoutMiss(all, { ...third, action: 'retract' }, 'later');
    // What the two other misses alone make (the version and the time of the change aside).
    const twoOnly = [first, second].reduce<ReturnType<typeof nextContact> | undefined>(
      (contact, c) => nextContact(contact, '+14155550123', c, 'now'),
      undefined,
    );
    expect(without).toMatchObject({
      missedCount: 2,
      statusCounts: { busy: 1, 'no-answer': 1 },
      lastMissedAt: '2026-11-02T10:00:00.000Z',
      lastCallSid: 'CA1',
      lastStatus: 'busy',
      recentCallSids: expect.arrayContaining(['CA1', 'CA2']),
      gsi1sk: '2026-11-02T10:00:00.000Z#+14155550123',
      callbacks: twoOnly?.callbacks,
      callback: { ...twoOnly?.callback, lastReason: 'busy' },
      version: 4,
      updatedAt: 'later',
    });
    expect(without?.recentCallSids).toHaveLength(2);
    // The only miss taken back: no contact is left.
    const one = nextContact(undefined, '+14155550123', first, 'now');
    expect(withoutMiss(one, { ...first, action: 'retract' }, 'later')).toBeUndefined();
  });
});
