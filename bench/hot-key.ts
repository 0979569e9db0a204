/**
 * The day counters' hottest key: a burst of missed calls from new callers, all in ONE second of
 * event time, through the real write path (the ledger's transaction, then the contacts store's,
 * as the webhook and the contacts function make them) against DynamoDB Local behind a meter that
 * counts the writes to every item key. Write units per write are what DynamoDB bills: 2 per KB
 * (rounded up) inside a transaction, 1 outside, from each counters item's size at the end.
 * "Before" is the same writes on the one `STATS#<day>` item the counters used to be; "after" is
 * the hottest of the 64 shards. Then what reading the stats costs now.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTable } from '../dev/table.js';
import { createContactsStore } from '../lib/contacts/store.js';
import { parsePendingCall } from '../lib/ledger/call-item.js';
import { classifyStatusCallback } from '../lib/ledger/calls.js';
import { readLedgerSettings } from '../lib/ledger/settings.js';
import { createLedger } from '../lib/ledger/store.js';
import { readStats, statsRange } from '../lib/operator/stats.js';
import { countRequests, createDocumentClient } from '../lib/platform/aws.js';
import { mapLimit } from '../lib/platform/pool.js';
import { callKey, STATS_FOLD_KEY, statsKey } from '../lib/table/keys.js';
import { localClient } from './build.js';
import type { Fresh } from './ingest.js';
import { startMeter } from './meter.js';

const ACCOUNT_SID = `AC${'c'.repeat(32)}`;
/** DynamoDB's documented throughput of one partition: 1,000 write units a second. */
export const PARTITION_WCU_PER_SECOND = 1_000;

/** DynamoDB's size of an item (attribute names and values, UTF-8), close enough to bill by the KB. */
export function itemBytes(item: Readonly<Record<string, unknown>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (typeof value === 'string') bytes += Buffer.byteLength(value);
    else if (typeof value === 'number') bytes += 1 + Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').length / 2);
    else if (typeof value === 'boolean') bytes += 1;
    else bytes += Buffer.byteLength(JSON.stringify(value));
  }
  return bytes;
}

export interface HotKeyBench {
  calls: number;
  eventSeconds: number;
  wallSeconds: number;
  counterWrites: number;
  shardsWritten: number;
  before: { key: string; writes: number; bytes: number; wcuPerSecond: number };
  after: { key: string; writes: number; bytes: number; wcuPerSecond: number };
  /** The hottest key of any kind (a call or contact item is written by one or two requests). */
  hottestOtherKey: { key: string; writes: number };
  targetWcuPerSecond: number;
  exact: { total: number; contactsCreated: number; expected: number };
  statsReads: { days: number; requests: number }[];
}

export async function hotKeyBench(fresh: Fresh, calls: number, concurrency = 16): Promise<HotKeyBench> {
  return fresh(async (endpoint) => {
    const tableName = `bench-hot-${Date.now()}`;
    await createTable(localClient(endpoint), tableName);
    const meter = await startMeter(endpoint);
    const docs = createDocumentClient(localClient(meter.endpoint));
    const ledger = createLedger(docs, { tableName, retentionDays: 90, settings: readLedgerSettings({}) });
    const contacts = createContactsStore(docs, { tableName });
    const second = Date.parse('2026-11-24T12:00:00.000Z');
    const day = '2026-11-24';
    const started = performance.now();
    try {
      await mapLimit(
        Array.from({ length: calls }, (_, i) => i),
        concurrency,
        async (i) => {
          // Every call inside the same second of event time, each from a new caller.
          const at = new Date(second + Math.floor((i * 1000) / calls));
          // The number's own status callback says no-answer: decided missed at once.
          const report = classifyStatusCallback({
            AccountSid: ACCOUNT_SID,
            CallSid: `CA${i.toString(16).padStart(32, '0')}`,
            CallStatus: 'no-answer',
            Direction: 'inbound',
            From: `+1415${String(2_000_000 + i).padStart(7, '0')}`,
            To: '+14155559876',
            Timestamp: at.toUTCString(),
          });
          await ledger.record(report, at);
          // The contacts function's work, as its stream record would bring it.
          const item = (
            await docs.send(new GetCommand({ TableName: tableName, Key: { pk: callKey(report.rootCallSid) }, ConsistentRead: true }))
          ).Item;
          const work = item === undefined ? undefined : parsePendingCall(item);
          if (work !== undefined) await contacts.apply(work, at);
        },
      );
    } finally {
      await meter.stop();
    }
    const wallSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
    const writes = meter.keyWrites();
    const counters = [...writes].filter(([key]) => key.startsWith(`STATS#${day}`));
    const direct = createDocumentClient(localClient(endpoint));
    const sizeOf = async (key: string) =>
      itemBytes((await direct.send(new GetCommand({ TableName: tableName, Key: { pk: key } }))).Item ?? {});
    const wcu = (transactional: number, plain: number, bytes: number) => (2 * transactional + plain) * Math.max(1, Math.ceil(bytes / 1024));
    // After: the hottest shard, by write units.
    let after = { key: '', writes: 0, bytes: 0, wcuPerSecond: 0 };
    for (const [key, w] of counters) {
      const bytes = await sizeOf(key);
      const units = wcu(w.transactional, w.writes - w.transactional, bytes);
      if (units > after.wcuPerSecond) after = { key, writes: w.writes, bytes, wcuPerSecond: units };
    }
    // Before: every one of those writes on the one day item, as large as the largest shard.
    const all = counters.reduce((sum, [, w]) => ({ writes: sum.writes + w.writes, transactional: sum.transactional + w.transactional }), {
      writes: 0,
      transactional: 0,
    });
    const largest = Math.max(0, ...(await Promise.all(counters.map(([key]) => sizeOf(key)))));
    const before = {
      key: statsKey(day),
      writes: all.writes,
      bytes: largest,
      wcuPerSecond: wcu(all.transactional, all.writes - all.transactional, largest),
    };
    const other = [...writes].filter(([key]) => !key.startsWith('STATS#')).sort((a, b) => b[1].writes - a[1].writes)[0];

    // Exact: the counts of the burst's day, read as GET /stats reads them.
    const now = new Date(second + 3_600_000);
    const oneDay = await readStats(direct, tableName, statsRange(new URLSearchParams({ from: day, to: day }), now), { now });
    // What reading costs: the steady state after a night's fold (through the day before yesterday).
    await direct.send(new PutCommand({ TableName: tableName, Item: { pk: STATS_FOLD_KEY, type: 'meta', foldedThrough: '2026-11-22' } }));
    const statsReads = [];
    for (const days of [1, 30, 366]) {
      const reader = createDocumentClient(localClient(endpoint));
      const requests = countRequests(reader);
      const from = new Date(Date.parse(`${day}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
      await readStats(reader, tableName, statsRange(new URLSearchParams({ from, to: day }), now), { now });
      statsReads.push({ days, requests: requests() });
    }
    return {
      calls,
      eventSeconds: 1,
      wallSeconds,
      counterWrites: all.writes,
      shardsWritten: counters.filter(([key]) => key !== statsKey(day)).length,
      before,
      after,
      hottestOtherKey: { key: other?.[0].replace(/\+\d+/, '+…') ?? '', writes: other?.[1].writes ?? 0 },
      targetWcuPerSecond: PARTITION_WCU_PER_SECOND,
      exact: { total: oneDay.totals.total, contactsCreated: oneDay.contactsCreated, expected: calls },
      statsReads,
    };
  });
}
