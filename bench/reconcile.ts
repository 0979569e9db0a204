/**
 * Reconciliation: N calls in the local Twilio API across no-answer/busy/failed, all but 1% already
 * in the table. Our run (BatchGetItem, then the recording transaction for the missing ones)
 * against a naive run that sends the conditional put for every listed call. Then the same window
 * with 10% lost as an asynchronous run continued over several invocations (lib/reconcile/run.ts).
 */
import { createTable } from '../dev/table.js';
import { type LocalCall, newCallSid, startTwilioApi } from '../dev/twilio-api.js';
import { callItem } from '../lib/ledger/call-item.js';
import type { MissedCall } from '../lib/ledger/calls.js';
import { createLedger, createReconcileLedger } from '../lib/ledger/store.js';
import { countRequests, createDocumentClient } from '../lib/platform/aws.js';
import { mapLimit } from '../lib/platform/pool.js';
import { createRunLease } from '../lib/reconcile/lease.js';
import { type RunSummary, reconcile, reconcileOptions, WINDOW_DEFAULTS } from '../lib/reconcile/reconcile.js';
import { createReconcileRuns } from '../lib/reconcile/run.js';
import { createRunStore } from '../lib/reconcile/runs.js';
import { createWatermark } from '../lib/reconcile/watermark.js';
import { createTwilioCalls } from '../lib/twilio/client.js';
import { localClient, writeAll } from './build.js';
import type { Fresh } from './ingest.js';

const ACCOUNT_SID = `AC${'b'.repeat(32)}`;
const TOKEN = 'bench-token';
const NOW = new Date('2026-11-24T03:00:00.000Z');

export interface ReconcileBench {
  listed: number;
  missing: number;
  /** The same window as an asynchronous run (lib/reconcile/run.ts) over several invocations, with 10% lost. */
  continued: {
    missing: number;
    invocationLimitMs: number;
    invocations: number;
    state: string;
    summary: RunSummary;
    wallMs: number;
    /** The counts equal those of the same window recorded in one go. */
    addsUp: boolean;
  };
  ours: RunSummary & { writeRequests: number; wallMs: number };
  naive: { listed: number; writeRequests: number; dynamoRequests: number; wallMs: number };
  expectedTwilioRequests: number;
  goals: { twilioRequestsAsExpected: boolean; writesAtMost1_1xMissing: boolean };
}

function seed(n: number): LocalCall[] {
  const statuses: LocalCall['status'][] = [
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'busy',
    'busy',
    'failed',
  ];
  return Array.from({ length: n }, (_, i) => ({
    sid: newCallSid(),
    from: `+1415${String(5_000_000 + (i % 4_000_000)).slice(-7)}`,
    to: '+14155559876',
    status: statuses[i % 10] ?? 'no-answer',
    direction: 'inbound' as const,
    startTime: new Date(NOW.getTime() - 40 * 3_600_000 + Math.floor((i * 36 * 3_600_000) / n)),
  }));
}

const asMissed = (c: LocalCall): MissedCall => ({
  rootCallSid: c.sid,
  legCallSids: [c.sid],
  line: c.to,
  accountSid: ACCOUNT_SID,
  status: c.status === 'busy' ? 'busy' : c.status === 'failed' ? 'failed' : 'no-answer',
  direction: c.direction,
  from: c.from,
  to: c.to,
  customer: c.from,
  source: 'status-callback',
  startedAt: c.startTime.toISOString(),
  reportedAt: undefined,
});

/** A new table holding `recorded` as call items, as if their webhooks had arrived. */
async function seedTable(endpoint: string, tableName: string, recorded: readonly LocalCall[]): Promise<void> {
  await createTable(localClient(endpoint), tableName);
  const items = recorded.map((c) => callItem(asMissed(c), NOW, 90));
  await writeAll(createDocumentClient(localClient(endpoint)), tableName, items);
}

