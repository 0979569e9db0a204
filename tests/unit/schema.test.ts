/** The table's schema: keys, items and their parsers, the day-counter update, against resources/table.yml. */
import { describe, expect, it } from 'vitest';
import { readTableDefinition } from '../../dev/table.js';
import { parseContact, parseContactSummary } from '../../lib/contacts/item.js';
import { nextContact } from '../../lib/contacts/store.js';
import { callItem, parseCallSummary, parsePendingCall, recordCallTransaction } from '../../lib/ledger/call-item.js';
import { classifyStatusCallback } from '../../lib/ledger/calls.js';
import { addToDay } from '../../lib/ledger/day-counters.js';
import { parseDayCounts } from '../../lib/operator/stats.js';
import { InvalidItemError } from '../../lib/table/items.js';
import {
  CONTACT_SHARDS,
  CONTACT_SUMMARY_ATTRIBUTES,
  CONTACTS_INDEX,
  contactShard,
  contactShards,
  STATS_SHARDS,
  statsShardKey,
  statsShardOf,
  statsWriteKey,
} from '../../lib/table/keys.js';
import { statusCallback } from '../helpers.js';

const missed = () => {
  const classified = classifyStatusCallback(statusCallback({ Timestamp: 'Tue, 24 Nov 2026 09:15:42 +0000' }), false);
  if (classified.kind !== 'missed') throw new Error('not missed');
  return classified.call;
};
const RECORDED = new Date('2026-11-24T09:15:43.000Z');

