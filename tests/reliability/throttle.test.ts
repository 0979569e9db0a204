/**
 * Throttling and transaction conflicts, injected where the SDK's HTTP handler meets the wire
 * of the webhook's own DynamoDB client: the SDK parses the faked answers and retries them as it
 * would AWS's. The faults hit a missed call's decision (the transaction that writes its outcome
 * with its day's counters; its evidence is written before, alone). Throttles and conflicts that
 * persist end in a 503 after bounded attempts, leaving the evidence undecided for a safety net;
 * a transaction whose answer is lost after it committed is retried into a duplicate, not a double
 * count; nothing is ever half-written (a decided miss and its day's counter go together).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKnownCall } from '../../lib/ledger/call-item.js';
import { callKey } from '../../lib/table/keys.js';
import { freshTable, scanAll, statusCallback } from '../helpers.js';
import {
  coldStartWebhook,
  FULL,
  finishScenario,
  lambdaContext,
  report,
  SCENARIO_TIMEOUT_MS,
  signedEvent,
  type WebhookHandler,
} from './scale.js';

const context = lambdaContext('throttle');
const PER_KIND = FULL ? 40 : 2;

/** What the wire does to a call's TransactWriteItems requests. */
type Fault =
  | 'throttled-once' // 400 ProvisionedThroughputExceededException, then through
  | 'throttled-always' // every attempt throttled
  | 'conflict-always' // every attempt cancelled with TransactionConflict
  | 'answer-lost-500' // committed in DynamoDB, then the answer replaced by a 500
  | 'answer-lost-reset'; // committed in DynamoDB, then the connection reset

const KINDS: Fault[] = ['throttled-once', 'throttled-always', 'conflict-always', 'answer-lost-500', 'answer-lost-reset'];

type RequestHandler = DynamoDBClient['config']['requestHandler'];
type HttpRequest = Parameters<RequestHandler['handle']>[0];
type HandlerOutput = Awaited<ReturnType<RequestHandler['handle']>>;

let table: Awaited<ReturnType<typeof freshTable>>;
/** Warm Lambda containers: each has its own DynamoDB client and handles one webhook at a time. */
const containers: WebhookHandler[] = [];
const CONTAINERS = FULL ? 8 : 2;
/** The fault of each CallSid, and how many TransactWriteItems attempts each made. */
const plan = new Map<string, Fault>();
const attempts = new Map<string, number>();
let faultsOn = true;

const awsError = (status: number, type: string, extra: Record<string, unknown> = {}): HandlerOutput => ({
  response: {
    statusCode: status,
    reason: undefined,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'FAULT' },
    body: Buffer.from(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'injected', ...extra })),
  },
});

// (The SDK's JSON body is a Uint8Array whose string methods warn: read its bytes.)
const bodyText = (body: unknown): string =>
  typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : '';

function wrap(requestHandler: RequestHandler): void {
  const original = requestHandler.handle.bind(requestHandler);
  requestHandler.handle = async (request: HttpRequest, options?: Parameters<RequestHandler['handle']>[1]) => {
    const isTransaction = request.headers['x-amz-target'] === 'DynamoDB_20120810.TransactWriteItems';
    // A decision's transaction updates the call item by its key.
    const sid = isTransaction ? /"pk":\{"S":"CALL#(CA[0-9a-f]{32})"\}/.exec(bodyText(request.body))?.[1] : undefined;
    const fault = sid === undefined || !faultsOn ? undefined : plan.get(sid);
    if (sid === undefined || fault === undefined) return original(request, options);
    const attempt = (attempts.get(sid) ?? 0) + 1;
    attempts.set(sid, attempt);
    // Throttled once, or an answer lost once: the retry goes through.
    const once = fault === 'throttled-once' || fault === 'answer-lost-500' || fault === 'answer-lost-reset';
    if (once && attempt > 1) return original(request, options);
    report.faultsInjected += 1;
    if (fault === 'throttled-once' || fault === 'throttled-always') {
      return awsError(400, 'ProvisionedThroughputExceededException');
    }
    if (fault === 'conflict-always') {
      return awsError(400, 'TransactionCanceledException', {
        CancellationReasons: [{ Code: 'TransactionConflict', Message: 'injected' }, { Code: 'None' }],
      });
    }
    // The request reaches DynamoDB and commits; only its answer is lost (the first time).
    const real = await original(request, options);
    (real.response.body as NodeJS.ReadableStream | undefined)?.resume();
    if (fault === 'answer-lost-500') return awsError(500, 'InternalServerError');
    throw Object.assign(new Error('socket hang up (injected)'), { code: 'ECONNRESET' });
  };
}

beforeAll(async () => {
  table = await freshTable();
  for (let i = 0; i < CONTAINERS; i++) {
    containers.push(await coldStartWebhook(table.tableName));
    // The same module graph as this container's handler: its process-wide DynamoDB client.
    const { dynamo } = await import('../../lib/platform/aws.js');
    wrap(dynamo().config.requestHandler);
  }
});
afterAll(async () => {
  await finishScenario('3 throttling and conflicts');
  await table.drop();
});

/** Deliveries spread over the containers, each container one at a time, as Lambda runs them. */
async function deliverAll(
  all: Record<string, string>[],
  onAnswered: (elapsedMs: number) => void = () => {},
): Promise<APIGatewayProxyResult[]> {
  const responses: APIGatewayProxyResult[] = [];
  await Promise.all(
    containers.map(async (handler, c) => {
      for (let i = c; i < all.length; i += containers.length) {
        const t0 = performance.now();
        responses[i] = await handler(signedEvent(all[i] ?? {}), context);
        onAnswered(performance.now() - t0);
      }
    }),
  );
  return responses;
}

