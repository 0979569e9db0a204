/**
 * GET /stats over 30 and 366 days with N calls recorded: DynamoDB requests and latency of
 * reading the day counters (the fold mark, the day items, today's and yesterday's 64 shards each), against the same answer computed from the call items (a Scan with
 * a filter on the day, which is what a table without day counters is left with).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createTable } from '../dev/table.js';
import { readStats, statsRange } from '../lib/operator/stats.js';
import { countRequests, createDocumentClient } from '../lib/platform/aws.js';
import { STATS_FOLD_KEY, statsKey } from '../lib/table/keys.js';
import { localClient, median, writeAll } from './build.js';

export interface StatsBench {
  calls: number;
  ranges: {
    days: number;
    ours: { requests: number; medianMs: number; total: number };
    baseline: { requests: number; medianMs: number; total: number };
    latencyRatio: number;
  }[];
}

export async function statsBench(endpoint: string, calls: number, repeats: number): Promise<StatsBench> {
  const tableName = `bench-stats-${Date.now()}`;
  await createTable(localClient(endpoint), tableName);
  const docs = createDocumentClient(localClient(endpoint));
  const today = new Date('2026-11-24T12:00:00Z');
  const perDay = new Map<string, number>();
  const items = Array.from({ length: calls }, (_, i) => {
    const day = new Date(today.getTime() - (i % 366) * 86_400_000).toISOString().slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
    return {
      pk: `CALL#CA${String(i).padStart(32, '0')}`,
      type: 'call',
      day,
      status: 'no-answer',
      source: 'status-callback',
      from: '+14155550123',
    };
  });
  await writeAll(docs, tableName, items);
  await writeAll(
    docs,
    tableName,
    [...perDay].map(([day, total]) => ({
      pk: statsKey(day),
      type: 'stats',
      day,
      total,
      'status:no-answer': total,
      'source:status-callback': total,
    })),
  );
  // The steady state: last night's fold went through the day before yesterday (today's and
  // yesterday's shards are read too, empty here).
  await writeAll(docs, tableName, [{ pk: STATS_FOLD_KEY, type: 'meta', foldedThrough: '2026-11-22' }]);

  const ranges = [];
  for (const days of [30, 366]) {
    const range = statsRange(
      new URLSearchParams({ from: new Date(today.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10), to: '2026-11-24' }),
      today,
    );
    const oursDocs = createDocumentClient(localClient(endpoint));
    const oursCount = countRequests(oursDocs);
    const oursMs: number[] = [];
    let oursTotal = 0;
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      oursTotal = (await readStats(oursDocs, tableName, range, { now: today })).totals.total;
      oursMs.push(performance.now() - t);
    }
    const baseDocs = createDocumentClient(localClient(endpoint));
    const baseCount = countRequests(baseDocs);
    const baseMs: number[] = [];
    let baseTotal = 0;
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      baseTotal = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const out = await baseDocs.send(
          new ScanCommand({
            TableName: tableName,
            ExclusiveStartKey: start,
            FilterExpression: '#type = :call AND #day BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#type': 'type', '#day': 'day' },
            ExpressionAttributeValues: { ':call': 'call', ':from': range.from, ':to': range.to },
            Select: 'COUNT',
          }),
        );
        baseTotal += out.Count ?? 0;
        start = out.LastEvaluatedKey;
      } while (start);
      baseMs.push(performance.now() - t);
    }
    const ours = { requests: oursCount() / repeats, medianMs: Number(median(oursMs).toFixed(1)), total: oursTotal };
    const baseline = { requests: baseCount() / repeats, medianMs: Number(median(baseMs).toFixed(1)), total: baseTotal };
    ranges.push({ days, ours, baseline, latencyRatio: Number((baseline.medianMs / ours.medianMs).toFixed(1)) });
  }
  return { calls, ranges };
}
