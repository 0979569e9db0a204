import { describe, expect, it } from 'vitest';
import { matchesPattern, passesFilters } from '../../dev/event-filter.js';
import { readStreamEvent } from '../../dev/serverless-config.js';
import { nextContact } from '../../lib/contacts/store.js';
import { callerId } from '../../lib/ledger/phone.js';
import type { PendingCall } from '../../lib/ledger/schema.js';

describe('callerId', () => {
  it.each([
    ['+14155550123', '+14155550123'],
    ['+442071838750', '+442071838750'],
    [' +4915123456789 ', '+4915123456789'],
  ])('keeps the valid number %s as %s', (raw, e164) => {
    expect(callerId(raw)).toEqual({ kind: 'number', e164 });
  });

  it.each([
    ['anonymous', 'withheld'],
    ['Anonymous', 'withheld'],
    ['unknown', 'withheld'],
    ['restricted', 'withheld'],
    ['+266696687', 'withheld'],
    ['+7378742833', 'withheld'],
    ['client:alice', 'client'],
    ['sip:alice@example.sip.twilio.com', 'sip'],
    ['4155550123', 'invalid'],
    ['+1', 'invalid'],
    ['+999123', 'invalid'],
    ['hello', 'invalid'],
    ['', 'invalid'],
  ])('makes no contact of %s (%s)', (raw, reason) => {
    expect(callerId(raw)).toEqual({ kind: 'anonymous', reason });
  });
});

describe('nextContact', () => {
  const call = (sid: string, occurredAt: string, status: PendingCall['status']): PendingCall => ({
    rootCallSid: sid,
    customer: '+14155550123',
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
      });
      expect(result?.recentCallSids).toHaveLength(3);
    }
  });
});

describe('the contacts mapping filter from serverless.yml', () => {
  const { filterPatterns } = readStreamEvent('contacts');
  const record = (eventName: string, image: Record<string, { S: string }> | undefined) => ({
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: image ? { NewImage: image } : {},
  });
  const call = { pk: { S: 'CALL#CA1' }, type: { S: 'call' }, customer: { S: '+14155550123' } };

  it('passes new and modified call items that know their customer and are not applied', () => {
    expect(passesFilters(filterPatterns, record('INSERT', call))).toBe(true);
    expect(passesFilters(filterPatterns, record('MODIFY', call))).toBe(true);
  });

  it('drops TTL deletions, applied calls, calls without a customer, counters and contacts', () => {
    expect(
      passesFilters(filterPatterns, {
        ...record('REMOVE', undefined),
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      }),
    ).toBe(false);
    expect(passesFilters(filterPatterns, record('MODIFY', { ...call, contactAppliedAt: { S: '2026-11-24T00:00:00Z' } }))).toBe(false);
    const { customer: _, ...withoutCustomer } = call;
    expect(passesFilters(filterPatterns, record('INSERT', withoutCustomer))).toBe(false);
    expect(passesFilters(filterPatterns, record('MODIFY', { pk: { S: 'STATS#2026-11-24' }, type: { S: 'stats' } }))).toBe(false);
    expect(passesFilters(filterPatterns, record('INSERT', { ...call, type: { S: 'contact' } }))).toBe(false);
  });

  it('refuses operators it cannot evaluate rather than guessing', () => {
    expect(() => matchesPattern({ eventName: [{ prefix: 'INS' }] }, record('INSERT', call))).toThrow('not supported by the local matcher');
  });
});
