/**
 * The reconciliation against DynamoDB Local and the local Twilio API, through the real SDK.
 */
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalCall, newCallSid, startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createLedger, createReconcileLedger } from '../../lib/ledger/store.js';
import { countRequests } from '../../lib/platform/aws.js';
import { createRunLease, ReconcileBusyError } from '../../lib/reconcile/lease.js';
import { ReconcileDeadlineError, reconcile, reconcileOptions, WINDOW_DEFAULTS } from '../../lib/reconcile/reconcile.js';
import { type ContinueEvent, createReconcileRuns } from '../../lib/reconcile/run.js';
import { createRunStore, type RunRecord, runView } from '../../lib/reconcile/runs.js';
import { createWatermark } from '../../lib/reconcile/watermark.js';
import { callKey, WATERMARK_KEY } from '../../lib/table/keys.js';
import { createTwilioCalls, TwilioAuthError } from '../../lib/twilio/client.js';
import { ACCOUNT_SID, AUTH_TOKEN, freshTable, scanAll, v1Event, webhookMissedCall } from '../helpers.js';
import { loadHandler } from '../lambda.js';
import { type LambdaEndpoint, startLambdaEndpoint } from '../lambda-endpoint.js';

let api: TwilioApi;
let table: Awaited<ReturnType<typeof freshTable>>;
let dynamoRequests: () => number;

beforeAll(async () => {
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
});
afterAll(async () => {
  await api.stop();
});
// A fresh table and an empty Twilio account for every test: each one owns its window.
beforeEach(async () => {
  table = await freshTable();
  dynamoRequests = countRequests(table.as('reconcile'));
  api.calls.length = 0;
  api.faults.length = 0;
  api.dateFilters = 'exact';
  return () => table.drop();
});

const NOW = new Date('2026-11-24T03:00:00.000Z');
const options = reconcileOptions({ accountSid: ACCOUNT_SID, includeCanceled: false, ...WINDOW_DEFAULTS });

/** Small Twilio pages: paging and deadlines are tested with tens of calls, not thousands. */
const PAGE_SIZE = 10;

function deps(overrides: { password?: string; now?: Date; maxAttempts?: number } = {}) {
  return {
    twilio: createTwilioCalls({
      accountSid: ACCOUNT_SID,
      username: ACCOUNT_SID,
      password: overrides.password ?? AUTH_TOKEN,
      baseUrl: api.baseUrl,
      sleep: async () => {},
      maxAttempts: overrides.maxAttempts,
      pageSize: PAGE_SIZE,
    }),
    ledger: createReconcileLedger(table.as('reconcile'), { tableName: table.tableName, retentionDays: 90, sleep: async () => {} }),
    watermark: createWatermark(table.as('reconcile'), table.tableName),
    dynamoRequests,
    now: () => overrides.now ?? NOW,
  };
}

/** `n` inbound calls Twilio knows as missed, started `minutesAgo` before `now`, one second apart. */
function seed(n: number, minutesAgo = 60, status: LocalCall['status'] = 'no-answer', now = NOW): LocalCall[] {
  const calls = Array.from({ length: n }, (_, i) => ({
    sid: newCallSid(),
    from: `+1415${String(5550000 + (i % 10_000)).padStart(7, '0')}`,
    to: '+14155559876',
    status,
    direction: 'inbound' as const,
    startTime: new Date(now.getTime() - minutesAgo * 60_000 + i * 1000),
  }));
  api.calls.push(...calls);
  return calls;
}

const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;
const callItems = async () => (await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'call');
const statsTotal = async () =>
  (await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'stats').reduce((sum, i) => sum + Number(i.total ?? 0), 0);

/** Delivers a webhook for a Twilio call through the webhook's own classification and ledger. */
async function webhookFor(call: LocalCall) {
  await createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 }).record(webhookMissedCall(call));
}

