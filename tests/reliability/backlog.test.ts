/**
 * A backlog of lost calls recovered by ONE `POST /reconcile` through `npm start`: the run answers
 * 202 at once and goes on in asynchronous invocations of the reconcile function (serverless-offline's
 * Lambda endpoint), one page each (`RECONCILE_INVOCATION_SECONDS=0`), through a 429 and a 503 from
 * Twilio on the way; a second POST meanwhile answers 409. `npm test` runs 60 calls on pages of 25;
 * `npm run test:reliability` the 1,200 on Twilio's pages of 1,000.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '../../dev/defaults.js';
import { reconcileAndWait, startRun, waitForRun } from '../../dev/reconcile-run.js';
import { type LocalStack, startLocalStack } from '../../dev/stack.js';
import { scanAll } from '../helpers.js';
import { FULL, finishScenario, report, SCENARIO_TIMEOUT_MS } from './scale.js';

const CALLS = FULL ? 1_200 : 60;
const PAGE = FULL ? 1_000 : 25;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ RECONCILE_INVOCATION_SECONDS: '0', TWILIO_API_MAX_PAGE_SIZE: String(PAGE) });
  // Part of starting the stack: serverless-offline loads the reconcile bundle on its first
  // invocation. The local Twilio API knows no call yet: this run only sets the watermark.
  await reconcileAndWait(stack).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : error}\n${stack.output().slice(-3000)}`);
  });
}, 240_000);
afterAll(async () => {
  await finishScenario('8 reconciliation backlog');
  await stack?.stop();
});

/** Every CALL# key in the stack's table. */
async function recordedSids(): Promise<Set<string>> {
  const docs = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: LOCAL_DEFAULTS.AWS_REGION,
      credentials: { accessKeyId: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY },
    }),
  );
  const items = await scanAll(docs, 'missed-call-ledger-local');
  return new Set(items.filter((item) => String(item.pk).startsWith('CALL#')).map((item) => String(item.pk).slice(5)));
}

describe(`a backlog of ${CALLS} lost calls`, () => {
  it(
    'is recovered by one POST /reconcile over several invocations, through a 429 and a 503; a second POST meanwhile answers 409',
    async () => {
      // 40 minutes ago: inside the window (the watermark less its 60 min overlap), and past the
      // text-back's 30 min age limit.
      const startTime = new Date(Date.now() - 40 * 60_000).toISOString();
      const calls = Array.from({ length: CALLS }, (_, i) => ({
        from: `+1415${String(6_000_000 + i).padStart(7, '0')}`,
        to: '+14155559876',
        status: i % 10 === 0 ? 'busy' : 'no-answer',
        direction: 'inbound',
        startTime,
      }));
      const seeded = await fetch(`${stack.twilioApi}/__local/calls`, { method: 'POST', body: JSON.stringify(calls) });
      const sids = ((await seeded.json()) as { sids: string[] }).sids;
      // Twilio answers the first next-page request 429, then 503 (the client retries both).
      const faults = await fetch(`${stack.twilioApi}/__local/faults`, {
        method: 'POST',
        body: JSON.stringify([
          { kind: 'status', status: 429, times: 1, query: 'PageToken' },
          { kind: 'status', status: 503, times: 1, query: 'PageToken' },
        ]),
      });
      expect(faults.status).toBe(201);

      const started = Date.now();
      const runId = await startRun(stack);
      const answeredMs = Date.now() - started;
      const second = await fetch(`${stack.target}/reconcile`, { method: 'POST', headers: { 'x-api-key': stack.key } });
      const run = await waitForRun(stack, runId, { timeoutMs: FULL ? 600_000 : 9_000 });
      const recorded = await recordedSids();
      report.deliveries += run.summary?.listed ?? 0;
      report.faultsInjected += 2;
      report.badInputs += 1;
      if (second.status !== 409) report.badInputAccepted += 1;
      report.recordsLost += sids.filter((sid) => !recorded.has(sid)).length;
      report.doubleCounts += Math.max(0, (run.summary?.recoveredTotal ?? 0) - CALLS);
      console.log(
        `[reliability] backlog: ${CALLS} calls, POST answered in ${answeredMs} ms, run ${run.state} in ${Date.now() - started} ms over ${run.invocations} invocations`,
      );

      expect(second.status, JSON.stringify(run)).toBe(409);
      expect(await second.json()).toMatchObject({ runId });
      // One page an invocation: the no-answer pages, then busy's one page and failed's (empty) one.
      const noAnswer = calls.filter((c) => c.status === 'no-answer').length;
      const pages = Math.ceil(noAnswer / PAGE) + 1 + 1;
      expect(run, JSON.stringify(run)).toMatchObject({
        state: 'succeeded',
        invocations: pages,
        summary: {
          pages,
          listed: CALLS,
          recoveredTotal: CALLS,
          alreadyRecorded: 0,
          recovered: { 'no-answer': noAnswer, busy: CALLS - noAnswer },
        },
      });
      // Each page once, plus the two refused attempts.
      expect(run.summary?.twilioRequests, JSON.stringify(run)).toBe(pages + 2);
      expect(sids.filter((sid) => !recorded.has(sid))).toEqual([]);
      expect(recorded.size).toBe(CALLS);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
