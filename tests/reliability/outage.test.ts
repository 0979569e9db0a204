/**
 * DynamoDB outage mid-burst: a simulated day of Twilio traffic (dev/simulator.ts) goes to
 * the webhook while a proxy in front of DynamoDB Local passes, then stalls, then resets every
 * connection. During the outage no callback gets a 2xx (each one writes its evidence; the SDK's
 * timeouts and retries end each in a 503 within Twilio's 15 s). After recovery Twilio re-delivers
 * some of what failed (its own retries of the rest fell in the outage) and the reconciliation
 * finds the others from the REST API: the ledger then says of every call what the whole-call rule
 * says of everything it could know (every callback it acknowledged, every leg Twilio lists), each
 * miss once. That is the simulator's ground truth but for the misses only an `<Enqueue action>`
 * tells of (the REST API lists a queue call as a plain `completed` call) whose callback was lost.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../dev/fault-proxy.js';
import { type Callback, type CallFacts, factsOf, factsOfLegs, judge, planDay } from '../../dev/simulator.js';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createReconcileLedger } from '../../lib/ledger/store.js';
import { countRequests } from '../../lib/platform/aws.js';
import { reconcile, reconcileOptions, WINDOW_DEFAULTS } from '../../lib/reconcile/reconcile.js';
import { createWatermark } from '../../lib/reconcile/watermark.js';
import { callKey } from '../../lib/table/keys.js';
import { createTwilioCalls } from '../../lib/twilio/client.js';
import { ACCOUNT_SID, AUTH_TOKEN, freshTable, LEDGER_SETTINGS, scanAll } from '../helpers.js';
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

const rootOf = (c: Callback) => c.params.ParentCallSid || c.params.CallSid || '';

/** What the callbacks delivered and the REST API's listing tell together (the rule's facts, per dev/simulator.ts). */
function knowable(delivered: CallFacts, listed: CallFacts): CallFacts {
  return {
    direction: listed.direction,
    root: delivered.root ?? listed.root,
    legs: new Map([...listed.legs, ...delivered.legs]),
    dials: delivered.dials,
    queues: delivered.queues,
  };
}

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
      // Every callback the simulator sends (a final status, a Dial or Enqueue action) writes its
      // call's evidence: none may be acknowledged while DynamoDB is unreachable.
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

      // What a 2xx during the outage acknowledged must be stored.
      const storedAfterOutage = new Set(
        (await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'call').map((i) => String(i.pk)),
      );
      const during = [...stalled, ...reset];
      const wronglyAcknowledged = duringCallbacks.filter(
        (c, i) => (during[i]?.statusCode ?? 500) < 300 && !storedAfterOutage.has(callKey(rootOf(c))),
      );
      report.acknowledgedUnrecorded += wronglyAcknowledged.length;

      // Twilio's retries of the stalled ones land after recovery; those of the reset ones all fell
      // inside the outage and Twilio gave up on them: only the reconciliation can find those.
      const stalledCallbacks = duringCallbacks.slice(0, half);
      await settle(stalledCallbacks, stalled);
      const summary = await reconcile(
        {
          twilio: createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: AUTH_TOKEN, baseUrl: api.baseUrl }),
          ledger: createReconcileLedger(table.as('reconcile'), {
            tableName: table.tableName,
            retentionDays: 90,
            settings: LEDGER_SETTINGS,
          }),
          watermark: createWatermark(table.as('reconcile'), table.tableName),
          dynamoRequests: countRequests(table.as('reconcile')),
        },
        reconcileOptions({ accountSid: ACCOUNT_SID, outcome: LEDGER_SETTINGS, callbackMinSeconds: 10, ...WINDOW_DEFAULTS }),
      );
      report.deliveries += summary.listed;

      // What the ledger could know of each call: the callbacks it acknowledged (a 2xx at the
      // last delivery) and what Twilio lists of its legs, judged by the simulator's own rule.
      const acknowledged = new Set<Callback>();
      const phases: [Callback[], typeof before][] = [
        [callbacks.slice(0, third), before],
        [stalledCallbacks, stalled],
        [duringCallbacks.slice(half), reset],
        [callbacks.slice(2 * third), after],
      ];
      for (const [batch, responses] of phases)
        batch.forEach((c, i) => {
          if ((responses[i]?.statusCode ?? 500) < 300) acknowledged.add(c);
        });
      const expected = new Map<string, string>();
      for (const call of plan.calls) {
        const verdict = judge(knowable(factsOf(call.callbacks.filter((c) => acknowledged.has(c))), factsOfLegs(call.legs)), plan.settings);
        if (verdict.outcome === 'missed') expected.set(callKey(call.rootCallSid), verdict.reason);
      }
      // Only misses a lost `<Enqueue action>` alone told of are beyond it.
      const beyond = plan.calls.filter((c) => c.outcome === 'missed' && !expected.has(callKey(c.rootCallSid)));
      expect(beyond.filter((c) => !c.callbacks.some((cb) => cb.route === '/twilio/queue-status' && !acknowledged.has(cb)))).toEqual([]);

      const items = await scanAll(table.docs, table.tableName);
      const missed = new Map(
        items
          .filter((i) => i.type === 'call' && i.outcome === 'missed' && typeof i.countedAs === 'string')
          .map((i) => [String(i.pk), String(i.reason)]),
      );
      const stats = items.filter((i) => i.type === 'stats');
      const counted = (field: string) => stats.reduce((sum, i) => sum + Number(i[field] ?? 0), 0);
      report.recordsLost += [...expected.keys()].filter((pk) => !missed.has(pk)).length;
      report.doubleCounts += [...missed.keys()].filter((pk) => !expected.has(pk)).length + Math.max(0, counted('total') - expected.size);
      report.duplicates = report.deliveries - callbacks.length;
      console.log(
        `[reliability] outage: ${CALLS} calls, ${callbacks.length} callbacks, ${duringCallbacks.length} during the outage (the slowest of the ${stalled.length} stalled answered in ${stalledSeconds.toFixed(1)} s); ${expected.size} misses knowable (${plan.truth.missed} in all, ${beyond.length} told only by a lost <Enqueue action>); reconciliation recovered ${summary.recoveredTotal} with ${summary.twilioRequests} Twilio requests`,
      );

      // Invariants, not the speed of a loaded emulator: a valid callback is acknowledged or answered
      // 503 (Twilio retries; what its retries miss is the reconciliation's), never another error.
      expect([...before, ...after, ...stalled].filter((r) => r.statusCode >= 300 && r.statusCode !== 503)).toEqual([]);
      expect(duringCallbacks.filter((_, i) => (during[i]?.statusCode ?? 0) !== 503)).toEqual([]);
      expect(wronglyAcknowledged).toEqual([]);
      expect(summary.recoveredTotal).toBeGreaterThan(0);
      // Each call as the rule says, each miss with its reason, once.
      expect(Object.fromEntries([...missed].sort())).toEqual(Object.fromEntries([...expected].sort()));
      expect(counted('total')).toBe(expected.size);
      const reasons = [...expected.values()];
      for (const reason of new Set(reasons)) expect(counted(`reason:${reason}`), reason).toBe(reasons.filter((r) => r === reason).length);
      // Nothing is left undecided: the reconciliation decided every call it listed.
      expect(items.filter((i) => i.type === 'call' && i.gsi1pk !== undefined).map((i) => i.pk)).toEqual([]);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
