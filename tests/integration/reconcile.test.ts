/**
 * The reconciliation against DynamoDB Local and the local Twilio API, through the real SDK.
 *
 * A run lists the window's `no-answer`, `busy`, `failed`, `canceled`, then `completed` calls
 * (lib/reconcile/reconcile.ts): the unanswered legs of calls the ledger lacks are written as
 * evidence, a root is decided at its `completed` listing from all its legs, and roots whose own
 * status is unanswered are decided last, with the answered calls of the window with their number
 * (`reached`). The calls here are registered as Twilio lists them: a root TwiML answered is
 * `completed` with its `duration`, its `<Dial>` legs carry `parent_call_sid`, a leg a machine
 * answered `answered_by`.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { readAsyncRetries } from '../../dev/serverless-config.js';
import { type LocalCall, newCallSid, startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createCallbackResolver, openCallbacks } from '../../lib/callbacks/store.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { parsePendingCall } from '../../lib/ledger/call-item.js';
import { classifyDialAction } from '../../lib/ledger/calls.js';
import { settleDue } from '../../lib/ledger/settle.js';
import { createLedger, createReconcileLedger } from '../../lib/ledger/store.js';
import { countRequests } from '../../lib/platform/aws.js';
import { mapLimit } from '../../lib/platform/pool.js';
import { createRunLease, ReconcileBusyError } from '../../lib/reconcile/lease.js';
import { ReconcileDeadlineError, reconcile, reconcileOptions, WINDOW_DEFAULTS } from '../../lib/reconcile/reconcile.js';
import { type ContinueEvent, createReconcileRuns } from '../../lib/reconcile/run.js';
import { createRunStore, type RunRecord, runView } from '../../lib/reconcile/runs.js';
import { createWatermark } from '../../lib/reconcile/watermark.js';
import { callKey, contactKey, RECONCILE_LEASE_KEY, reconcileRunKey, WATERMARK_KEY } from '../../lib/table/keys.js';
import { createTwilioCalls, TwilioAuthError } from '../../lib/twilio/client.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  dayTotals,
  dialAction,
  freshTable,
  LEDGER_SETTINGS,
  scanAll,
  v1Event,
  webhookReport,
} from '../helpers.js';
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
const DAY = '2026-11-24';
const options = reconcileOptions({ accountSid: ACCOUNT_SID, outcome: LEDGER_SETTINGS, callbackMinSeconds: 10, ...WINDOW_DEFAULTS });
/** The statuses a run lists, one list each: a window with few calls costs one request per status. */
const STATUSES = 5;

/** Small Twilio pages: paging and deadlines are tested with tens of calls, not thousands. */
const PAGE_SIZE = 10;

const ledgerOptions = () => ({ tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS, sleep: async () => {} });

function deps(overrides: { password?: string; now?: Date; maxAttempts?: number; twilioApi?: TwilioApi } = {}) {
  return {
    twilio: createTwilioCalls({
      accountSid: ACCOUNT_SID,
      username: ACCOUNT_SID,
      password: overrides.password ?? AUTH_TOKEN,
      baseUrl: (overrides.twilioApi ?? api).baseUrl,
      sleep: async () => {},
      maxAttempts: overrides.maxAttempts,
      pageSize: PAGE_SIZE,
    }),
    ledger: createReconcileLedger(table.as('reconcile'), ledgerOptions()),
    watermark: createWatermark(table.as('reconcile'), table.tableName),
    dynamoRequests,
    now: () => overrides.now ?? NOW,
  };
}

/** `n` inbound calls Twilio knows as missed, started `minutesAgo` before `now`, one second apart. */
function seed(n: number, minutesAgo = 60, status: LocalCall['status'] = 'no-answer', now = NOW, into = api): LocalCall[] {
  const calls = Array.from({ length: n }, (_, i) => ({
    sid: newCallSid(),
    from: `+1415${String(5550000 + (i % 10_000)).padStart(7, '0')}`,
    to: '+14155559876',
    status,
    direction: 'inbound' as const,
    startTime: new Date(now.getTime() - minutesAgo * 60_000 + i * 1000),
  }));
  into.calls.push(...calls);
  return calls;
}

const LINE = '+14155559876';
const OFFICE = '+14155550181';
const CELL = '+14155550182';

/**
 * A root call as Twilio lists it: one TwiML answered (`completed`) is connected `seconds` long
 * (its `duration`); one that ended unanswered rang `seconds` and lists a duration of 0.
 */
function rootCall(
  caller: string,
  start: Date,
  status: LocalCall['status'],
  seconds: number,
  direction: 'inbound' | 'outbound-api' = 'inbound',
): LocalCall {
  const [from, to] = direction === 'inbound' ? [caller, LINE] : [LINE, caller];
  return {
    sid: newCallSid(),
    parentCallSid: null,
    from,
    to,
    status,
    direction,
    startTime: start,
    endTime: new Date(start.getTime() + seconds * 1000),
    durationSeconds: status === 'completed' ? seconds : 0,
    answeredBy: null,
  };
}

/** A `<Dial>` leg of `parent`, dialled `at` s after it started, ringing `ring` s, then talking `talk` s when completed. */
function dialLeg(
  parent: LocalCall,
  to: string,
  status: LocalCall['status'],
  { at = 1, ring, talk = 0, answeredBy }: { at?: number; ring: number; talk?: number; answeredBy?: string },
): LocalCall {
  const start = new Date(parent.startTime.getTime() + at * 1000);
  return {
    sid: newCallSid(),
    parentCallSid: parent.sid,
    from: LINE,
    to,
    status,
    direction: 'outbound-dial',
    startTime: start,
    endTime: new Date(start.getTime() + (ring + (status === 'completed' ? talk : 0)) * 1000),
    durationSeconds: status === 'completed' ? talk : 0,
    answeredBy: answeredBy ?? null,
  };
}