describe('the table schema', () => {
  it('declares the contacts index as resources/table.yml creates it: shard key, sort key, projected attributes', () => {
    const index = readTableDefinition('t').GlobalSecondaryIndexes.find((gsi) => gsi.IndexName === CONTACTS_INDEX);
    expect(index?.KeySchema?.map((key) => key.AttributeName)).toEqual(['gsi1pk', 'gsi1sk']);
    expect(index?.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: [...CONTACT_SUMMARY_ATTRIBUTES] });
  });

  it('spreads numbers over the 8 contact shards, the same shard for the same number', () => {
    const numbers = Array.from({ length: 400 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`);
    const used = new Set(numbers.map(contactShard));
    expect([...used].sort()).toEqual(contactShards().sort());
    expect(contactShards()).toHaveLength(CONTACT_SHARDS);
    expect(contactShard('+14155550123')).toBe(contactShard('+14155550123'));
  });

  it('makes a call item that the contacts read back as a pending call, and as nothing once applied', () => {
    const call = missed();
    const item = callItem(call, RECORDED, 90);
    expect(item).toMatchObject({ pk: `CALL#${call.rootCallSid}`, day: '2026-11-24', occurredAt: '2026-11-24T09:15:42.000Z' });
    expect(item.expiresAt).toBe(Math.floor(RECORDED.getTime() / 1000) + 90 * 86_400);
    expect(parsePendingCall(item)).toEqual({
      rootCallSid: call.rootCallSid,
      customer: call.customer,
      line: call.line,
      status: 'no-answer',
      occurredAt: '2026-11-24T09:15:42.000Z',
      day: '2026-11-24',
    });
    expect(parsePendingCall({ ...item, contactAppliedAt: RECORDED.toISOString() })).toBeUndefined();
    expect(() => parsePendingCall({ ...item, status: 'completed' })).toThrow(new InvalidItemError('status is not a missed-call status'));
    expect(() => parsePendingCall({ ...item, occurredAt: 'yesterday' })).toThrow(InvalidItemError);
  });

  it('records a call and its day counters in one transaction, the put conditional on a new key', () => {
    const item = callItem(missed(), RECORDED, 90);
    const [put, update] = recordCallTransaction('t', item, RECORDED).TransactItems ?? [];
    expect(put?.Put).toMatchObject({ Item: item, ConditionExpression: 'attribute_not_exists(pk)' });
    // Recorded on its own day: a live day, written to the shard of its CallSid.
    expect(update?.Update).toMatchObject({ Key: { pk: statsShardKey('2026-11-24', statsShardOf(item.callSid)) } });
    expect(Object.values(update?.Update?.ExpressionAttributeNames ?? {})).toEqual([
      'type',
      'day',
      'total',
      'status:no-answer',
      'source:status-callback',
    ]);
  });

  it('shards the counters of today and yesterday by a stable hash of the seed, and writes older days to the day item', () => {
    const now = '2026-11-24T00:00:01.000Z';
    const sid = 'CA0123456789abcdef0123456789abcdef';
    expect(statsWriteKey('2026-11-24', sid, now)).toBe(statsShardKey('2026-11-24', statsShardOf(sid)));
    expect(statsWriteKey('2026-11-23', sid, now)).toBe(statsShardKey('2026-11-23', statsShardOf(sid)));
    expect(statsWriteKey('2026-11-22', sid, now)).toBe('STATS#2026-11-22');
    expect(statsShardOf(sid)).toBe(statsShardOf(sid));
    // 6,400 CallSids spread over the 64 shards: none gets more than twice its share.
    const counts = new Array<number>(STATS_SHARDS).fill(0);
    for (let i = 0; i < 6_400; i++) {
      const shard = statsShardOf(`CA${i.toString(16).padStart(32, '0')}`);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThan(200);
  });

  it('adds 1 to each named counter of a day, and reads absent counters as 0', () => {
    const update = addToDay(
      't',
      '2026-11-24',
      new Map([
        ['anonymous', 1],
        ['callbacks:opened', -1],
      ]),
      RECORDED.toISOString(),
      '+14155550100',
    );
    expect(update.UpdateExpression).toBe('SET #type = :type, #day = :day, updatedAt = :now ADD writes :one, #c0 :n0, #c1 :n1');
    expect(update.ExpressionAttributeNames).toMatchObject({ '#c0': 'anonymous', '#c1': 'callbacks:opened' });
    expect(update.ExpressionAttributeValues).toMatchObject({ ':n0': 1, ':n1': -1 });
    const counts = parseDayCounts({ total: 3, 'status:busy': 2, 'source:reconcile': 1, anonymous: 'x' });
    expect(counts.totals).toEqual({ total: 3, 'no-answer': 0, busy: 2, failed: 0, canceled: 0 });
    expect(counts.bySource).toEqual({ 'status-callback': 0, 'dial-action': 0, reconcile: 1 });
    expect(counts.anonymous).toBe(0);
    expect(parseDayCounts(undefined).totals.total).toBe(0);
  });

  it('reads a contact back as written, and refuses a malformed one without naming its number', () => {
    const pending = {
      rootCallSid: `CA${'2'.repeat(32)}`,
      customer: '+14155550123',
      line: '+14155559876',
      status: 'busy' as const,
      occurredAt: RECORDED.toISOString(),
      day: '2026-11-24',
    };
    const contact = nextContact(undefined, '+14155550123', pending, RECORDED.toISOString());
    expect(parseContact({ ...contact })).toEqual(contact);
    expect(parseContactSummary(contact)).toEqual({
      phone: '+14155550123',
      missedCount: 1,
      firstMissedAt: RECORDED.toISOString(),
      lastMissedAt: RECORDED.toISOString(),
      lastCallSid: pending.rootCallSid,
      lastStatus: 'busy',
    });
    for (const broken of [{ version: '1' }, { missedCount: undefined }, { lastStatus: 'completed' }, { phone: '' }]) {
      const attempt = () => parseContact({ ...contact, ...broken });
      expect(attempt).toThrow(InvalidItemError);
      expect(attempt).not.toThrow(/4155550123/);
    }
  });

  it('reads a contact call summary and refuses an unknown source', () => {
    const item = {
      callSid: `CA${'3'.repeat(32)}`,
      status: 'failed',
      occurredAt: RECORDED.toISOString(),
      source: 'reconcile',
      direction: 'inbound',
    };
    expect(parseCallSummary(item)).toEqual(item);
    expect(() => parseCallSummary({ ...item, source: 'guess' })).toThrow(new InvalidItemError('source is not a known source'));
  });
});