describe('reconcile', () => {
  it('recovers the calls whose webhooks never arrived, and only those', async () => {
    const calls = [...seed(6, 120), ...seed(2, 100, 'busy'), ...seed(1, 90, 'failed')];
    api.calls.push({
      sid: newCallSid(),
      from: '+14155550999',
      to: '+14155559876',
      status: 'completed',
      direction: 'inbound',
      startTime: new Date(NOW.getTime() - 3_600_000),
    });
    for (const call of calls.slice(0, 4)) await webhookFor(call);

    const summary = await reconcile(deps(), options);

    expect(summary).toMatchObject({
      window: { from: '2026-11-22T03:00:00.000Z', to: '2026-11-24T02:55:00.000Z' },
      listed: 9,
      alreadyRecorded: 4,
      recovered: { 'no-answer': 2, busy: 2, failed: 1 },
      recoveredTotal: 5,
      twilioRequests: 3,
    });
    expect((await callItems()).map((i) => i.pk).sort()).toEqual(calls.map((c) => callKey(c.sid)).sort());
    expect(await statsTotal()).toBe(9);
    const recovered = await get(callKey(calls[8]?.sid ?? ''));
    expect(recovered).toMatchObject({
      source: 'reconcile',
      status: 'failed',
      customer: calls[8]?.from,
      startedAt: calls[8]?.startTime.toISOString(),
    });
    expect(await get(WATERMARK_KEY)).toMatchObject({ windowEnd: '2026-11-24T02:55:00.000Z', lastRun: { recoveredTotal: 5 } });
  });

  it('counts a call seen by both the webhook and the reconciliation once, in either order', async () => {
    const [early, late] = seed(2);
    if (early === undefined || late === undefined) throw new Error('seed');
    await webhookFor(early);
    await reconcile(deps(), options);
    await webhookFor(late);
    expect(await statsTotal()).toBe(2);
    expect(await callItems()).toHaveLength(2);
    expect((await get(callKey(late.sid)))?.source).toBe('reconcile');
  });

  it('rides out a 429 storm and counts its retries as Twilio requests', async () => {
    seed(3);
    api.faults.push({ kind: 'status', status: 429, times: 5 });
    const summary = await reconcile(deps(), options);
    expect(summary.recoveredTotal).toBe(3);
    expect(summary.twilioRequests).toBe(3 + 5);
  });

  it('leaves the watermark where it was when killed mid-paging; the re-run counts nothing twice', async () => {
    seed(25, 600);
    // Once page 1 is recorded, Twilio fails page 2 more often than the client retries.
    const dying = deps({ maxAttempts: 3 });
    let pages = 0;
    const list = dying.twilio.list.bind(dying.twilio);
    dying.twilio.list = async function* (status, from, to, pageUrl) {
      for await (const page of list(status, from, to, pageUrl)) {
        yield page;
        pages += 1;
        if (pages === 1) api.faults.push({ kind: 'status', status: 500, times: 3 });
      }
    };
    await expect(reconcile(dying, options)).rejects.toThrow('Twilio API unavailable after 3 attempts (HTTP 500)');
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    expect(await statsTotal()).toBe(PAGE_SIZE);

    const summary = await reconcile(deps(), options);

    expect(summary).toMatchObject({ listed: 25, alreadyRecorded: PAGE_SIZE, recoveredTotal: 25 - PAGE_SIZE });
    expect(await statsTotal()).toBe(25);
    expect(await callItems()).toHaveLength(25);
  });

  it('stops cleanly before the Lambda timeout, keeps the watermark, and the next run finishes the window', async () => {
    seed(25, 600);
    let pages = 0;
    const late = deps();
    const list = late.twilio.list.bind(late.twilio);
    late.twilio.list = async function* (status, from, to, pageUrl) {
      for await (const page of list(status, from, to, pageUrl)) {
        pages += 1;
        yield page;
      }
    };
    // Plenty of time for the first page, then a slow one has used it up.
    const remainingMs = () => (pages <= 1 ? 120_000 : 10_000);

    const error = await reconcile(late, { ...options, remainingMs, marginMs: 30_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReconcileDeadlineError);
    expect((error as ReconcileDeadlineError).partial).toMatchObject({ listed: 20, recoveredTotal: 20 });
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    const rest = await reconcile(deps(), options);
    expect(rest).toMatchObject({ listed: 25, alreadyRecorded: 20, recoveredTotal: 5 });
    expect(await statsTotal()).toBe(25);
  });

  it('abandons a page slower than the time left, stops cleanly and keeps the watermark', async () => {
    seed(PAGE_SIZE + 1, 600);
    let end = Number.POSITIVE_INFINITY;
    const slow = deps();
    slow.twilio = createTwilioCalls({
      accountSid: ACCOUNT_SID,
      username: ACCOUNT_SID,
      password: AUTH_TOKEN,
      baseUrl: api.baseUrl,
      pageSize: PAGE_SIZE,
      deadlineMs: () => end - Date.now(),
    });
    const list = slow.twilio.list.bind(slow.twilio);
    slow.twilio.list = async function* (status, from, to, pageUrl) {
      for await (const page of list(status, from, to, pageUrl)) {
        yield page;
        // Page 2 takes longer than the 0.5 s the run has left once page 1 is recorded.
        api.faults.push({ kind: 'delay', ms: 4_000, times: 1 });
        end = Date.now() + 500;
      }
    };

    const error = await reconcile(slow, options).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReconcileDeadlineError);
    expect((error as ReconcileDeadlineError).partial).toMatchObject({
      listed: PAGE_SIZE,
      recoveredTotal: PAGE_SIZE,
      twilioRequests: 2,
    });
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    api.faults.length = 0;
    const rest = await reconcile(deps(), options);
    expect(rest).toMatchObject({ listed: PAGE_SIZE + 1, alreadyRecorded: PAGE_SIZE, recoveredTotal: 1 });
    expect(await statsTotal()).toBe(PAGE_SIZE + 1);
  });

  it('re-lists the overlap of consecutive windows without counting it again', async () => {
    seed(5, 30);
    const first = await reconcile(deps({ now: NOW }), options);
    // 40 more minutes later: calls in the last hour of the first window are listed again.
    const later = new Date(NOW.getTime() + 40 * 60_000);
    seed(3, -10);
    const second = await reconcile(deps({ now: later }), options);

    expect(first).toMatchObject({ listed: 5, recoveredTotal: 5 });
    expect(second.window.from).toBe(new Date(Date.parse(first.window.to) - 3_600_000).toISOString());
    expect(second).toMatchObject({ listed: 8, alreadyRecorded: 5, recoveredTotal: 3 });
    expect(await statsTotal()).toBe(8);
  });

  it("groups a <Dial>'s child legs under their parent and takes the caller from the parent, fetched once", async () => {
    const parent: LocalCall = {
      sid: newCallSid(),
      from: '+14155550123',
      to: '+14155559876',
      status: 'completed',
      direction: 'inbound',
      startTime: new Date(NOW.getTime() - 3_600_000),
      durationSeconds: 40,
    };
    const legs: LocalCall[] = ['no-answer', 'busy'].map((status, i) => ({
      sid: newCallSid(),
      parentCallSid: parent.sid,
      from: '+14155559876',
      to: `+1415555020${i}`,
      status: status === 'busy' ? 'busy' : 'no-answer',
      direction: 'outbound-dial',
      startTime: new Date(parent.startTime.getTime() + 1000),
    }));
    api.calls.push(parent, ...legs);

    const summary = await reconcile(deps(), options);

    expect(summary).toMatchObject({ listed: 2, recoveredTotal: 1, enriched: 1, parentsFetched: 1 });
    expect(await callItems()).toHaveLength(1);
    expect(await get(callKey(parent.sid))).toMatchObject({
      customer: '+14155550123',
      direction: 'inbound',
      legSids: new Set([parent.sid, ...legs.map((l) => l.sid)]),
      startedAt: parent.startTime.toISOString(),
    });
    expect(await statsTotal()).toBe(1);
  });

  it('fills in the caller of a call the child-leg webhook recorded without one', async () => {
    const parent: LocalCall = {
      sid: newCallSid(),
      from: '+14155550188',
      to: '+14155559876',
      status: 'completed',
      direction: 'inbound',
      startTime: new Date(NOW.getTime() - 3_600_000),
    };
    const leg: LocalCall = {
      sid: newCallSid(),
      parentCallSid: parent.sid,
      from: '+14155559876',
      to: '+14155550200',
      status: 'no-answer',
      direction: 'outbound-dial',
      startTime: parent.startTime,
    };
    api.calls.push(parent, leg);
    await webhookFor(leg);
    expect((await get(callKey(parent.sid)))?.customer).toBeUndefined();

    const summary = await reconcile(deps(), options);

    expect(summary).toMatchObject({ recoveredTotal: 0, enriched: 1, parentsFetched: 1 });
    expect(await get(callKey(parent.sid))).toMatchObject({ customer: '+14155550188', source: 'status-callback' });
    expect(await statsTotal()).toBe(1);
  });

  it('fails on an invalid token with a clear message, writing nothing and keeping the watermark', async () => {
    seed(2);
    await expect(reconcile(deps({ password: 'not-the-token' }), options)).rejects.toThrow(TwilioAuthError);
    expect(await scanAll(table.docs, table.tableName)).toEqual([]);
  });

  it('lists whole days and filters itself: no call between midnight and the window end is lost if Twilio reads dates only', async () => {
    // NOW is 03:00 UTC, the window ends at 02:55: these calls start after that day's midnight.
    const early = [seed(3, 150), seed(2, 10)].flat();
    // And one call after the window's end (in the settle time): the next run's.
    const tooRecent = seed(1, 2);
    for (const mode of ['day', 'exact'] as const) {
      api.dateFilters = mode;
      const summary = await reconcile(deps({ now: NOW }), options);
      expect(summary, mode).toMatchObject({ listed: 5 });
      await table.docs.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: WATERMARK_KEY } }));
    }
    expect((await callItems()).map((i) => i.pk).sort()).toEqual(early.map((c) => callKey(c.sid)).sort());
    expect(await get(callKey(tooRecent[0]?.sid ?? ''))).toBeUndefined();
    const listedUrl = new URL(api.requests.filter((r) => r.url.includes('Status=')).at(-1)?.url ?? '', api.baseUrl);
    expect(listedUrl.searchParams.get('StartTime>')).toBe('2026-11-22T00:00:00Z');
    expect(listedUrl.searchParams.get('StartTime<')).toBe('2026-11-25T00:00:00Z');
  });

  it('counts a SID that Twilio lists twice across pages once', async () => {
    seed(25, 60);
    api.faults.push({ kind: 'repeat', times: 2 });
    const summary = await reconcile(deps(), options);
    expect(summary).toMatchObject({ listed: 25, recoveredTotal: 25 });
    expect(await statsTotal()).toBe(25);
  });

  it('does nothing when the window is empty (a run right after another)', async () => {
    await reconcile(deps(), options);
    const again = await reconcile(deps({ now: new Date(NOW.getTime() - 3_600_000 * 2) }), options);
    expect(again).toMatchObject({ listed: 0, twilioRequests: 0 });
  });
});