describe('throttling and transaction conflicts', () => {
  it(
    'retries within bounds, answers 503 when faults persist, never half-writes, never double counts',
    async () => {
      // Each call on a day of its own: the faults here are injected ones, not contention on one
      // day's counter (the storm scenario has that).
      let n = 0;
      const nextDay = () => new Date(Date.UTC(2026, 0, 1) + n++ * 86_400_000).toUTCString();
      const calls = KINDS.flatMap((kind) =>
        Array.from({ length: PER_KIND }, () => {
          const params = statusCallback({ Timestamp: nextDay() });
          plan.set(params.CallSid, kind);
          return { kind, params };
        }),
      );

      const started = performance.now();
      const slowest: number[] = [];
      const first = await deliverAll(
        calls.map((c) => c.params),
        (ms) => slowest.push(ms),
      );
      report.deliveries += calls.length;
      console.log(
        `[reliability] throttle: ${calls.length} webhooks under injected faults answered in ${((performance.now() - started) / 1000).toFixed(1)} s, slowest ${(Math.max(...slowest) / 1000).toFixed(1)} s`,
      );

      // Right after the faults: every 2xx is a decided, counted miss; every 503 left at most its
      // evidence (written before the decision), undecided and uncounted; each decided call is
      // counted once on its day (no decision without its counter, no counter without its decision).
      const decided = (items: Record<string, unknown>[]) =>
        new Set(
          items.filter((i) => i.type === 'call' && i.outcome === 'missed' && typeof i.countedAs === 'string').map((i) => String(i.pk)),
        );
      const itemsNow = await scanAll(table.docs, table.tableName);
      const storedNow = decided(itemsNow);
      const statsNow = itemsNow.filter((i) => i.type === 'stats');
      const byKind = (kind: Fault) => calls.map((c, i) => ({ ...c, status: first[i]?.statusCode ?? 0 })).filter((c) => c.kind === kind);
      report.acknowledgedUnrecorded += calls.filter(
        (c, i) => (first[i]?.statusCode ?? 500) < 300 && !storedNow.has(callKey(c.params.CallSid)),
      ).length;
      const totalNow = statsNow.reduce((sum, i) => sum + Number(i.total ?? 0), 0);
      report.doubleCounts += Math.max(0, totalNow - storedNow.size);

      expect(byKind('throttled-once').map((c) => c.status)).toEqual(byKind('throttled-once').map(() => 204));
      expect(byKind('answer-lost-500').map((c) => c.status)).toEqual(byKind('answer-lost-500').map(() => 204));
      expect(byKind('answer-lost-reset').map((c) => c.status)).toEqual(byKind('answer-lost-reset').map(() => 204));
      expect(byKind('throttled-always').map((c) => c.status)).toEqual(byKind('throttled-always').map(() => 503));
      expect(byKind('conflict-always').map((c) => c.status)).toEqual(byKind('conflict-always').map(() => 503));
      const refused = [...byKind('throttled-always'), ...byKind('conflict-always')];
      for (const c of refused) expect(storedNow.has(callKey(c.params.CallSid))).toBe(false);
      expect(totalNow).toBe(storedNow.size);
      expect(storedNow.size).toBe(PER_KIND * 3);
      // Bounded: a throttle is retried by the SDK (3 attempts in all, lib/platform/aws.ts); a conflict by
      // the ledger (8 transactions), each of which the SDK sends once (a cancellation is final).
      const attemptsOf = (kind: Fault) => [...new Set(byKind(kind).map((c) => attempts.get(c.params.CallSid) ?? 0))];
      expect(attemptsOf('throttled-once')).toEqual([2]);
      expect(attemptsOf('throttled-always')).toEqual([3]);
      expect(attemptsOf('conflict-always')).toEqual([8]);
      expect(attemptsOf('answer-lost-500')).toEqual([2]);
      expect(attemptsOf('answer-lost-reset')).toEqual([2]);

      // The faults clear. Should Twilio give up on the 503s, their evidence is there, and must be
      // where a safety net finds it: in the settle index (the sweep decides it a settle time
      // later), or undecided to the reconciliation's eyes (it decides it from its listing).
      faultsOn = false;
      const afterFaults = await scanAll(table.docs, table.tableName);
      const unfindable = refused.filter((c) => {
        const item = afterFaults.find((i) => i.pk === callKey(c.params.CallSid));
        return item !== undefined && item.gsi1pk === undefined && parseKnownCall(item).known.decided && item.outcome !== 'missed';
      });
      report.recordsLost += unfindable.length;
      // (An ended call whose decision failed is put in the settle index by the ledger, best effort;
      // should that write fail too, only the reconciliation can find it: see
      // tests/integration/reconcile.test.ts, "the table gone before the ledger could put it in the
      // settle index".)
      expect(unfindable.map((c) => c.kind)).toEqual([]);

      // Twilio re-delivers what got a 503 (and, here, everything once more): nothing moves twice.
      const again = await deliverAll(calls.map((c) => c.params));
      report.deliveries += calls.length;
      report.duplicates = report.deliveries - calls.length;
      const items = await scanAll(table.docs, table.tableName);
      const stored = decided(items);
      const total = items.filter((i) => i.type === 'stats').reduce((sum, i) => sum + Number(i.total ?? 0), 0);
      report.recordsLost += calls.filter((c) => !stored.has(callKey(c.params.CallSid))).length;
      report.doubleCounts += Math.max(0, total - calls.length);

      expect(again.map((r) => r.statusCode)).toEqual(calls.map(() => 204));
      expect(stored.size).toBe(calls.length);
      expect(total).toBe(calls.length);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
