/**
 * The reconciliation against DynamoDB Local and the local Twilio API, through the real SDK.
 */
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalCall, newCallSid, startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { callKey, WATERMARK_KEY } from '../../lib/ledger/schema.js';
import { createLedger, createReconcileLedger } from '../../lib/ledger/store.js';
import { countRequests } from '../../lib/platform/aws.js';
import { createRunLease, ReconcileBusyError } from '../../lib/reconcile/lease.js';
import { ReconcileDeadlineError, reconcile, reconcileOptions, WINDOW_DEFAULTS } from '../../lib/reconcile/reconcile.js';
import { createWatermark } from '../../lib/reconcile/watermark.js';
import { createTwilioCalls, TwilioAuthError } from '../../lib/twilio/client.js';
import { ACCOUNT_SID, AUTH_TOKEN, freshTable, scanAll, v1Event, webhookMissedCall } from '../helpers.js';
import { loadHandler } from '../lambda.js';

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
    expect(await get(callKey(parent.sid))).toMatchObject({ customer: '+14155550188', source: 'webhook' });
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

describe('the reconcile Lambda (POST /reconcile and the schedule)', () => {
  const context = { awsRequestId: 'r', functionName: 'reconcile', getRemainingTimeInMillis: () => 300_000 } as unknown as Context;

  /** The function as deployed: its environment and role from the template, its token from SSM. */
  const coldStart = (env: Record<string, string>) =>
    loadHandler<(event: unknown, context: Context) => Promise<unknown>>('reconcile', {
      tableName: table.tableName,
      env: { TWILIO_API_BASE_URL: api.baseUrl, ...env },
    });

  it('answers POST /reconcile with the run summary as JSON', async () => {
    // The Lambda runs on the real clock.
    seed(2, 30, 'no-answer', new Date());
    const handler = await coldStart({});
    const response = (await handler(v1Event({ resource: '/reconcile', params: {}, body: '' }), context)) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ listed: 2, recoveredTotal: 2 });
  });

  it('answers 503 before API Gateway or the Lambda gives up when Twilio is slower than the time left', async () => {
    // The Lambda runs on the real clock.
    seed(2, 30, 'no-answer', new Date());
    api.faults.push({ kind: 'delay', ms: 4_000, times: 1 });
    const handler = await coldStart({});
    const started = Date.now();
    // 2.6 s left: the HTTP run keeps 2 s to answer, so Twilio gets 0.6 s.
    const short = { ...context, getRemainingTimeInMillis: () => 2_600 - (Date.now() - started) } as Context;
    const response = (await handler(v1Event({ resource: '/reconcile', params: {}, body: '' }), short)) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).message).toContain('the watermark did not move');
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    expect(await callItems()).toHaveLength(0);
    api.faults.length = 0;
  });

  it('answers 502 with the reason when Twilio refuses the token, and throws on the schedule', async () => {
    const handler = await coldStart({ TWILIO_AUTH_TOKEN: 'wrong' });
    const response = (await handler(v1Event({ resource: '/reconcile', params: {}, body: '' }), context)) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(502);
    expect(JSON.parse(response.body).message).toContain('Twilio credentials rejected (401)');
    // (A fresh module graph: the class differs from the one imported above, so match the name.)
    await expect(handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context)).rejects.toMatchObject({
      name: 'TwilioAuthError',
    });
  });

  it("runs one at a time: a second POST while one runs answers 409 with the running run's id, the nightly run steps aside", async () => {
    seed(2, 30, 'no-answer', new Date());
    // The first run's first Twilio page takes 1.5 s.
    api.faults.push({ kind: 'delay', ms: 1_500, times: 1 });
    const handler = await coldStart({});
    const post = () => handler(v1Event({ resource: '/reconcile', params: {}, body: '' }), context) as Promise<APIGatewayProxyResult>;
    const first = post();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await post();
    expect(second.statusCode).toBe(409);
    const { runId, message } = JSON.parse(second.body);
    expect(message).toContain('A reconciliation is already running');
    expect(await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context)).toEqual({
      skipped: true,
      runningRunId: runId,
    });
    const done = await first;
    expect(done.statusCode).toBe(200);
    expect(JSON.parse(done.body)).toMatchObject({ runId, recoveredTotal: 2 });
    // Once it has ended, the next one runs.
    expect((await post()).statusCode).toBe(200);
  });
});

describe('the reconciliation lease', () => {
  it('is refused while held, taken over once it expires (a crashed run), and released only by its holder', async () => {
    let t = Date.parse('2026-11-24T03:00:00.000Z');
    const lease = createRunLease(table.as('reconcile'), table.tableName, () => t);
    await lease.acquire('run-a', 1_000);
    t += 500;
    await expect(lease.acquire('run-b', 1_000)).rejects.toMatchObject({ runningRunId: 'run-a', expiresAt: '2026-11-24T03:00:01.000Z' });
    await expect(lease.acquire('run-b', 1_000)).rejects.toBeInstanceOf(ReconcileBusyError);
    // run-a crashed: its lease expires and run-b takes over.
    t += 1_000;
    await lease.acquire('run-b', 1_000);
    // run-a, waking up late, gives back nothing of run-b's.
    await lease.release('run-a');
    await expect(lease.acquire('run-c', 1_000)).rejects.toMatchObject({ runningRunId: 'run-b' });
    await lease.release('run-b');
    await lease.acquire('run-c', 1_000);
  });
});