describe('the reconcile Lambda (POST /reconcile, its runs, and the schedule)', () => {
  let lambda: LambdaEndpoint;
  beforeAll(async () => {
    lambda = await startLambdaEndpoint();
  });
  afterAll(async () => {
    await lambda.stop();
  });
  beforeEach(() => {
    lambda.queue.length = 0;
    lambda.accepted.length = 0;
    lambda.refuse = undefined;
    api.maxPageSize = 1000;
  });

  const context = { awsRequestId: 'r', functionName: 'reconcile', getRemainingTimeInMillis: () => 300_000 } as unknown as Context;
  type Handler = (event: unknown, context: Context) => Promise<unknown>;

  /** The function as deployed: its environment and role from the template, its token from SSM. */
  const coldStart = (env: Record<string, string> = {}) =>
    loadHandler<Handler>('reconcile', {
      tableName: table.tableName,
      env: { TWILIO_API_BASE_URL: api.baseUrl, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint, ...env },
    });

  /** An operator request through API Gateway (REST API, API key already checked). */
  const request = (handler: Handler, method: 'GET' | 'POST', path: string, query?: Record<string, string>) => {
    const runId = /^\/reconcile\/runs\/(.+)$/.exec(path)?.[1];
    const resource = runId === undefined ? path : '/reconcile/runs/{runId}';
    const event = { ...v1Event({ resource, params: {}, body: '', query }), httpMethod: method, path };
    return handler(
      { ...event, pathParameters: runId === undefined ? null : { runId }, requestContext: { ...event.requestContext, httpMethod: method } },
      context,
    ) as Promise<APIGatewayProxyResult>;
  };
  const body = (response: APIGatewayProxyResult) => JSON.parse(response.body);
  /** Runs the invocations Lambda has queued (and those they queue), as Lambda would; returns how many ran. */
  async function drain(handler: Handler): Promise<number> {
    let ran = 0;
    for (let next = lambda.queue.shift(); next !== undefined; next = lambda.queue.shift()) {
      expect(next.functionName).toBe('missed-call-ledger-prod-reconcile');
      await handler(next.event, context);
      ran += 1;
    }
    return ran;
  }

  it('answers POST /reconcile 202 with the run at once; the queued invocation does the work; GET shows the run', async () => {
    // The Lambda runs on the real clock.
    seed(2, 30, 'no-answer', new Date());
    const handler = await coldStart();

    const started = await request(handler, 'POST', '/reconcile');

    expect(started.statusCode).toBe(202);
    const { runId, state, location } = body(started);
    expect(state).toBe('running');
    expect(started.headers?.Location).toBe(`/reconcile/runs/${runId}`);
    expect(location).toBe(`/reconcile/runs/${runId}`);
    // Nothing recorded yet: the work is in the queued invocation.
    expect(await callItems()).toHaveLength(0);
    expect(lambda.queue.map((q) => q.event)).toEqual([{ reconcileRun: runId }]);
    expect(body(await request(handler, 'GET', `/reconcile/runs/${runId}`))).toMatchObject({ runId, state: 'running', trigger: 'http' });

    expect(await drain(handler)).toBe(1);

    const run = body(await request(handler, 'GET', `/reconcile/runs/${runId}`));
    expect(run).toMatchObject({
      runId,
      state: 'succeeded',
      invocations: 1,
      progress: { listed: 2, recoveredTotal: 2 },
      summary: { listed: 2, recoveredTotal: 2, recovered: { 'no-answer': 2 } },
    });
    expect(await callItems()).toHaveLength(2);
    expect(await get(WATERMARK_KEY)).toMatchObject({ windowEnd: run.window.to, lastRun: { recoveredTotal: 2 } });
    const listed = body(await request(handler, 'GET', '/reconcile/runs'));
    expect(listed.runs.map((r: { runId: string }) => r.runId)).toEqual([runId]);
    // Done: the next POST starts the next run.
    expect((await request(handler, 'POST', '/reconcile')).statusCode).toBe(202);
  });

  it('continues a run in fresh invocations from the page it reached; the watermark moves only when the window is done', async () => {
    // 25 no-answer calls and 3 busy ones, 10 to a page: 3 + 1 + 1 (failed: none) pages.
    seed(25, 30, 'no-answer', new Date());
    seed(3, 20, 'busy', new Date());
    api.maxPageSize = 10;
    // 0: every invocation hands on after one page.
    const handler = await coldStart({ RECONCILE_INVOCATION_SECONDS: '0' });
    const { runId } = body(await request(handler, 'POST', '/reconcile'));

    await handler(lambda.queue.shift()?.event, context);

    // One page in: checkpointed, handed on, the watermark where it was.
    expect(body(await request(handler, 'GET', `/reconcile/runs/${runId}`))).toMatchObject({
      state: 'running',
      invocations: 1,
      progress: { pages: 1, listed: 10, recoveredTotal: 10 },
    });
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    expect(lambda.queue.map((q) => q.event)).toEqual([{ reconcileRun: runId }]);
    // Page 2 of the no-answer list came from the saved next-page URI.
    const before = api.requests.length;
    expect(await drain(handler)).toBe(4);
    expect(api.requests[before]?.url).toContain('PageToken=');

    const run = body(await request(handler, 'GET', `/reconcile/runs/${runId}`));
    expect(run).toMatchObject({
      state: 'succeeded',
      invocations: 5,
      summary: { pages: 5, listed: 28, alreadyRecorded: 0, recoveredTotal: 28, recovered: { 'no-answer': 25, busy: 3 } },
    });
    expect(run.summary.twilioRequests).toBe(5);
    expect(await statsTotal()).toBe(28);
    expect(await get(WATERMARK_KEY)).toMatchObject({ windowEnd: run.window.to, lastRun: { listed: 28 } });
  });

  it("runs one at a time: of two POSTs at once one starts, the other answers 409 with its run's id; the nightly run steps aside", async () => {
    seed(2, 30, 'no-answer', new Date());
    const handler = await coldStart();

    const [a, b] = await Promise.all([request(handler, 'POST', '/reconcile'), request(handler, 'POST', '/reconcile')]);

    expect([a.statusCode, b.statusCode].sort()).toEqual([202, 409]);
    const [started, refused] = a.statusCode === 202 ? [a, b] : [b, a];
    const { runId } = body(started);
    expect(body(refused)).toMatchObject({ runId, message: expect.stringContaining('A reconciliation is already running') });
    expect(await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context)).toEqual({
      skipped: true,
      runningRunId: runId,
    });
    expect(lambda.accepted).toHaveLength(1);
    await drain(handler);
    expect(body(await request(handler, 'GET', `/reconcile/runs/${runId}`))).toMatchObject({
      state: 'succeeded',
      summary: { recoveredTotal: 2 },
    });
    expect(await callItems()).toHaveLength(2);
  });

  it('runs the nightly run in its own invocation to the end, and lists runs newest first', async () => {
    seed(3, 30, 'busy', new Date());
    const handler = await coldStart();
    const first = body(await request(handler, 'POST', '/reconcile')).runId;
    await drain(handler);

    const nightly = (await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context)) as {
      runId: string;
      state: string;
    };

    expect(nightly).toMatchObject({ state: 'succeeded', trigger: 'schedule' });
    expect(lambda.accepted).toHaveLength(1);
    const runs = body(await request(handler, 'GET', '/reconcile/runs', { limit: '5' })).runs;
    expect(runs.map((r: { runId: string }) => r.runId)).toEqual([nightly.runId, first]);
    expect(runs[0]).toMatchObject({ trigger: 'schedule', summary: { listed: 3, alreadyRecorded: 3, recoveredTotal: 0 } });
  });

  it('ends the run failed with the reason when Twilio refuses the token; the nightly invocation fails too', async () => {
    seed(1, 30, 'no-answer', new Date());
    const handler = await coldStart({ TWILIO_AUTH_TOKEN: 'wrong' });
    const { runId } = body(await request(handler, 'POST', '/reconcile'));
    await drain(handler);

    const run = body(await request(handler, 'GET', `/reconcile/runs/${runId}`));

    expect(run).toMatchObject({ state: 'failed', error: expect.stringContaining('Twilio credentials rejected (401)') });
    expect(run.error).not.toContain('wrong');
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    // The lease was given back: the nightly run starts, fails the same way, and its invocation fails.
    await expect(handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context)).rejects.toThrow(
      /Reconciliation run .* failed: Twilio credentials rejected \(401\)/,
    );
  });

  it('answers 503 when Lambda will not queue the run, ends that run failed and gives the lease back', async () => {
    const handler = await coldStart();
    // Throttled more often than the SDK retries.
    lambda.refuse = { status: 429, times: 10 };

    const refused = await request(handler, 'POST', '/reconcile');

    expect(refused.statusCode).toBe(503);
    expect(body(refused).message).toContain('The run could not be started');
    const [run] = body(await request(handler, 'GET', '/reconcile/runs')).runs;
    expect(run).toMatchObject({ state: 'failed', error: expect.stringContaining('Lambda did not queue') });
    lambda.refuse = undefined;
    expect((await request(handler, 'POST', '/reconcile')).statusCode).toBe(202);
  });

  it('answers 400 for a malformed run id or limit, 404 for an unknown run, 405 for a wrong method', async () => {
    const handler = await coldStart();
    const answers = await Promise.all([
      request(handler, 'GET', '/reconcile/runs/not-a-run'),
      request(handler, 'GET', '/reconcile/runs/2026-11-24T03:00:00.000Z-0badc0de'),
      request(handler, 'GET', '/reconcile/runs', { limit: '0' }),
      request(handler, 'GET', '/reconcile'),
    ]);
    expect(answers.map((a) => [a.statusCode, body(a).message])).toEqual([
      [400, 'runId is not a run id (as POST /reconcile returned it)'],
      [404, 'No such run (runs are kept 90 days)'],
      [400, 'limit must be a whole number from 1 to 100'],
      [405, '/reconcile accepts POST only'],
    ]);
  });
});

