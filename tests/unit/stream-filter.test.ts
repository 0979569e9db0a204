/** The contacts mapping's filter patterns (serverless.yml), as the local stream poller applies them. */
import { describe, expect, it } from 'vitest';
import { matchesPattern, passesFilters } from '../../dev/event-filter.js';
import { readStreamEvent } from '../../dev/serverless-config.js';

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
