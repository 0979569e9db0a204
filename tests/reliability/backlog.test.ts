/**
 * A backlog of lost calls recovered by ONE `POST /reconcile` through `npm start`: the run answers
 * 202 at once and goes on in asynchronous invocations of the reconcile function (serverless-offline's
 * Lambda endpoint), one page each (`RECONCILE_INVOCATION_SECONDS=0`), through a 429 and a 503 from
 * Twilio on the way; a second POST meanwhile answers 409. `npm test` runs 30 calls on pages of 30
 * (one page a status and an invocation a page: well under 10 s on a busy machine);
 * `npm run test:reliability` the 1,200 on Twilio's pages of 1,000.
 *
 * Every Twilio request of the stack is counted (the local Twilio API runs in this process): the
 * run's lists, and what the contacts function asks when it applies the recovered misses. A
 * backlog costs the pages of the run's 5 statuses (no-answer, busy, failed, canceled, completed),
 * nothing per call: every recovered miss carries what the run found of its number (`reached`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '../../dev/defaults.js';
import { reconcileAndWait, startRun, waitForRun } from '../../dev/reconcile-run.js';
import { type LocalStack, startLocalStack } from '../../dev/stack.js';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { scanAll } from '../helpers.js';
import { FULL, finishScenario, report, SCENARIO_TIMEOUT_MS } from './scale.js';

const CALLS = FULL ? 1_200 : 30;
const PAGE = FULL ? 1_000 : 30;
let stack: LocalStack;
let twilio: TwilioApi;
/** The caller of the call the stack's warm-up run recovers. */
const WARM_UP = '+14155550000';