describe('a run that crashes mid-window', () => {
  let t = NOW.getTime();
  const clock = () => t;
  const invoked: ContinueEvent[] = [];

  /** The run machinery of lib/reconcile/run.ts on DynamoDB Local and the local Twilio API, on an injected clock. */
  function runs(ledger = createReconcileLedger(table.as('reconcile'), { tableName: table.tableName, retentionDays: 90 })) {
    const d = deps({ now: new Date(t) });
    return createReconcileRuns({
      twilioCalls: async () => d.twilio,
      ledger,
      watermark: d.watermark,
      dynamoRequests,
      options,
      lease: createRunLease(table.as('reconcile'), table.tableName, clock),
      runs: createRunStore(table.as('reconcile'), table.tableName, clock),
      invokeSelf: async (event) => {
        invoked.push(event);
      },
      now: clock,
    });
  }
  /**
   * A ledger that stops answering after `n` records: the invocation's process is gone. `dead`
   * settles once those `n` have been written.
   */
  function dyingLedger(n: number) {
    const ledger = createReconcileLedger(table.as('reconcile'), { tableName: table.tableName, retentionDays: 90 });
    let left = n;
    let written = 0;
    let died = () => {};
    const dead = new Promise<void>((resolve) => {
      died = resolve;
    });
    const { record } = ledger;
    ledger.record = async (call) => {
      if (left-- <= 0) return new Promise(() => {});
      const result = await record(call);
      if (++written === n) died();
      return result;
    };
    return Object.assign(ledger, { dead });
  }
  const store = () => createRunStore(table.as('reconcile'), table.tableName, clock);
  const lambdaTime = () => 300_000;

  beforeEach(() => {
    t = NOW.getTime();
    invoked.length = 0;
  });

  it('is resumed from its last checkpoint when Lambda retries the invocation that died; the counts add up', async () => {
    seed(25, 600);
    const run = await runs().start('http');
    // It dies 4 calls into its second page (10 to a page).
    const dying = dyingLedger(PAGE_SIZE + 4);
    void runs(dying).continueRun(run.runId, lambdaTime);
    await dying.dead;
    expect(await store().get(run.runId)).toMatchObject({ state: 'running', summary: { pages: 1, listed: PAGE_SIZE } });

    // Lambda retries the same event a minute later: the lease is still this run's.
    t += 60_000;
    const done = await runs().continueRun(run.runId, lambdaTime);

    expect(done).toMatchObject({ state: 'succeeded', invocations: 2 });
    // The 4 calls of the page that died were recorded by it; the retry finds them there. Pages:
    // the first, then no-answer's 2nd (again) and 3rd, busy's and failed's (empty).
    expect(done?.summary).toMatchObject({ pages: 5, listed: 25, recoveredTotal: 21, alreadyRecorded: 4 });
    expect(await callItems()).toHaveLength(25);
    expect(await statsTotal()).toBe(25);
    expect(invoked).toEqual([]);
  });

  it('whose invocation is lost holds the lease only until it expires; the next run takes over and the old one shows failed', async () => {
    seed(25, 600);
    const crashed = await runs().start('http');
    const dying = dyingLedger(3);
    void runs(dying).continueRun(crashed.runId, lambdaTime);
    await dying.dead;
    await expect(runs().start('http')).rejects.toBeInstanceOf(ReconcileBusyError);

    // Past its lease (the invocation's 300 s + 5 s): GET shows it failed, and a new run takes over.
    t += 306_000;
    const shown = runView((await store().get(crashed.runId)) as RunRecord, new Date(t));
    expect(shown).toMatchObject({ state: 'failed', error: expect.stringContaining('its lease ran out') });
    const next = await runs().start('http');
    const done = await runs().continueRun(next.runId, lambdaTime);

    expect(await store().get(crashed.runId)).toMatchObject({
      state: 'failed',
      error: `Stopped without finishing; run ${next.runId} took over after its lease ran out`,
    });
    expect(done).toMatchObject({ state: 'succeeded', summary: { listed: 25, alreadyRecorded: 3, recoveredTotal: 22 } });
    expect(await statsTotal()).toBe(25);
    // A late retry of the crashed run's event changes nothing.
    expect(await runs().continueRun(crashed.runId, lambdaTime)).toMatchObject({ state: 'failed' });
    expect(await callItems()).toHaveLength(25);
  });
});

