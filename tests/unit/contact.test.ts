/** A contact after each missed call: counts, first and last miss, order-independent. */
import { describe, expect, it } from 'vitest';
import { nextContact } from '../../lib/contacts/store.js';
import type { PendingCall } from '../../lib/ledger/call-item.js';

describe('nextContact', () => {
  const call = (sid: string, occurredAt: string, status: PendingCall['status']): PendingCall => ({
    rootCallSid: sid,
    customer: '+14155550123',
    line: '+14155559876',
    status,
    occurredAt,
    day: occurredAt.slice(0, 10),
  });
  const calls = [
    call('CA1', '2026-11-02T10:00:00.000Z', 'busy'),
    call('CA2', '2026-11-01T10:00:00.000Z', 'no-answer'),
    call('CA3', '2026-11-03T10:00:00.000Z', 'no-answer'),
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
    for (const result of results) {
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
        updatedAt: 'now',
        recentCallSids: expect.arrayContaining(['CA1', 'CA2', 'CA3']),
        gsi1pk: expect.stringMatching(/^CONTACTS#[0-7]$/),
        gsi1sk: '2026-11-03T10:00:00.000Z#+14155550123',
        version: 3,
        callbacks: {
          misses: [
            { callSid: 'CA2', at: '2026-11-01T10:00:00.000Z', status: 'no-answer', line: '+14155559876' },
            { callSid: 'CA1', at: '2026-11-02T10:00:00.000Z', status: 'busy', line: '+14155559876' },
            { callSid: 'CA3', at: '2026-11-03T10:00:00.000Z', status: 'no-answer', line: '+14155559876' },
          ],
          calls: [],
        },
        callback: {
          openSince: '2026-11-01T10:00:00.000Z',
          openMissedCount: 3,
          lastMissedAt: '2026-11-03T10:00:00.000Z',
          lastStatus: 'no-answer',
          line: '+14155559876',
        },
        gsi2pk: expect.stringMatching(/^CALLBACKS#open#[0-7]$/),
        gsi2sk: '2026-11-01T10:00:00.000Z#+14155550123',
      });
      expect(result?.recentCallSids).toHaveLength(3);
    }
  });
});
