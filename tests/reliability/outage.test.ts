/**
 * DynamoDB outage mid-burst: a simulated day of Twilio traffic (dev/simulator.ts) goes to
 * the webhook while a proxy in front of DynamoDB Local passes, then stalls, then resets every
 * connection. During the outage no callback of a missed call gets a 2xx (the SDK's timeouts and
 * retries end each in a 503 within Twilio's 15 s). After recovery Twilio re-delivers some of
 * what failed (its own retries of the rest fell in the outage) and the reconciliation finds
 * the others: the ledger then equals the simulator's ground truth, each call once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../dev/fault-proxy.js';
import { type Callback, planDay } from '../../dev/simulator.js';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createReconcileLedger } from '../../lib/ledger/store.js';
import { countRequests } from '../../lib/platform/aws.js';
import { reconcile, reconcileOptions, WINDOW_DEFAULTS } from '../../lib/reconcile/reconcile.js';
import { createWatermark } from '../../lib/reconcile/watermark.js';
import { callKey } from '../../lib/table/keys.js';
import { createTwilioCalls } from '../../lib/twilio/client.js';
import { ACCOUNT_SID, AUTH_TOKEN, freshTable, scanAll } from '../helpers.js';
import {
  coldStartWebhook,
  FULL,
  finishScenario,
  inParallel,
  lambdaContext,
  redeliverFailures,
  report,
  SCENARIO_TIMEOUT_MS,
  signedEvent,
  type WebhookHandler,
} from './scale.js';

const context = lambdaContext('outage');
const CALLS = FULL ? 600 : 30;

let table: Awaited<ReturnType<typeof freshTable>>;
let proxy: FaultProxy;
let api: TwilioApi;
let handler: WebhookHandler;

beforeAll(async () => {
  table = await freshTable();
  const target = new URL(inject('dynamoEndpoint'));
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
  handler = await coldStartWebhook(table.tableName, {
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    // The large run keeps the deployed 3 s per attempt; the small one stalls for less.
    ...(FULL ? {} : { AWS_REQUEST_TIMEOUT_MS: '500' }),
  });
});
afterAll(async () => {
  await finishScenario('2 DynamoDB outage');
  await proxy.stop();
  await api.stop();
  await table.drop();
});

const MISSED = new Set(['no-answer', 'busy', 'failed']);
const rootOf = (c: Callback) => c.params.ParentCallSid || c.params.CallSid || '';

describe('DynamoDB outage', () => {
  it(
    'answers 5xx while DynamoDB is unreachable, never 2xx for an unrecorded call; re-delivery and reconciliation restore the truth',
    async () => {
      // Calls 10 to 50 minutes back: inside the reconciliation's first window, past its settle time.
      const now = Date.now();
      const plan = planDay({
        calls: CALLS,
        seed: 8,
        accountSid: ACCOUNT_SID,
        from: new Date(now - 50 * 60_000),
        to: new Date(now - 10 * 60_000),
      });
      api.calls.push(...plan.calls.flatMap((c) => c.legs));
      const callbacks = plan.calls.flatMap((c) => c.callbacks);
      // A callback that records its call when delivered alone: a missed status of a missed call.
      const missedRootSids = new Set(plan.calls.filter((c) => c.missed !== undefined).map((c) => c.rootCallSid));
      const records = (c: Callback) =>
        missedRootSids.has(rootOf(c)) &&
        MISSED.has((c.route === '/twilio/dial-status' ? c.params.DialCallStatus : c.params.CallStatus) ?? '');
      const third = Math.ceil(callbacks.length / 3);
      // Deliveries in flight at once: a burst, as a busy hour's callbacks arrive.
      let slowestMs = 0;
      const send = async (c: Callback | undefined) => {
        if (c === undefined) throw new Error('no callback');
        const started = performance.now();
        const response = await handler(signedEvent(c.params, c.route), context);
        slowestMs = Math.max(slowestMs, performance.now() - started);
        return response;
      };
      const deliver = (batch: Callback[]) => inParallel(batch.length, 50, (i) => send(batch[i]));
      // Twilio re-delivers what got a 5xx while DynamoDB was up (a conflict or a slow answer).
      const settle = async (batch: Callback[], responses: Awaited<ReturnType<typeof deliver>>) => {
        report.deliveries += await redeliverFailures(responses, (i) => send(batch[i]));
        return responses;
      };

      const before = await settle(callbacks.slice(0, third), await deliver(callbacks.slice(0, third)));
      proxy.setMode('stall');
      slowestMs = 0;
      const duringCallbacks = callbacks.slice(third, 2 * third);
      const half = Math.ceil(duringCallbacks.length / 2);
      const stalled = await deliver(duringCallbacks.slice(0, half));
      const stalledSeconds = slowestMs / 1000;
      proxy.setMode('reset');
      const reset = await deliver(duringCallbacks.slice(half));
      proxy.setMode('pass');
      const after = await settle(callbacks.slice(2 * third), await deliver(callbacks.slice(2 * third)));
      report.deliveries += callbacks.length;
      report.faultsInjected += duringCallbacks.length;

      // What a 2xx during the outage acknowledged must be stored (only callbacks that do not
      // record, such as an answered call's `completed`, may be acknowledged without a write).
      const storedAfterOutage = new Set(
        (await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'call').map((i) => String(i.pk)),
      );
      const during = [...stalled, ...reset];
      const wronglyAcknowledged = duringCallbacks.filter(
        (c, i) => records(c) && (during[i]?.statusCode ?? 500) < 300 && !storedAfterOutage.has(callKey(rootOf(c))),
      );
      report.acknowledgedUnrecorded += wronglyAcknowledged.length;

      // Twilio's retries of the stalled ones land after recovery; those of the reset ones all fell
      // inside the outage and Twilio gave up on them: only the reconciliation can find those.
      const stalledCallbacks = duringCallbacks.slice(0, half);
      await settle(stalledCallbacks, stalled);
      const summary = await reconcile(
        {
          twilio: createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: AUTH_TOKEN, baseUrl: api.baseUrl }),
          ledger: createReconcileLedger(table.as('reconcile'), { tableName: table.tableName, retentionDays: 90 }),
          watermark: createWatermark(table.as('reconcile'), table.tableName),
          dynamoRequests: countRequests(table.as('reconcile')),
        },
        reconcileOptions({ accountSid: ACCOUNT_SID, includeCanceled: false, ...WINDOW_DEFAULTS }),
      );
      report.deliveries += summary.listed;

      const items = await scanAll(table.docs, table.tableName);
      const stored = new Set(items.filter((i) => i.type === 'call').map((i) => String(i.pk)));
      const stats = items.filter((i) => i.type === 'stats');
      const counted = (field: string) => stats.reduce((sum, i) => sum + Number(i[field] ?? 0), 0);
      const missedRoots = new Set([...missedRootSids].map(callKey));
      report.recordsLost += [...missedRoots].filter((pk) => !stored.has(pk)).length;
      report.doubleCounts += [...stored].filter((pk) => !missedRoots.has(pk)).length + Math.max(0, counted('total') - plan.truth.missed);
      report.duplicates = report.deliveries - callbacks.length;
      console.log(
        `[reliability] outage: ${CALLS} calls, ${callbacks.length} callbacks, ${duringCallbacks.length} during the outage (the slowest of the ${stalled.length} stalled answered in ${stalledSeconds.toFixed(1)} s); reconciliation recovered ${summary.recoveredTotal}`,
      );

      // Invariants, not the speed of a loaded emulator: a valid callback is acknowledged or answered
      // 503 (Twilio retries; what its retries miss is the reconciliation's), never another error.
      expect([...before, ...after, ...stalled].filter((r) => r.statusCode >= 300 && r.statusCode !== 503)).toEqual([]);
      expect(duringCallbacks.filter((c, i) => records(c) && (during[i]?.statusCode ?? 0) !== 503)).toEqual([]);
      expect(wronglyAcknowledged).toEqual([]);
      expect(summary.recoveredTotal).toBeGreaterThan(0);
      expect([...stored].sort()).toEqual([...missedRoots].sort());
      expect(counted('total')).toBe(plan.truth.missed);
      for (const [status, count] of Object.entries(plan.truth.byStatus)) expect(counted(`status:${status}`)).toBe(count);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