beforeAll(async () => {
  // The stack's Twilio API is this one: its requests are counted here.
  twilio = await startTwilioApi({
    accountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
    authTokens: [LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN],
    maxPageSize: PAGE,
  });
  stack = await startLocalStack({ RECONCILE_INVOCATION_SECONDS: '0', TWILIO_API_BASE_URL: twilio.baseUrl });
  // Part of starting the stack: serverless-offline loads the reconcile and contacts bundles on
  // their first invocations. This run sets the watermark and recovers one call of 3 hours ago
  // (outside the next run's window: the watermark less its 60 min overlap), which the contacts
  // function applies.
  await fetch(`${twilio.baseUrl}/__local/calls`, {
    method: 'POST',
    body: JSON.stringify({
      from: WARM_UP,
      to: '+14155559876',
      status: 'no-answer',
      direction: 'inbound',
      startTime: new Date(Date.now() - 3 * 3_600_000).toISOString(),
    }),
  });
  await reconcileAndWait(stack).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : error}\n${stack.output().slice(-3000)}`);
  });
  await contactsApplied([WARM_UP], 60_000);
}, 240_000);
afterAll(async () => {
  await finishScenario('8 reconciliation backlog');
  await stack?.stop();
  await twilio?.stop();
});

/** The stack's table. */
async function items(): Promise<Record<string, unknown>[]> {
  const docs = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: LOCAL_DEFAULTS.AWS_REGION,
      credentials: { accessKeyId: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY },
    }),
  );
  return scanAll(docs, 'missed-call-ledger-local');
}

/** The root CallSids recorded as missed: decided and counted (evidence alone is not a record). */
const missedSids = (all: Record<string, unknown>[]) =>
  new Set(
    all
      .filter((item) => item.type === 'call' && item.outcome === 'missed' && typeof item.countedAs === 'string')
      .map((item) => String(item.callSid)),
  );
/** The contacts of `phones` in the table. */
const contactsOf = (all: Record<string, unknown>[], phones: readonly string[]) =>
  all.filter((item) => item.type === 'contact' && phones.includes(String(item.phone))).length;

/** Waits until the contacts function has applied the contacts of `phones` (the stream is polled every 0.5 s), or `timeoutMs` passed. */
async function contactsApplied(phones: readonly string[], timeoutMs: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await items();
    if (contactsOf(all, phones) >= phones.length || Date.now() > deadline) return all;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
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
      // Twilio answers the busy list (a later invocation's first request) 429, then 503 (the client retries both).
      const faults = await fetch(`${stack.twilioApi}/__local/faults`, {
        method: 'POST',
        body: JSON.stringify([
          { kind: 'status', status: 429, times: 1, query: 'Status=busy' },
          { kind: 'status', status: 503, times: 1, query: 'Status=busy' },
        ]),
      });
      expect(faults.status).toBe(201);
      const before = twilio.requests.length;

      const started = Date.now();
      const runId = await startRun(stack);
      const answeredMs = Date.now() - started;
      const second = await fetch(`${stack.target}/reconcile`, { method: 'POST', headers: { 'x-api-key': stack.key } });
      const run = await waitForRun(stack, runId, { timeoutMs: FULL ? 600_000 : 9_000 });
      const ranMs = Date.now() - started;
      const runRequests = twilio.requests.length - before;
      // The contacts function applies the recovered misses from the stream meanwhile.
      const phones = calls.map((c) => c.from);
      const all = await contactsApplied(phones, FULL ? 300_000 : 4_000);
      const contacts = contactsOf(all, phones);
      const requests = twilio.requests.slice(before).map((r) => decodeURIComponent(r.url));
      const lookups = requests.filter((url) => /[?&](To|From|ParentCallSid)=/.test(url) || /\/Calls\/CA/.test(url));
      const recorded = missedSids(all);
      report.deliveries += run.summary?.listed ?? 0;
      report.faultsInjected += 2;
      report.badInputs += 1;
      if (second.status !== 409) report.badInputAccepted += 1;
      report.recordsLost += sids.filter((sid) => !recorded.has(sid)).length;
      report.doubleCounts += Math.max(0, (run.summary?.recoveredTotal ?? 0) - CALLS) + Math.max(0, contacts - CALLS);
      console.log(
        `[reliability] backlog: ${CALLS} calls, POST answered in ${answeredMs} ms, run ${run.state} in ${ranMs} ms over ${run.invocations} invocations; Twilio requests: ${requests.length} in all (the run ${run.summary?.twilioRequests}, retries included; the contacts function ${lookups.length} for ${contacts} contacts)`,
      );

      expect(second.status, JSON.stringify(run)).toBe(409);
      expect(await second.json()).toMatchObject({ runId });
      // The no-answer pages, then one page each for busy (under 1,000), failed, canceled and
      // completed (empty), one page an invocation.
      const noAnswer = calls.filter((c) => c.status === 'no-answer').length;
      const pages = Math.ceil(noAnswer / PAGE) + 1 + 1 + 1 + 1;
      expect(run.invocations).toBe(pages);
      expect(run, JSON.stringify(run)).toMatchObject({
        state: 'succeeded',
        summary: {
          pages,
          listed: CALLS,
          recoveredTotal: CALLS,
          alreadyRecorded: 0,
          recovered: { 'no-answer': noAnswer, busy: CALLS - noAnswer },
          parentsFetched: 0,
        },
      });
      // Each page once, plus the two refused attempts: all the Twilio requests of the run.
      expect(run.summary?.twilioRequests, JSON.stringify(run)).toBe(pages + 2);
      expect(runRequests).toBe(pages + 2);
      expect(sids.filter((sid) => !recorded.has(sid))).toEqual([]);
      // And the warm-up's one, nothing else.
      expect(recorded.size).toBe(CALLS + 1);
      // Every miss applied to its contact, and the contacts function asked Twilio nothing: the run
      // gave each miss what it found of its number. A backlog of N calls: its pages, O(N / 1000).
      expect(contacts).toBe(CALLS);
      expect(
        all
          .filter((item) => item.type === 'call' && sids.includes(String(item.callSid)) && typeof item.reached !== 'string')
          .map((item) => item.callSid),
      ).toEqual([]);
      expect(lookups).toEqual([]);
      expect(requests).toHaveLength(pages + 2);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