/** Counts write requests (TransactWriteItems, PutItem, UpdateItem, BatchWriteItem) a client sends. */
function countWrites(docs: ReturnType<typeof createDocumentClient>): () => number {
  let writes = 0;
  docs.middlewareStack.add(
    (next, context) => async (args) => {
      if (/Transact|Put|Update|BatchWrite/.test(String(context.commandName))) writes += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
  return () => writes;
}

export async function reconcileBench(fresh: Fresh, calls: number, naiveCalls: number): Promise<ReconcileBench> {
  const api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [TOKEN] });
  try {
    const all = seed(calls);
    const missing = Math.round(calls * 0.01);
    const measured = await fresh(async (endpoint) => {
      api.calls.push(...all);
      const tableName = 'bench-reconcile';
      // The 99% that webhooks did record, written directly.
      await seedTable(endpoint, tableName, all.slice(missing));
      const docs = createDocumentClient(localClient(endpoint));
      const dynamoRequests = countRequests(docs);
      const writes = countWrites(docs);
      const started = performance.now();
      const ours = await reconcile(
        {
          twilio: createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: TOKEN, baseUrl: api.baseUrl }),
          ledger: createReconcileLedger(docs, { tableName, retentionDays: 90 }),
          watermark: createWatermark(docs, tableName),
          dynamoRequests,
          now: () => NOW,
        },
        reconcileOptions({ accountSid: ACCOUNT_SID, includeCanceled: false, ...WINDOW_DEFAULTS }),
      );
      const oursWall = performance.now() - started;
      // The watermark's own write is not one of the run's recordings.
      return { ours, oursWall, ourWrites: writes() - 1 };
    });
    const { ours, oursWall, ourWrites } = measured;

    // Naive: a conditional put (the same recording transaction) for every listed call.
    const naive = await fresh(async (endpoint) => {
      const naiveTable = 'bench-naive';
      await createTable(localClient(endpoint), naiveTable);
      const naiveDocs = createDocumentClient(localClient(endpoint));
      const naiveRequests = countRequests(naiveDocs);
      const naiveWrites = countWrites(naiveDocs);
      const naiveLedger = createLedger(naiveDocs, { tableName: naiveTable, retentionDays: 90 });
      const subset = all.slice(0, naiveCalls);
      const naiveStarted = performance.now();
      await mapLimit(subset, 8, async (c) => {
        await naiveLedger.record({ ...asMissed(c), source: 'reconcile' });
      });
      return { wall: performance.now() - naiveStarted, writes: naiveWrites(), requests: naiveRequests() };
    });

    // The asynchronous run: the window worked through in invocations of at most ~1/4 of the
    // one-go run's time each, every continuation queued and taken as Lambda would.
    const continuedMissing = Math.round(calls * 0.1);
    const invocationLimitMs = Math.max(200, Math.round(oursWall / 4));
    const continued = await fresh(async (endpoint) => {
      const tableName = 'bench-continued';
      await seedTable(endpoint, tableName, all.slice(continuedMissing));
      const docs = createDocumentClient(localClient(endpoint));
      const queue: string[] = [];
      const runs = createReconcileRuns({
        twilioCalls: async (options) =>
          createTwilioCalls({ ...options, accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: TOKEN, baseUrl: api.baseUrl }),
        ledger: createReconcileLedger(docs, { tableName, retentionDays: 90 }),
        watermark: createWatermark(docs, tableName),
        dynamoRequests: countRequests(docs),
        options: reconcileOptions({ accountSid: ACCOUNT_SID, includeCanceled: false, ...WINDOW_DEFAULTS }),
        lease: createRunLease(docs, tableName),
        runs: createRunStore(docs, tableName),
        invokeSelf: async (event) => {
          queue.push(event.reconcileRun);
        },
        invocationLimitMs,
        now: () => NOW.getTime() + (performance.now() - began),
      });
      const began = performance.now();
      const run = await runs.start('http');
      queue.push(run.runId);
      let last: Awaited<ReturnType<typeof runs.continueRun>>;
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) last = await runs.continueRun(next, () => 300_000);
      return { run: last, wallMs: Math.round(performance.now() - began) };
    });
    const finished = continued.run;
    if (finished === undefined) throw new Error('bench: the continued run vanished');

    const perStatus = [7, 2, 1].map((share) => Math.ceil((calls * share) / 10 / 1000));
    const expectedTwilioRequests = perStatus.reduce((a, b) => a + b, 0) + ours.parentsFetched;
    return {
      listed: ours.listed,
      missing,
      continued: {
        missing: continuedMissing,
        invocationLimitMs,
        invocations: finished.invocations,
        state: finished.state,
        summary: finished.summary,
        wallMs: continued.wallMs,
        addsUp:
          finished.state === 'succeeded' &&
          finished.summary.listed === ours.listed &&
          finished.summary.recoveredTotal === continuedMissing &&
          finished.summary.alreadyRecorded === ours.listed - continuedMissing,
      },
      ours: { ...ours, writeRequests: ourWrites, wallMs: Math.round(oursWall) },
      naive: { listed: naiveCalls, writeRequests: naive.writes, dynamoRequests: naive.requests, wallMs: Math.round(naive.wall) },
      expectedTwilioRequests,
      goals: {
        twilioRequestsAsExpected: ours.twilioRequests === expectedTwilioRequests,
        writesAtMost1_1xMissing: ourWrites <= 1.1 * missing,
      },
    };
  } finally {
    await api.stop();
  }
}