describe('the reconciliation lease', () => {
  it('is refused while held, taken over once it expires (a crashed run), renewed and released only by its holder', async () => {
    let t = Date.parse('2026-11-24T03:00:00.000Z');
    const lease = createRunLease(table.as('reconcile'), table.tableName, () => t);
    expect(await lease.acquire('run-a', 1_000)).toEqual({});
    t += 500;
    await expect(lease.acquire('run-b', 1_000)).rejects.toMatchObject({ runningRunId: 'run-a', expiresAt: '2026-11-24T03:00:01.000Z' });
    await expect(lease.acquire('run-b', 1_000)).rejects.toBeInstanceOf(ReconcileBusyError);
    // run-a crashed: its lease expires and run-b takes over, told whose lease it took.
    t += 1_000;
    expect(await lease.acquire('run-b', 1_000)).toEqual({ tookOverFrom: 'run-a' });
    // run-a, waking up late, renews and gives back nothing of run-b's.
    expect(await lease.renew('run-a', 60_000)).toBe(false);
    await lease.release('run-a');
    expect(await lease.renew('run-b', 60_000)).toBe(true);
    t += 30_000;
    await expect(lease.acquire('run-c', 1_000)).rejects.toMatchObject({ runningRunId: 'run-b' });
    await lease.release('run-b');
    // A lease given back is no take-over.
    expect(await lease.acquire('run-c', 1_000)).toEqual({});
  });
});