const minutesAgo = (minutes: number, now = NOW) => new Date(now.getTime() - minutes * 60_000);

const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;
const callItems = async () => (await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'call');
const statsTotal = async () =>
  (await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'stats').reduce((sum, i) => sum + Number(i.total ?? 0), 0);
/** The day's counters that are not 0. */
const dayCounters = async (day = DAY) =>
  Object.fromEntries(Object.entries(await dayTotals(table.docs, table.tableName, day)).filter(([, n]) => n !== 0));

/** What the webhook's ledger (its own role) makes of Twilio's final status callback of `call`. */
const webhookLedger = () => createLedger(table.as('webhook'), ledgerOptions());
async function webhookFor(call: LocalCall) {
  await webhookLedger().record(webhookReport(call));
}

/**
 * A local Twilio API of the test's own, for counting requests: a slow request an earlier test
 * abandoned may still land in the shared one's log.
 */
async function ownTwilioApi(): Promise<TwilioApi> {
  const own = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN], maxPageSize: PAGE_SIZE });
  onTestFinished(() => own.stop());
  return own;
}

describe('reconcile', () => {
  it('recovers the calls whose webhooks never arrived, and only those', async () => {
    const calls = [...seed(6, 120), ...seed(2, 100, 'busy'), ...seed(1, 90, 'failed')];
    // A call TwiML alone handled (a menu, a message): listed, not a miss, not written.
    const ivr = rootCall('+14155550999', minutesAgo(60), 'completed', 40);
    api.calls.push(ivr);
    for (const call of calls.slice(0, 4)) await webhookFor(call);

    const summary = await reconcile(deps(), options);

    expect(summary).toMatchObject({
      window: { from: '2026-11-22T03:00:00.000Z', to: '2026-11-24T02:55:00.000Z' },
      // Every ended call of the window is listed now, the `completed` one too (was 9: only the
      // missed statuses were listed).
      listed: 10,
      alreadyRecorded: 4,
      recovered: { 'no-answer': 2, busy: 2, failed: 1 },
      recoveredTotal: 5,
      parentsFetched: 0,
      // One list per status (no-answer, busy, failed, canceled, completed), each one page (was 3:
      // the three missed statuses).
      twilioRequests: STATUSES,
    });
    expect((await callItems()).map((i) => i.pk).sort()).toEqual(calls.map((c) => callKey(c.sid)).sort());
    expect(await get(callKey(ivr.sid))).toBeUndefined();
    expect(await statsTotal()).toBe(9);
    const recovered = await get(callKey(calls[8]?.sid ?? ''));
    expect(recovered).toMatchObject({
      outcome: 'missed',
      source: 'reconcile',
      status: 'failed',
      reason: 'failed',
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
    // One page per status, plus the 5 refused attempts (was 3 + 5: three statuses listed).
    expect(summary.twilioRequests).toBe(STATUSES + 5);
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
    // Page 1's calls end unanswered themselves: their end is written as evidence (in the settle
    // index, 15 min) and decided only once the whole window is listed, so nothing is counted yet
    // (was PAGE_SIZE: the old run counted each missed call as it was listed).
    const written = await callItems();
    expect(written).toHaveLength(PAGE_SIZE);
    expect(written.every((i) => i.rootStatus === 'no-answer' && i.outcome === undefined && i.gsi1pk !== undefined)).toBe(true);
    expect(await statsTotal()).toBe(0);

    const summary = await reconcile(deps(), options);

    // So the re-run decides all 25 (was 15 recovered and 10 already recorded): page 1's evidence
    // was not a decision.
    expect(summary).toMatchObject({ listed: 25, alreadyRecorded: 0, recoveredTotal: 25 });
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
    // Two pages listed, their calls' ends written as evidence, none decided yet: they are decided
    // last, and this run stopped before the end of its window (recoveredTotal was 20).
    expect((error as ReconcileDeadlineError).partial).toMatchObject({ listed: 20, recoveredTotal: 0 });
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    expect(await statsTotal()).toBe(0);
    const rest = await reconcile(deps(), options);
    // Was alreadyRecorded 20, recoveredTotal 5: the 20 were evidence, not decisions.
    expect(rest).toMatchObject({ listed: 25, alreadyRecorded: 0, recoveredTotal: 25 });
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
      // Written as evidence, decided last (was PAGE_SIZE).
      recoveredTotal: 0,
      twilioRequests: 2,
    });
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    api.faults.length = 0;
    const rest = await reconcile(deps(), options);
    // Was alreadyRecorded PAGE_SIZE, recoveredTotal 1.
    expect(rest).toMatchObject({ listed: PAGE_SIZE + 1, alreadyRecorded: 0, recoveredTotal: PAGE_SIZE + 1 });
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

  it("joins a <Dial>'s child legs to their parent from the listing itself: the caller from the parent, no call fetched", async () => {
    // The caller waited 40 s while the office (no answer) and the cell (busy) were dialled.
    const parent = rootCall('+14155550123', minutesAgo(60), 'completed', 40);
    const legs = [dialLeg(parent, OFFICE, 'no-answer', { ring: 30 }), dialLeg(parent, CELL, 'busy', { ring: 2 })];
    const twilio = await ownTwilioApi();
    twilio.calls.push(parent, ...legs);

    const summary = await reconcile(deps({ twilioApi: twilio }), options);

    // The legs and their parent are listed (was listed 2, the legs; their parent fetched once):
    // the root is decided at its `completed` listing from both legs and its own end.
    expect(summary).toMatchObject({ listed: 3, recoveredTotal: 1, recovered: { 'no-answer': 1 }, parentsFetched: 0 });
    expect(twilio.requests.filter((r) => /\/Calls\/CA/.test(r.url))).toEqual([]);
    expect(twilio.requests).toHaveLength(STATUSES);
    expect(summary.twilioRequests).toBe(STATUSES);
    expect(await callItems()).toHaveLength(1);
    expect(await get(callKey(parent.sid))).toMatchObject({
      outcome: 'missed',
      reason: 'no-answer',
      status: 'no-answer',
      source: 'reconcile',
      customer: '+14155550123',
      direction: 'inbound',
      legSids: new Set([parent.sid, ...legs.map((l) => l.sid)]),
      startedAt: parent.startTime.toISOString(),
    });
    expect(await statsTotal()).toBe(1);
  });

  it('decides a call whose only webhook was a leg’s from its root’s listing, with the caller', async () => {
    const parent = rootCall('+14155550188', minutesAgo(60), 'completed', 31);
    const leg = dialLeg(parent, OFFICE, 'no-answer', { ring: 30 });
    api.calls.push(parent, leg);
    await webhookFor(leg);
    // The leg's callback carries no caller; the call waits for its end (or its settle time).
    expect(await get(callKey(parent.sid))).toMatchObject({ gsi1pk: expect.any(String) });
    expect((await get(callKey(parent.sid)))?.customer).toBeUndefined();

    const summary = await reconcile(deps(), options);

    // Not counted before (was recoveredTotal 0, enriched 1: the old webhook counted the leg's
    // no-answer at once): the run decides it from the root's listing.
    expect(summary).toMatchObject({ recoveredTotal: 1, parentsFetched: 0 });
    expect(await get(callKey(parent.sid))).toMatchObject({
      outcome: 'missed',
      reason: 'no-answer',
      customer: '+14155550188',
      source: 'reconcile',
    });
    expect(await statsTotal()).toBe(1);
  });

  it('fills in the caller of a call the settle sweep decided from its legs alone', async () => {
    const parent = rootCall('+14155550189', minutesAgo(60), 'completed', 31);
    const leg = dialLeg(parent, OFFICE, 'no-answer', { ring: 30 });
    api.calls.push(parent, leg);
    const ledger = webhookLedger();
    const delivered = new Date();
    await ledger.record(webhookReport(leg), delivered);
    // The root's end never came: the sweep decides it a settle time later, without a caller.
    const swept = await settleDue(table.as('webhook'), table.tableName, ledger, new Date(delivered.getTime() + 61_000));
    expect(swept).toMatchObject({ missed: 1 });
    const decided = await get(callKey(parent.sid));
    expect(decided).toMatchObject({ outcome: 'missed', source: 'settle' });
    expect(decided?.customer).toBeUndefined();

    const summary = await reconcile(deps(), options);

    // A decided call is not skipped at its root's listing while it lacks its caller: the caller is
    // filled in (hence its contact and callback come), the miss stays counted once, as the sweep
    // decided it.
    expect(summary).toMatchObject({ recoveredTotal: 0 });
    expect(await get(callKey(parent.sid))).toMatchObject({
      outcome: 'missed',
      source: 'settle',
      customer: '+14155550189',
      contactPending: expect.any(String),
    });
    expect(await statsTotal()).toBe(1);
  });

  it('fails on an invalid token with a clear message, writing nothing and keeping the watermark', async () => {
    seed(2);
    await expect(reconcile(deps({ password: 'not-the-token' }), options)).rejects.toThrow(TwilioAuthError);
    expect(await scanAll(table.docs, table.tableName)).toEqual([]);
  });

  it('lists whole days and filters itself: no call between midnight and the window end is lost if Twilio reads dates only', async () => {
    const twilio = await ownTwilioApi();
    // NOW is 03:00 UTC, the window ends at 02:55: these calls start after that day's midnight.
    const early = [seed(3, 150, 'no-answer', NOW, twilio), seed(2, 10, 'no-answer', NOW, twilio)].flat();
    // And one call after the window's end (in the settle time): the next run's.
    const tooRecent = seed(1, 2, 'no-answer', NOW, twilio);
    for (const mode of ['day', 'exact'] as const) {
      twilio.dateFilters = mode;
      const summary = await reconcile(deps({ now: NOW, twilioApi: twilio }), options);
      expect(summary, mode).toMatchObject({ listed: 5 });
      await table.docs.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: WATERMARK_KEY } }));
    }
    expect((await callItems()).map((i) => i.pk).sort()).toEqual(early.map((c) => callKey(c.sid)).sort());
    expect(await get(callKey(tooRecent[0]?.sid ?? ''))).toBeUndefined();
    // Each run lists every status once (one page each), asking for the same whole days.
    const listed = twilio.requests.map((r) => new URL(r.url, twilio.baseUrl).searchParams);
    expect(listed.map((q) => q.get('Status'))).toEqual([
      'no-answer',
      'busy',
      'failed',
      'canceled',
      'completed',
      'no-answer',
      'busy',
      'failed',
      'canceled',
      'completed',
    ]);
    for (const q of listed) {
      expect(q.get('StartTime>')).toBe('2026-11-22T00:00:00Z');
      expect(q.get('StartTime<')).toBe('2026-11-25T00:00:00Z');
    }
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

describe('the reconciliation decides whole calls (issue 27)', () => {
  it('does not recover a hunt whose second phone answered; recovers the one nobody answered', async () => {
    // <Dial timeout="15">office</Dial><Dial>cell</Dial>: the office rings out, the cell answers.
    const answered = rootCall('+14155550301', minutesAgo(90), 'completed', 82);
    const answeredLegs = [
      dialLeg(answered, OFFICE, 'no-answer', { at: 1, ring: 15 }),
      dialLeg(answered, CELL, 'completed', { at: 16, ring: 8, talk: 57 }),
    ];
    // The same hunt, and the cell rings out too.
    const missed = rootCall('+14155550302', minutesAgo(80), 'completed', 47);
    const missedLegs = [
      dialLeg(missed, OFFICE, 'no-answer', { at: 1, ring: 15 }),
      dialLeg(missed, CELL, 'no-answer', { at: 16, ring: 30 }),
    ];
    api.calls.push(answered, ...answeredLegs, missed, ...missedLegs);

    const summary = await reconcile(deps(), options);

    expect(summary).toMatchObject({ listed: 6, recoveredTotal: 1, recovered: { 'no-answer': 1 } });
    // The answered hunt: its office leg's no-answer was written as evidence, then its cell leg
    // answered it. Never counted, no contact work.
    const hunt = await get(callKey(answered.sid));
    expect(hunt).toMatchObject({ outcome: 'answered' });
    expect(hunt?.countedAs).toBeUndefined();
    expect(hunt?.contactPending).toBeUndefined();
    expect(hunt?.gsi1pk).toBeUndefined();
    expect(await get(callKey(missed.sid))).toMatchObject({ outcome: 'missed', reason: 'no-answer', customer: '+14155550302' });
    expect(await dayCounters()).toEqual({ total: 1, 'status:no-answer': 1, 'reason:no-answer': 1, 'source:reconcile': 1 });
  });

  it('recovers a call abandoned while it rang (`abandoned`), and one of 4 s as `short-abandoned`: counted, no contact work', async () => {
    // The caller hung up after 24 s of ringing: TwiML answered the root (completed), its leg canceled.
    const abandoned = rootCall('+14155550311', minutesAgo(90), 'completed', 24);
    const abandonedLeg = dialLeg(abandoned, OFFICE, 'canceled', { ring: 23 });
    // A misdial: hung up after 4 s.
    const short = rootCall('+14155550312', minutesAgo(80), 'completed', 4);
    const shortLeg = dialLeg(short, OFFICE, 'canceled', { ring: 3 });
    api.calls.push(abandoned, abandonedLeg, short, shortLeg);

    const summary = await reconcile(deps(), options);

    expect(summary).toMatchObject({ listed: 4, recoveredTotal: 2, recovered: { 'no-answer': 2 } });
    expect(await get(callKey(abandoned.sid))).toMatchObject({
      outcome: 'missed',
      reason: 'abandoned',
      status: 'no-answer',
      source: 'reconcile',
      customer: '+14155550311',
      contactPending: expect.any(String),
    });
    const misdial = await get(callKey(short.sid));
    expect(misdial).toMatchObject({ outcome: 'missed', reason: 'short-abandoned', status: 'no-answer', countedAs: expect.any(String) });
    // Counted, but no callback, no contact, no text: nothing asks the contacts function for work.
    expect(misdial?.contactPending).toBeUndefined();
    expect(parsePendingCall(misdial ?? {})).toBeUndefined();
    expect(await dayCounters()).toEqual({
      total: 2,
      'status:no-answer': 2,
      'reason:abandoned': 1,
      'reason:short-abandoned': 1,
      'source:reconcile': 2,
    });
  });

  it('corrects to answered a call the webhooks decided missed, when it finds the answered leg whose callback was lost; counters back', async () => {
    const root = rootCall('+14155550321', minutesAgo(90), 'completed', 82);
    const office = dialLeg(root, OFFICE, 'no-answer', { at: 1, ring: 15 });
    const cell = dialLeg(root, CELL, 'completed', { at: 16, ring: 8, talk: 57 });
    api.calls.push(root, office, cell);
    // Only the office leg's no-answer and the root's end were delivered: decided missed.
    await webhookFor(office);
    await webhookFor(root);
    expect(await get(callKey(root.sid))).toMatchObject({ outcome: 'missed', reason: 'no-answer', source: 'status-callback' });
    expect(await dayCounters()).toEqual({ total: 1, 'status:no-answer': 1, 'reason:no-answer': 1, 'source:status-callback': 1 });

    const summary = await reconcile(deps(), options);

    // Not a recovery: a correction (the counters' change of a counted miss is `enriched`).
    expect(summary).toMatchObject({ listed: 3, recoveredTotal: 0, recovered: {}, enriched: 1 });
    const corrected = await get(callKey(root.sid));
    expect(corrected).toMatchObject({ outcome: 'answered', legSids: new Set([root.sid, office.sid, cell.sid]) });
    for (const name of ['countedAs', 'reason', 'afterHours', 'gsi1pk']) expect(corrected?.[name], name).toBeUndefined();
    // Every counter back to 0.
    expect(await dayCounters()).toEqual({});
    // The contacts function is asked only to clear the miss's mark (it never applied it).
    expect(parsePendingCall(corrected ?? {})).toMatchObject({ action: 'clear', rootCallSid: root.sid });
  });

  it('resolves an open callback with an answered call it lists whose callbacks were lost (a hunt, a call back); only the first, once', async () => {
    const [huntCaller, calledBack, stillOpen] = ['+14155550341', '+14155550342', '+14155550343'];
    // Each caller missed a call 3 h ago: a callback is open on each.
    for (const phone of [huntCaller, calledBack, stillOpen]) {
      const missed = rootCall(phone, minutesAgo(180), 'no-answer', 30);
      await webhookFor(missed);
      const work = parsePendingCall((await get(callKey(missed.sid))) ?? {});
      if (work === undefined) throw new Error('no contact work');
      await createContactsStore(table.as('contacts'), { tableName: table.tableName }).apply(work);
    }
    // Then a hunt the cell answered (no callback of it delivered), and a staff call back (40 s),
    // both listed by Twilio only; the third caller's only call back was too short (5 s).
    const root = rootCall(huntCaller, minutesAgo(90), 'completed', 82);
    const office = dialLeg(root, OFFICE, 'no-answer', { at: 1, ring: 15 });
    const cell = dialLeg(root, CELL, 'completed', { at: 16, ring: 8, talk: 57 });
    const back = rootCall(calledBack, minutesAgo(60), 'completed', 40, 'outbound-api');
    const later = rootCall(calledBack, minutesAgo(30), 'completed', 40, 'outbound-api');
    const short = rootCall(stillOpen, minutesAgo(60), 'completed', 5, 'outbound-api');
    api.calls.push(root, office, cell, back, later, short);
    const withCallbacks = () => ({
      ...deps(),
      callbacks: {
        open: () => openCallbacks(table.as('reconcile'), table.tableName),
        resolve: createCallbackResolver(table.as('reconcile'), { tableName: table.tableName }).resolve,
      },
    });

    expect(await reconcile(withCallbacks(), options)).toMatchObject({ callbacksResolved: 2 });

    const resolvedBy = async (phone: string) => (await get(contactKey(phone)))?.callbacks?.calls;
    // The answered leg resolves it (the id the webhook's Dial action or whole call would give), answered 24 s in.
    expect(await resolvedBy(huntCaller)).toEqual([
      { id: cell.sid, at: new Date(root.startTime.getTime() + 24_000).toISOString(), by: 'returned-call' },
    ]);
    expect(await resolvedBy(calledBack)).toEqual([{ id: back.sid, at: back.startTime.toISOString(), by: 'callback' }]);
    expect((await get(contactKey(stillOpen)))?.callback).toMatchObject({ openMissedCount: 1 });
    expect(await dayCounters()).toMatchObject({ 'callbacks:resolved:callback': 1, 'callbacks:resolved:returned-call': 1 });
    // The next run over the same window finds nothing more to resolve.
    expect(await reconcile(withCallbacks(), options)).toMatchObject({ callbacksResolved: 0 });
  });

  it('gives a recovered miss whose number was called back the callback it found (`reached`): the contacts function asks Twilio nothing', async () => {
    // A <Dial> nobody answered, and a root that itself ended no-answer (decided last).
    const dialled = rootCall('+14155550331', minutesAgo(120), 'completed', 31);
    const dialledLeg = dialLeg(dialled, OFFICE, 'no-answer', { ring: 30 });
    const direct = rootCall('+14155550332', minutesAgo(110), 'no-answer', 30);
    // Staff called both back later in the window (outbound-api, 40 s with a person).
    const callbacks = [
      rootCall('+14155550331', minutesAgo(100), 'completed', 40, 'outbound-api'),
      rootCall('+14155550332', minutesAgo(95), 'completed', 40, 'outbound-api'),
    ];
    // And one call back too short to count (5 s < CALLBACK_MIN_SECONDS).
    const tooShort = rootCall('+14155550331', minutesAgo(105), 'completed', 5, 'outbound-api');
    const twilio = await ownTwilioApi();
    twilio.calls.push(dialled, dialledLeg, direct, ...callbacks, tooShort);

    const summary = await reconcile(deps({ twilioApi: twilio }), options);

    expect(summary).toMatchObject({ recoveredTotal: 2, recovered: { 'no-answer': 2 } });
    // The callbacks themselves are answered calls the ledger has no reason to write.
    for (const call of [...callbacks, tooShort]) expect(await get(callKey(call.sid))).toBeUndefined();
    const store = createContactsStore(table.as('contacts'), {
      tableName: table.tableName,
      reachedSince: async () => {
        throw new Error('the contacts function asked Twilio');
      },
      lateAfterMs: 0,
    });
    const before = twilio.requests.length;
    for (const [miss, callback] of [
      [dialled, callbacks[0]],
      [direct, callbacks[1]],
    ] as const) {
      const item = await get(callKey(miss.sid));
      expect(JSON.parse(String(item?.reached))).toEqual([{ id: callback?.sid, at: callback?.startTime.toISOString(), by: 'callback' }]);
      const work = parsePendingCall(item ?? {});
      expect(work).toMatchObject({ action: 'apply', reached: [{ id: callback?.sid, by: 'callback' }] });
      if (work === undefined) throw new Error('no contact work');
      expect(await store.apply(work)).toMatchObject({ outcome: 'applied', missedCount: 1 });
      // Applied and already resolved by the callback: nothing open on the worklist.
      const contact = await get(contactKey(miss.from));
      expect(contact?.callback).toBeUndefined();
      expect(contact?.gsi2pk).toBeUndefined();
      expect(contact?.callbacks).toMatchObject({ calls: [expect.objectContaining({ id: callback?.sid, by: 'callback' })] });
    }
    expect(twilio.requests.length).toBe(before);
  });

  it('costs a 30-call backlog the pages of its 5 statuses, nothing per call (the contacts function included)', async () => {
    // 30 calls, 10 to a page (volume is the benchmark's). 10 <Dial>s nobody answered, 10 roots
    // that ended no-answer themselves, 5 hang-ups while it rang, 5 hunts the cell answered.
    const at = (i: number) => minutesAgo(300 - i);
    const calls: LocalCall[] = [];
    for (let i = 0; i < 30; i++) {
      const caller = `+1415556${String(1000 + i)}`;
      if (i < 10) {
        const root = rootCall(caller, at(i), 'completed', 31);
        calls.push(root, dialLeg(root, OFFICE, 'no-answer', { ring: 30 }));
      } else if (i < 20) calls.push(rootCall(caller, at(i), 'no-answer', 30));
      else if (i < 25) {
        const root = rootCall(caller, at(i), 'completed', 24);
        calls.push(root, dialLeg(root, OFFICE, 'canceled', { ring: 23 }));
      } else {
        const root = rootCall(caller, at(i), 'completed', 82);
        calls.push(
          root,
          dialLeg(root, OFFICE, 'no-answer', { at: 1, ring: 15 }),
          dialLeg(root, CELL, 'completed', { at: 16, ring: 8, talk: 57 }),
        );
      }
    }
    const twilio = await ownTwilioApi();
    twilio.calls.push(...calls);
    const byStatus = (status: LocalCall['status']) => calls.filter((c) => c.status === status).length;
    // no-answer: 10 + 10 + 5 legs = 25, 3 pages; canceled 5, 1 page; busy and failed: 1 empty
    // page each; completed: 10 + 5 + 5 roots and 5 answered legs = 25, 3 pages.
    const pages = ['no-answer', 'busy', 'failed', 'canceled', 'completed'].reduce(
      (sum, status) => sum + Math.max(1, Math.ceil(byStatus(status as LocalCall['status']) / PAGE_SIZE)),
      0,
    );
    expect(pages).toBe(9);

    const summary = await reconcile(deps({ twilioApi: twilio }), options);

    const requests = twilio.requests.map((r) => decodeURIComponent(r.url));
    expect(summary).toMatchObject({
      listed: calls.length,
      pages,
      recoveredTotal: 25,
      recovered: { 'no-answer': 25 },
      parentsFetched: 0,
      twilioRequests: pages,
    });
    // Only the status lists and their next pages: no call fetched, no number looked up.
    expect(requests).toHaveLength(pages);
    expect(requests.every((url) => /\/Calls\.json\?/.test(url) && url.includes('Status='))).toBe(true);
    expect(requests.filter((url) => /[?&](To|From|ParentCallSid)=/.test(url))).toEqual([]);
    expect(await statsTotal()).toBe(25);
    // Every recovered miss carries what the run found of its number: the contacts function asks
    // Twilio nothing for them.
    const misses = (await callItems()).filter((i) => i.outcome === 'missed');
    expect(misses).toHaveLength(25);
    expect(misses.filter((i) => typeof i.reached !== 'string')).toEqual([]);
    const store = createContactsStore(table.as('contacts'), {
      tableName: table.tableName,
      reachedSince: async () => {
        throw new Error('the contacts function asked Twilio');
      },
      lateAfterMs: 0,
    });
    await mapLimit(misses, 8, async (item) => {
      const work = parsePendingCall(item);
      if (work === undefined) throw new Error('no contact work');
      expect(await store.apply(work)).toMatchObject({ outcome: 'applied' });
    });
    expect(twilio.requests).toHaveLength(pages);
    // The answered hunts: not counted.
    expect((await callItems()).filter((i) => i.outcome === 'answered')).toHaveLength(5);
  });

  /**
   * A webhook ledger whose writes after the evidence fail: the decision's transaction always,
   * and with `fallbackFails` the settle-index write the ledger makes when a decision failed (the
   * table went away between the two).
   */
  function failingAfterEvidence(fallbackFails: boolean) {
    const docs = table.as('webhook');
    const fail = () => Promise.reject(Object.assign(new Error('injected'), { name: 'InternalServerError' }));
    const client = {
      send: (command: unknown) => {
        if (command instanceof TransactWriteCommand) return fail();
        const update = (command as { input?: { UpdateExpression?: string } }).input?.UpdateExpression ?? '';
        if (fallbackFails && update.startsWith('SET gsi1pk')) return fail();
        return docs.send(command as Parameters<typeof docs.send>[0]);
      },
    } as unknown as DynamoDBDocumentClient;
    return createLedger(client, ledgerOptions());
  }

  for (const fallbackFails of [false, true]) {
    it(`recovers a miss whose decision failed after its evidence was written (a 503 Twilio gave up on)${fallbackFails ? ', the table gone before the ledger could put it in the settle index' : ''}`, async () => {
      const [call] = seed(1, 60);
      if (call === undefined) throw new Error('seed');
      // The webhook's evidence write went through, its decision's transaction did not: it
      // answered 503, and Twilio's retries failed too (or were never made).
      await expect(failingAfterEvidence(fallbackFails).record(webhookReport(call))).rejects.toThrow();
      const written = await get(callKey(call.sid));
      expect(written).toMatchObject({ rootStatus: 'no-answer', endedAt: expect.any(String) });
      expect(written?.outcome).toBeUndefined();

      const summary = await reconcile(deps(), options);

      if (fallbackFails) {
        // A known limit (docs/OPERATIONS.md): ended, no outcome and out of the settle index, the
        // item reads as a call TwiML alone handled, to the reconciliation as to the sweep. The
        // webhook answered 503: Twilio's re-delivery of the same callback decides it.
        expect(summary.recoveredTotal).toBe(0);
        expect((await get(callKey(call.sid)))?.outcome).toBeUndefined();
        await webhookLedger().record(webhookReport(call));
      } else {
        // In the settle index (the ledger's fallback): the run decides it, and says it recovered it.
        expect(summary).toMatchObject({ recoveredTotal: 1, recovered: { 'no-answer': 1 } });
      }
      expect(await get(callKey(call.sid))).toMatchObject({ outcome: 'missed', reason: 'no-answer' });
      expect(await statsTotal()).toBe(1);
    });
  }

  it('corrects to missed a call a Dial action said answered, when the leg it lists was answered by a machine', async () => {
    // <Dial action><Number machineDetection="DetectMessageEnd">cell</Number></Dial>: the cell's
    // voicemail took it. The Dial action (completed) and the root's end came; the leg's own
    // callback, with AnsweredBy, was lost.
    const root = rootCall('+14155550341', minutesAgo(90), 'completed', 49);
    const cell = dialLeg(root, CELL, 'completed', { ring: 20, talk: 28, answeredBy: 'machine_end_beep' });
    api.calls.push(root, cell);
    const ledger = webhookLedger();
    await ledger.record(
      classifyDialAction(dialAction({ CallSid: root.sid, From: root.from, DialCallStatus: 'completed', DialCallSid: cell.sid }), false),
    );
    await ledger.record(webhookReport(root));
    expect(await get(callKey(root.sid))).toMatchObject({ outcome: 'answered' });

    const summary = await reconcile(deps(), options);

    // The Dial action's report put the leg's SID in `legSids`: the run writes the machine-answered
    // leg of a call the ledger says answered all the same (the rule: a Dial action answers only
    // for a leg not known to be a machine; later evidence corrects a decision).
    expect(await get(callKey(root.sid))).toMatchObject({ outcome: 'missed', reason: 'no-answer', status: 'no-answer' });
    // A miss the ledger lacked (a lost webhook, what `ReconcileRecovered` alarms on): recovered.
    expect(summary).toMatchObject({ recoveredTotal: 1, recovered: { 'no-answer': 1 } });
    expect(await statsTotal()).toBe(1);
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
    // On the audit trail: the machines' key started this run.
    expect((await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'audit')).toEqual([
      expect.objectContaining({ action: 'reconcile.started', actor: { kind: 'machine' }, target: { runId } }),
    ]);
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
    // 25 no-answer calls and 3 busy ones, 10 to a page: 3 + 1 pages, and one (empty) page each
    // for failed, canceled and completed: 7 pages (was 5: completed and canceled were not listed).
    seed(25, 30, 'no-answer', new Date());
    seed(3, 20, 'busy', new Date());
    api.maxPageSize = 10;
    // 0: every invocation hands on after one page.
    const handler = await coldStart({ RECONCILE_INVOCATION_SECONDS: '0' });
    const { runId } = body(await request(handler, 'POST', '/reconcile'));

    await handler(lambda.queue.shift()?.event, context);

    // One page in: checkpointed, handed on, the watermark where it was. The page's calls ended
    // unanswered themselves: recorded as evidence and decided last, with the answered calls of the
    // window, so none is counted yet (was recoveredTotal 10); the run's cursor keeps them.
    expect(body(await request(handler, 'GET', `/reconcile/runs/${runId}`))).toMatchObject({
      state: 'running',
      invocations: 1,
      progress: { pages: 1, listed: 10, recoveredTotal: 0 },
    });
    const checkpoint = (await get(reconcileRunKey(runId)))?.cursor as { deferred?: string[] } | undefined;
    expect(checkpoint?.deferred).toHaveLength(10);
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    expect(lambda.queue.map((q) => q.event)).toEqual([{ reconcileRun: runId }]);
    // Page 2 of the no-answer list came from the saved next-page URI.
    const before = api.requests.length;
    expect(await drain(handler)).toBe(6);
    expect(api.requests[before]?.url).toContain('PageToken=');

    const run = body(await request(handler, 'GET', `/reconcile/runs/${runId}`));
    // The deferred roots came through every hand-over in the cursor: all 28 decided at the end.
    expect(run).toMatchObject({
      state: 'succeeded',
      invocations: 7,
      summary: { pages: 7, listed: 28, alreadyRecorded: 0, recoveredTotal: 28, recovered: { 'no-answer': 25, busy: 3 } },
    });
    // One request per page: nothing per call.
    expect(run.summary.twilioRequests).toBe(7);
    expect(await statsTotal()).toBe(28);
    expect(await get(WATERMARK_KEY)).toMatchObject({ windowEnd: run.window.to, lastRun: { listed: 28 } });
  });

  it('remembers across invocations a machine-answered leg listed on another page than its root', async () => {
    // A forwarded cell's voicemail took the call; every callback was lost. One call to a page
    // and one page an invocation: the leg (newer) and its root are listed by two invocations.
    const root = rootCall('+14155550351', minutesAgo(30, new Date()), 'completed', 49);
    const cell = dialLeg(root, CELL, 'completed', { ring: 20, talk: 28, answeredBy: 'machine_end_beep' });
    api.calls.push(root, cell);
    api.maxPageSize = 1;
    const handler = await coldStart({ RECONCILE_INVOCATION_SECONDS: '0' });
    const { runId } = body(await request(handler, 'POST', '/reconcile'));
    // no-answer, busy, failed, canceled: one empty page each; completed: two pages.
    expect(await drain(handler)).toBe(6);

    const run = body(await request(handler, 'GET', `/reconcile/runs/${runId}`));
    // A machine-answered leg whose root is on another page is written as evidence, not kept in
    // the invocation's memory (which a hand-over forgets: the root alone, completed with no leg,
    // would be judged not missed): recovered, as a run in one invocation recovers it.
    expect(run).toMatchObject({ state: 'succeeded', summary: { listed: 2, recoveredTotal: 1, recovered: { 'no-answer': 1 } } });
    expect(await get(callKey(root.sid))).toMatchObject({ outcome: 'missed', reason: 'no-answer' });
  });

  it('never tells the contacts function a number was not reached when an earlier invocation listed its callback', async () => {
    const now = new Date();
    // A <Dial> nobody answered, its caller called back 10 min later. One call to a page, one page
    // an invocation: the callback (newer) and the root are on two invocations' `completed` pages.
    const miss = rootCall('+14155550361', minutesAgo(40, now), 'completed', 31);
    const leg = dialLeg(miss, OFFICE, 'no-answer', { ring: 30 });
    const callback = rootCall('+14155550361', minutesAgo(30, now), 'completed', 40, 'outbound-api');
    api.calls.push(miss, leg, callback);
    api.maxPageSize = 1;
    const handler = await coldStart({ RECONCILE_INVOCATION_SECONDS: '0' });
    await request(handler, 'POST', '/reconcile');
    // no-answer: 1 page (the leg); busy, failed, canceled: 1 empty page each; completed: 2 pages.
    expect(await drain(handler)).toBe(6);

    const item = await get(callKey(miss.sid));
    expect(item).toMatchObject({ outcome: 'missed', reason: 'no-answer' });
    // The answered calls by number are the invocation's own memory: one that did not list
    // `completed` from its first page does not say `reached: []` (looked, found none), which the
    // contacts function would trust, opening a callback for a number already called back. It
    // gives the callback, or leaves `reached` out (the contacts function then asks Twilio, as for
    // any late miss).
    const reached = item?.reached === undefined ? undefined : JSON.parse(String(item.reached));
    if (reached !== undefined) expect(reached).toEqual([{ id: callback.sid, at: callback.startTime.toISOString(), by: 'callback' }]);
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

  it("is retried as its EventInvokeConfig says: a failed nightly run once more over the same window, then Lambda's failure queue", async () => {
    // serverless.yml: one retry (Lambda's default is two), within 10 minutes, then the queue.
    const { maximumRetryAttempts, maximumEventAgeInSeconds } = readAsyncRetries('reconcile');
    expect({ maximumRetryAttempts, maximumEventAgeInSeconds }).toEqual({ maximumRetryAttempts: 1, maximumEventAgeInSeconds: 600 });
    seed(1, 30, 'no-answer', new Date());
    const handler = await coldStart({ TWILIO_AUTH_TOKEN: 'wrong' });
    const nightly = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
    // The first delivery and Lambda's retries of it: each a fresh run that fails and gives the lease back.
    const failures: string[] = [];
    for (let attempt = 0; attempt <= maximumRetryAttempts; attempt++) {
      await handler(nightly, context).then(
        () => failures.push('succeeded'),
        (error: unknown) => failures.push(error instanceof Error ? error.message : String(error)),
      );
    }
    expect(failures).toHaveLength(2);
    for (const failure of failures) expect(failure).toMatch(/Reconciliation run .* failed: Twilio credentials rejected \(401\)/);
    const runs = body(await request(handler, 'GET', '/reconcile/runs')).runs as { state: string; trigger: string }[];
    expect(runs.filter((r) => r.trigger === 'schedule').map((r) => r.state)).toEqual(['failed', 'failed']);
    // Nothing of the window counted as done: the next night covers it again.
    expect(await get(WATERMARK_KEY)).toBeUndefined();
    // Then Lambda sends the event to the reconciliation's failure queue (its on-failure
    // destination, alarmed; the template tests check both).
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
  function runs(
    ledger = createReconcileLedger(table.as('reconcile'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS }),
  ) {
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
    const ledger = createReconcileLedger(table.as('reconcile'), {
      tableName: table.tableName,
      retentionDays: 90,
      settings: LEDGER_SETTINGS,
    });
    let left = n;
    let written = 0;
    let died = () => {};
    const dead = new Promise<void>((resolve) => {
      died = resolve;
    });
    const { record } = ledger;
    ledger.record = async (...args) => {
      if (left-- <= 0) return new Promise(() => {});
      const result = await record(...args);
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
    // Pages: the first, then no-answer's 2nd (again) and 3rd, and one (empty) page each for busy,
    // failed, canceled and completed: 7 (was 5). The 4 calls of the page that died had their ends
    // written as evidence, not decided (decided last): the retry records them again and decides
    // all 25 at the window's end, page 1's from the checkpoint's cursor (was 21 recovered, 4
    // already recorded).
    expect(done?.summary).toMatchObject({ pages: 7, listed: 25, recoveredTotal: 25, alreadyRecorded: 0 });
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
    // The crashed run's 3 records were its calls' ends as evidence, not decisions (decided last):
    // the new run decides all 25 (was 3 already recorded, 22 recovered).
    expect(done).toMatchObject({ state: 'succeeded', summary: { listed: 25, alreadyRecorded: 0, recoveredTotal: 25 } });
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
    // Its end is leaseUntil (ISO); expiresAt, the table's TTL attribute (epoch seconds), is not used.
    const item = await get(RECONCILE_LEASE_KEY);
    expect(item).toMatchObject({ runId: 'run-c', leaseUntil: new Date(t + 1_000).toISOString() });
    expect(item?.expiresAt).toBeUndefined();
  });

  it('reads a lease item of 0.2.0 (its end a string in expiresAt): busy until then, taken over after', async () => {
    let t = Date.parse('2026-11-24T03:00:00.000Z');
    await table.docs.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: RECONCILE_LEASE_KEY,
          type: 'lease',
          runId: 'old-run',
          acquiredAt: '2026-11-24T02:59:00.000Z',
          expiresAt: '2026-11-24T03:01:00.000Z',
        },
      }),
    );
    const lease = createRunLease(table.as('reconcile'), table.tableName, () => t);
    await expect(lease.acquire('run-new', 1_000)).rejects.toMatchObject({ runningRunId: 'old-run', expiresAt: '2026-11-24T03:01:00.000Z' });
    t += 61_000;
    expect(await lease.acquire('run-new', 1_000)).toEqual({ tookOverFrom: 'old-run' });
    expect(await get(RECONCILE_LEASE_KEY)).not.toHaveProperty('expiresAt');
  });
});
