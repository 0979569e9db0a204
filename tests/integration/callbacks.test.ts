/**
 * The callback worklist on DynamoDB Local: misses applied by the contacts store open callbacks
 * (the contact work read from the call item as the ledger wrote it, or taken from the stream by
 * the contacts mapping), signed answered-call webhooks resolve them through the webhook handler
 * as deployed, and the operator handler lists and resolves them. A call first decided missed
 * that turns out answered leaves the worklist. Every client runs under its function's role.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLikeTwilio } from '../../dev/sign.js';
import { createTable } from '../../dev/table.js';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { reachedSince } from '../../lib/callbacks/reached.js';
import { createCallbackResolver } from '../../lib/callbacks/store.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { queueBridges } from '../../lib/ledger/bridges.js';
import { parsePendingCall } from '../../lib/ledger/call-item.js';
import { classifyStatusCallback } from '../../lib/ledger/calls.js';
import { createLedger, createReconcileLedger } from '../../lib/ledger/store.js';
import { countRequests } from '../../lib/platform/aws.js';
import { reconcile, reconcileOptions } from '../../lib/reconcile/reconcile.js';
import { callKey, contactKey, statsKey } from '../../lib/table/keys.js';
import { createTwilioCalls } from '../../lib/twilio/client.js';
import { type Delivery, type Flow, flows } from '../flows.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  callSid,
  contactsPoller,
  dayTotals,
  freshTable,
  LEDGER_SETTINGS,
  scanAll,
  statusCallback,
  v1Event,
} from '../helpers.js';
import { loadHandler } from '../lambda.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const context = { awsRequestId: 'cb', functionName: 'test' } as unknown as Context;
const STAGE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';
const LINE = '+14155559876';

let table: Awaited<ReturnType<typeof freshTable>>;
let api: TwilioApi;
let webhook: Handler;
let operator: Handler;
let contacts: ReturnType<typeof contactsPoller>;
let phoneSeq = 7000;
/** A fresh customer number per test. */
const newPhone = () => `+1415555${String(phoneSeq++)}`;
const rfc2822 = (iso: string) => new Date(iso).toUTCString();
const minutes = (base: string, n: number) => new Date(Date.parse(base) + n * 60_000).toISOString();

beforeAll(async () => {
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
  table = await freshTable();
  webhook = await loadHandler<Handler>('webhook', { tableName: table.tableName, env: { PUBLIC_BASE_URL: '' } });
  operator = await loadHandler<Handler>('operator', { tableName: table.tableName });
  contacts = contactsPoller(table, (await createTable(table.client, table.tableName)).streamArn ?? '');
});
afterAll(async () => {
  await api.stop();
  await table.drop();
});

/** A contacts store that asks the local Twilio API about late misses, as the contacts function does. */
const storeAskingTwilio = () =>
  createContactsStore(table.as('contacts'), {
    tableName: table.tableName,
    reachedSince: (phone, since) =>
      reachedSince(
        createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: AUTH_TOKEN, baseUrl: api.baseUrl }),
        phone,
        since,
        10,
        (sids) => queueBridges(table.as('contacts'), table.tableName, sids),
      ),
  });

const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;

/** Does the contact work the ledger wrote on a call item, as the contacts function would. */
async function applyContactWork(rootCallSid: string, store = createContactsStore(table.as('contacts'), { tableName: table.tableName })) {
  const item = await get(callKey(rootCallSid));
  const work = item === undefined ? undefined : parsePendingCall(item);
  if (work === undefined) throw new Error('the call item asks for no contact work');
  return store.apply(work);
}

/**
 * A missed inbound call from `phone` at `at` (its own status callback says `no-answer`), decided
 * when the callback came at the call's end, and applied to its contact (as the stream would).
 */
async function miss(
  phone: string,
  at: string,
  store = createContactsStore(table.as('contacts'), { tableName: table.tableName }),
): Promise<string> {
  const report = classifyStatusCallback(statusCallback({ From: phone, To: LINE, Timestamp: rfc2822(at) }));
  await createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS }).record(
    report,
    new Date(Date.parse(at) + 2_000),
  );
  await applyContactWork(report.rootCallSid, store);
  return report.rootCallSid;
}

async function post(route: 'call-status' | 'dial-status' | 'queue-status', params: Record<string, string>): Promise<number> {
  const resource = `/twilio/${route}`;
  const signature = signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}${resource}`, params);
  return (await webhook(v1Event({ resource, params, signature }), context)).statusCode;
}

/** An outbound call to `phone` that started at `start` and lasted `duration` seconds (its final status callback). */
const callback = (phone: string, start: string, duration: number, extra: Record<string, string> = {}) =>
  post(
    'call-status',
    statusCallback({
      CallSid: extra.CallSid ?? callSid(),
      CallStatus: 'completed',
      Direction: 'outbound-api',
      From: LINE,
      To: phone,
      CallDuration: String(duration),
      Timestamp: rfc2822(minutes(start, duration / 60)),
      ...extra,
    }),
  );

/** An inbound call from `phone` whose <Dial> a person answered (the Dial action). */
const returnedCall = (phone: string, start: string, duration: number) =>
  post(
    'dial-status',
    statusCallback({
      CallStatus: 'completed',
      Direction: 'inbound',
      From: phone,
      To: LINE,
      DialCallStatus: 'completed',
      DialCallSid: callSid(),
      DialCallDuration: String(duration),
      Timestamp: rfc2822(minutes(start, duration / 60)),
    }),
  );

async function route(
  method: 'GET' | 'POST',
  resource: string,
  options: { phone?: string; query?: Record<string, string>; body?: string } = {},
) {
  const event = {
    ...v1Event({ resource, params: {}, body: options.body ?? '', query: options.query, contentType: 'application/json' }),
    httpMethod: method,
    body: options.body ?? null,
    pathParameters: options.phone === undefined ? null : { phone: encodeURIComponent(options.phone) },
  };
  const response = await operator(event, context);
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

const openList = async () => (await route('GET', '/callbacks', { query: { limit: '100' } })).body.items as { phone: string }[];
const resolvedList = async () =>
  (await route('GET', '/callbacks', { query: { state: 'resolved', limit: '100' } })).body.items as Record<string, unknown>[];

describe('callbacks', () => {
  it('opens on a missed call and joins the next one; GET /callbacks lists the oldest wait first', async () => {
    const [a, b] = [newPhone(), newPhone()];
    await miss(b, '2026-11-24T09:30:00.000Z');
    await miss(a, '2026-11-24T09:00:00.000Z');
    await miss(a, '2026-11-24T09:10:00.000Z');
    const items = (await openList()).filter((item) => item.phone === a || item.phone === b);
    expect(items).toEqual([
      {
        phone: a,
        line: LINE,
        openSince: '2026-11-24T09:00:00.000Z',
        openMissedCount: 2,
        lastMissedAt: '2026-11-24T09:10:00.000Z',
        lastStatus: 'no-answer',
        lastReason: 'no-answer',
        // TEXT_BACK is off: no text-back was decided.
        textBack: null,
      },
      {
        phone: b,
        line: LINE,
        openSince: '2026-11-24T09:30:00.000Z',
        openMissedCount: 1,
        lastMissedAt: '2026-11-24T09:30:00.000Z',
        lastStatus: 'no-answer',
        lastReason: 'no-answer',
        textBack: null,
      },
    ]);
  });

  it('is resolved by a callback of at least CALLBACK_MIN_SECONDS, not by a short one or a machine', async () => {
    const phone = newPhone();
    await miss(phone, '2026-11-24T10:00:00.000Z');
    expect(await callback(phone, '2026-11-24T10:05:00.000Z', 9)).toBe(204);
    expect(await callback(phone, '2026-11-24T10:06:00.000Z', 60, { AnsweredBy: 'machine_end_beep' })).toBe(204);
    expect((await openList()).map((item) => item.phone)).toContain(phone);
    const resolving = callSid();
    expect(await callback(phone, '2026-11-24T10:15:00.000Z', 60, { CallSid: resolving })).toBe(204);
    expect((await openList()).map((item) => item.phone)).not.toContain(phone);
    expect((await resolvedList()).find((item) => item.phone === phone)).toEqual({
      phone,
      line: LINE,
      openSince: '2026-11-24T10:00:00.000Z',
      lastMissedAt: '2026-11-24T10:00:00.000Z',
      missedCount: 1,
      lastStatus: 'no-answer',
      lastReason: 'no-answer',
      resolvedAt: '2026-11-24T10:15:00.000Z',
      resolvedBy: 'callback',
      resolvingCallSid: resolving,
      secondsToCallback: 900,
      // Not placed through POST /callbacks/{phone}/call: no attempts of the stack's own.
      attempts: 0,
    });
  });

  it('is resolved by a returned call a person answered, not by a direct inbound completed', async () => {
    const phone = newPhone();
    await miss(phone, '2026-11-24T11:00:00.000Z');
    const direct = statusCallback({ CallStatus: 'completed', Direction: 'inbound', From: phone, To: LINE, CallDuration: '120' });
    expect(await post('call-status', direct)).toBe(204);
    expect((await openList()).map((item) => item.phone)).toContain(phone);
    expect(await returnedCall(phone, '2026-11-24T11:30:00.000Z', 45)).toBe(200);
    expect((await resolvedList()).find((item) => item.phone === phone)).toMatchObject({
      resolvedBy: 'returned-call',
      secondsToCallback: 1800,
    });
  });

  /** A hunt's callbacks (office no-answer, cell `cellStatus` for `talk` seconds), no Dial action. */
  function hunt(phone: string, start: string, talk: number, answeredBy?: string) {
    const root = callSid();
    const at = (s: number) => rfc2822(new Date(Date.parse(start) + s * 1000).toISOString());
    const leg = (status: string, ended: number, duration: number, extra: Record<string, string> = {}) =>
      statusCallback({
        CallSid: callSid(),
        ParentCallSid: root,
        CallStatus: status,
        Direction: 'outbound-dial',
        From: LINE,
        To: '+14155550182',
        CallDuration: String(duration),
        Timestamp: at(ended),
        ...extra,
      });
    const cell = leg('completed', 20 + talk, talk, answeredBy === undefined ? {} : { AnsweredBy: answeredBy });
    return {
      cellSid: cell.CallSid,
      callbacks: [
        leg('no-answer', 15, 0),
        cell,
        statusCallback({
          CallSid: root,
          CallStatus: 'completed',
          Direction: 'inbound',
          From: phone,
          To: LINE,
          CallDuration: String(21 + talk),
          Timestamp: at(21 + talk),
        }),
      ],
    };
  }

  it('is resolved by a hunt whose second <Dial> a person answered (no Dial action), in any order; not by a short talk or a machine', async () => {
    // Twilio's facts: the cell leg's own callback has its To (the cell), not the caller; the
    // root's end has the caller. Either may come first.
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0, 1, 2],
    ]) {
      const phone = newPhone();
      await miss(phone, '2026-11-24T14:00:00.000Z');
      const { cellSid, callbacks } = hunt(phone, '2026-11-24T14:30:00.000Z', 45);
      for (const i of order) expect(await post('call-status', callbacks[i] as Record<string, string>)).toBe(204);
      expect((await openList()).map((item) => item.phone)).not.toContain(phone);
      expect((await resolvedList()).filter((item) => item.phone === phone)).toEqual([
        // Answered 20 s into the call, which started half an hour after the miss.
        expect.objectContaining({ resolvedBy: 'returned-call', resolvingCallSid: cellSid, secondsToCallback: 1820, missedCount: 1 }),
      ]);
    }
    for (const [talk, answeredBy] of [
      [5, undefined],
      [45, 'machine_end_beep'],
    ] as const) {
      const phone = newPhone();
      await miss(phone, '2026-11-24T14:00:00.000Z');
      for (const params of hunt(phone, '2026-11-24T14:30:00.000Z', talk, answeredBy).callbacks)
        expect(await post('call-status', params)).toBe(204);
      expect((await openList()).map((item) => item.phone)).toContain(phone);
    }
  });

  it('does not resolve with a call that started before the miss; re-delivery changes nothing; a later miss reopens', async () => {
    const phone = newPhone();
    await callback(phone, '2026-11-24T11:50:00.000Z', 60);
    await miss(phone, '2026-11-24T12:00:00.000Z');
    expect((await openList()).map((item) => item.phone)).toContain(phone);
    const sid = callSid();
    const params = { CallSid: sid };
    await callback(phone, '2026-11-24T12:20:00.000Z', 60, params);
    await callback(phone, '2026-11-24T12:20:00.000Z', 60, params);
    expect((await resolvedList()).filter((item) => item.phone === phone)).toHaveLength(1);
    await miss(phone, '2026-11-24T13:00:00.000Z');
    expect((await openList()).find((item) => item.phone === phone)).toMatchObject({
      openSince: '2026-11-24T13:00:00.000Z',
      openMissedCount: 1,
    });
    const contact = await route('GET', '/contacts/{phone}', { phone });
    expect(contact.body.callback).toMatchObject({ openSince: '2026-11-24T13:00:00.000Z' });
    expect(contact.body.resolutions).toEqual([expect.objectContaining({ resolvingCallSid: sid, missedCount: 1 })]);
  });

  it('moves a resolution to an earlier call that arrives later, and keeps the day counters exact', async () => {
    const phone = newPhone();
    await miss(phone, '2026-11-20T09:00:00.000Z');
    await callback(phone, '2026-11-20T15:00:00.000Z', 60);
    const early = callSid();
    await callback(phone, '2026-11-20T09:10:00.000Z', 60, { CallSid: early });
    const resolved = (await resolvedList()).filter((item) => item.phone === phone);
    expect(resolved).toEqual([expect.objectContaining({ resolvingCallSid: early, secondsToCallback: 600 })]);
    const stats = (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: statsKey('2026-11-20') } }))).Item;
    expect(stats).toMatchObject({
      'callbacks:opened': 1,
      'callbacks:resolved:callback': 1,
      'callbacks:within:15m': 1,
      'callbacks:within:24h': 0,
      'callbacks:secondsToCallback': 600,
    });
  });

  it('GET /stats shows the callbacks per day and in total, the median from its buckets, and the open ones now', async () => {
    const phone = newPhone();
    await miss(phone, '2026-11-21T09:00:00.000Z');
    await callback(phone, '2026-11-21T09:20:00.000Z', 60);
    const other = newPhone();
    await miss(other, '2026-11-21T10:00:00.000Z');
    await returnedCall(other, '2026-11-21T13:00:00.000Z', 60);
    const { status, body } = await route('GET', '/stats', { query: { from: '2026-11-21', to: '2026-11-21' } });
    expect(status).toBe(200);
    expect(body.callbacks).toEqual({
      opened: 2,
      resolved: { callback: 1, 'returned-call': 1, operator: 0, unreachable: 0, total: 2 },
      within: { '15m': 0, '1h': 1, '4h': 1, '24h': 0, later: 0 },
      medianSecondsToCallback: 1_200,
      averageSecondsToCallback: (1_200 + 10_800) / 2,
      // Neither was called back through the stack's POST /callbacks/{phone}/call.
      attempts: { reached: 0, voicemail: 0, 'no-answer': 0, busy: 0, failed: 0, 'agent-missed': 0, 'too-short': 0, total: 0 },
      attemptsPerResolution: 0,
    });
    expect(body.days[0].callbacks).toEqual(body.callbacks);
    expect(body.openNow).toBe((await openList()).length);
  });

  it('POST /callbacks/{phone}/resolve: resolves with a note, answers the same again, 404 and 400 otherwise', async () => {
    const phone = newPhone();
    await miss(phone, '2026-11-24T14:00:00.000Z');
    const first = await route('POST', '/callbacks/{phone}/resolve', { phone, body: JSON.stringify({ note: 'left a message' }) });
    expect(first.status).toBe(200);
    expect(first.body.resolved).toEqual([
      expect.objectContaining({ phone, resolvedBy: 'operator', note: 'left a message', missedCount: 1 }),
    ]);
    const again = await route('POST', '/callbacks/{phone}/resolve', { phone });
    expect(again).toMatchObject({ status: 200, body: { resolved: [], alreadyResolved: { resolvedBy: 'operator' } } });
    expect(await route('POST', '/callbacks/{phone}/resolve', { phone: newPhone() })).toEqual({
      status: 404,
      body: { message: 'No open callback for this number' },
    });
    expect((await route('POST', '/callbacks/{phone}/resolve', { phone: 'not-a-number' })).status).toBe(400);
    expect((await route('POST', '/callbacks/{phone}/resolve', { phone, body: '{"note": 5}' })).status).toBe(400);
    expect((await route('POST', '/callbacks/{phone}/resolve', { phone, body: JSON.stringify({ note: 'x'.repeat(501) }) })).status).toBe(
      400,
    );
    expect((await route('GET', '/callbacks', { query: { state: 'closed' } })).status).toBe(400);
  });

  it('resolves once, by the earliest call, under concurrent resolutions of one number', async () => {
    const phone = newPhone();
    const day = async (d: string) =>
      (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: statsKey(d) } }))).Item ?? {};
    const today = new Date().toISOString().slice(0, 10);
    const operatorToday = Number((await day(today))['callbacks:resolved:operator'] ?? 0);
    await miss(phone, '2026-11-18T08:00:00.000Z');
    const earliest = callSid();
    await Promise.all([
      route('POST', '/callbacks/{phone}/resolve', { phone }),
      route('POST', '/callbacks/{phone}/resolve', { phone }),
      returnedCall(phone, '2026-11-18T08:40:00.000Z', 60),
      callback(phone, '2026-11-18T08:30:00.000Z', 60, { CallSid: earliest }),
    ]);
    const items = await scanAll(table.docs, table.tableName);
    const resolutions = items.filter((item) => String(item.pk).startsWith(`RESOLUTION#${phone}#`) && item.resolution !== undefined);
    expect(resolutions.map((item) => item.resolution)).toEqual([
      expect.objectContaining({ resolvingCallSid: earliest, resolvedBy: 'callback' }),
    ]);
    expect(await day('2026-11-18')).toMatchObject({ 'callbacks:opened': 1, 'callbacks:resolved:callback': 1 });
    const stats = await day('2026-11-18');
    expect(Number(stats['callbacks:resolved:returned-call'] ?? 0)).toBe(0);
    expect(Number((await day(today))['callbacks:resolved:operator'] ?? 0)).toBe(operatorToday);
  });

  it('resolves a miss applied late with the answered call Twilio reports since it (the call came first)', async () => {
    const [outbound, inbound, none] = [newPhone(), newPhone(), newPhone()];
    // One instant, whole seconds (Twilio's times have no milliseconds): every start is exact relative to the others.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const start = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);
    const callbackSid = callSid();
    const parent = callSid();
    const leg = callSid();
    api.calls.push(
      // A callback to `outbound` 30 min after its miss, and a machine before it: Twilio knows both.
      {
        sid: callSid(),
        from: LINE,
        to: outbound,
        status: 'completed',
        direction: 'outbound-api',
        startTime: start(100),
        durationSeconds: 40,
        answeredBy: 'machine_start',
      },
      {
        sid: callbackSid,
        from: LINE,
        to: outbound,
        status: 'completed',
        direction: 'outbound-api',
        startTime: start(90),
        durationSeconds: 40,
      },
      // `inbound` called back; its <Dial> leg was answered by a person.
      { sid: parent, from: inbound, to: LINE, status: 'completed', direction: 'inbound', startTime: start(80), durationSeconds: 90 },
      {
        sid: leg,
        parentCallSid: parent,
        from: inbound,
        to: '+14155550999',
        status: 'completed',
        direction: 'outbound-dial',
        startTime: start(80),
        durationSeconds: 60,
      },
      // `none` only got an IVR (a direct inbound completed, no <Dial>).
      { sid: callSid(), from: none, to: LINE, status: 'completed', direction: 'inbound', startTime: start(80), durationSeconds: 30 },
    );
    // Their webhooks came and went before the misses were known: nothing was stored for them.
    expect(await callback(outbound, start(90).toISOString(), 40, { CallSid: callbackSid })).toBe(204);
    const store = storeAskingTwilio();
    const requestsBefore = api.requests.length;
    await miss(outbound, start(120).toISOString(), store);
    await miss(inbound, start(120).toISOString(), store);
    await miss(none, start(120).toISOString(), store);
    const resolved = await resolvedList();
    expect(resolved.find((item) => item.phone === outbound)).toMatchObject({ resolvedBy: 'callback', resolvingCallSid: callbackSid });
    expect(resolved.find((item) => item.phone === inbound)).toMatchObject({ resolvedBy: 'returned-call', resolvingCallSid: leg });
    expect((await openList()).map((item) => item.phone)).toEqual(expect.arrayContaining([none]));
    expect((await openList()).map((item) => item.phone)).not.toContain(outbound);
    // Two list requests per late miss, plus one for the legs of each inbound call since it.
    expect(api.requests.length - requestsBefore).toBe(2 + 3 + 3);
  });

  it('resolves a late miss with a queue bridge only the ledger knows (Twilio lists a plain completed call); not with a voicemail leg', async () => {
    const [bridgedCaller, voicemailCaller] = [newPhone(), newPhone()];
    // One instant, whole seconds (Twilio's times have no milliseconds): every start is exact relative to the others.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const start = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);
    const [queued, forwarded, voicemail] = [callSid(), callSid(), callSid()];
    api.calls.push(
      // Bridged to an agent after 40 s in the queue: to the REST API, a completed call of no legs.
      { sid: queued, from: bridgedCaller, to: LINE, status: 'completed', direction: 'inbound', startTime: start(80), durationSeconds: 200 },
      // A forwarded cell phone's voicemail took the other caller's call: completed, by a machine.
      {
        sid: forwarded,
        from: voicemailCaller,
        to: LINE,
        status: 'completed',
        direction: 'inbound',
        startTime: start(80),
        durationSeconds: 50,
      },
      {
        sid: voicemail,
        parentCallSid: forwarded,
        from: LINE,
        to: '+14155550999',
        status: 'completed',
        direction: 'outbound-dial',
        startTime: start(80),
        durationSeconds: 40,
        answeredBy: 'machine_end_beep',
      },
    );
    // The Enqueue action came and went before the miss was known: the ledger holds the bridge.
    const bridge = statusCallback({
      CallSid: queued,
      CallStatus: 'completed',
      Direction: 'inbound',
      From: bridgedCaller,
      To: LINE,
      QueueResult: 'bridged',
      QueueSid: `QU${'b'.repeat(32)}`,
      QueueTime: '40',
    });
    expect(await post('queue-status', bridge)).toBe(200);
    const store = storeAskingTwilio();
    await miss(bridgedCaller, start(120).toISOString(), store);
    await miss(voicemailCaller, start(120).toISOString(), store);
    expect((await resolvedList()).find((item) => item.phone === bridgedCaller)).toMatchObject({
      resolvedBy: 'returned-call',
      resolvingCallSid: queued,
      // Taken from the queue 40 s after the call started, 40 min after the miss.
      secondsToCallback: 40 * 60 + 40,
    });
    expect((await openList()).map((item) => item.phone)).toContain(voicemailCaller);
  });

  it('resolves a miss the reconciliation recovers hours later with the callback whose webhook came first', async () => {
    const phone = newPhone();
    const missSid = callSid();
    const callbackSid = callSid();
    // One instant, whole seconds (Twilio's times have no milliseconds): every start is exact relative to the others.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const start = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);
    api.calls.push(
      { sid: missSid, from: phone, to: LINE, status: 'no-answer', direction: 'inbound', startTime: start(150), durationSeconds: 0 },
      {
        sid: callbackSid,
        from: LINE,
        to: phone,
        status: 'completed',
        direction: 'outbound-api',
        startTime: start(120),
        durationSeconds: 50,
      },
    );
    // The callback's webhook arrives; the miss's webhook never did: nothing to resolve, nothing stored.
    expect(await callback(phone, start(120).toISOString(), 50, { CallSid: callbackSid })).toBe(204);
    // The reconciliation finds the lost miss in Twilio's Calls list and records it, with the
    // answered calls with the number it listed in the same run.
    const twilio = createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: AUTH_TOKEN, baseUrl: api.baseUrl });
    const summary = await reconcile(
      {
        twilio,
        ledger: createReconcileLedger(table.as('reconcile'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS }),
        watermark: { read: async () => undefined, advance: async () => {} },
        dynamoRequests: () => 0,
      },
      reconcileOptions({
        accountSid: ACCOUNT_SID,
        outcome: LEDGER_SETTINGS,
        callbackMinSeconds: 10,
        overlapMinutes: 60,
        settleMinutes: 5,
        lookbackHours: 4,
      }),
    );
    expect(summary.recovered['no-answer']).toBeGreaterThanOrEqual(1);
    const item = await get(callKey(missSid));
    expect(item).toMatchObject({ source: 'reconcile', customer: phone, outcome: 'missed', reason: 'no-answer' });
    // The stream then applies it to its contact, late: with the reconciliation's own listing, not
    // by asking Twilio again (Twilio requests stay proportional to the pages listed).
    const requests = api.requests.length;
    await applyContactWork(missSid, storeAskingTwilio());
    expect(api.requests.length).toBe(requests);
    expect((await resolvedList()).find((r) => r.phone === phone)).toMatchObject({
      resolvedBy: 'callback',
      resolvingCallSid: callbackSid,
      secondsToCallback: 1800,
      lastReason: 'no-answer',
    });
    expect((await openList()).map((o) => o.phone)).not.toContain(phone);
  });

  it('does not ask Twilio for a miss applied on time', async () => {
    const phone = newPhone();
    const before = api.requests.length;
    await miss(phone, new Date(Date.now() - 1_000).toISOString(), storeAskingTwilio());
    expect(api.requests.length).toBe(before);
    expect((await openList()).map((item) => item.phone)).toContain(phone);
  });

  it('costs one DynamoDB read and no write for an answered call of a number with no open callback', async () => {
    const docs = table.as('webhook');
    const requests = countRequests(docs);
    const resolver = createCallbackResolver(docs, { tableName: table.tableName });
    const before = requests();
    expect(await resolver.resolve(newPhone(), { id: callSid(), at: '2026-11-24T15:00:00.000Z', by: 'callback' })).toMatchObject({
      outcome: 'unchanged',
      open: false,
    });
    expect(requests() - before).toBe(1);
  });
});

/** Every callback of a flow, posted to the webhook as Twilio would (signed). */
async function postAll(deliveries: readonly Delivery[]): Promise<void> {
  for (const d of deliveries) {
    const status = await post(d.route.replace('/twilio/', '') as 'call-status' | 'dial-status' | 'queue-status', d.params);
    expect(status === 200 || status === 204).toBe(true);
  }
}
/** A day's counters less a baseline, without the zeros. */
async function countersSince(day: string, before: Record<string, number>): Promise<Record<string, number>> {
  const after = await dayTotals(table.docs, table.tableName, day);
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, n]) => [name, n - (before[name] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  );
}
const flowNamed = (n: number, name: string): Flow => {
  const flow = flows(n).find((f) => f.name === name);
  if (flow === undefined) throw new Error(`no flow ${name}`);
  return flow;
};

describe('callbacks of whole calls', () => {
  it('show why the last miss was missed (GET /callbacks) and each miss’s reason (GET /contacts/{phone})', async () => {
    const rang = flowNamed(5, 'caller hangs up while it rings');
    const queued = flowNamed(5, 'caller waits in a queue and hangs up');
    const busy = flowNamed(5, 'all phones busy');
    // The busy call's caller also hung up on a later call while it rang: two misses, two reasons.
    const again = flowNamed(6, 'caller hangs up while it rings');
    const relabel = (d: Delivery): Delivery => ({
      ...d,
      params: {
        ...d.params,
        ...(d.params.Direction === 'inbound' ? { From: busy.caller } : {}),
        Timestamp: rfc2822('2026-11-24T16:00:24.000Z'),
      },
    });
    for (const flow of [rang, queued, busy]) await postAll(flow.deliveries);
    await postAll(again.deliveries.map(relabel));
    for (const root of [rang.root, queued.root, busy.root, again.root]) await applyContactWork(root);

    const open = await openList();
    expect(open.find((item) => item.phone === rang.caller)).toMatchObject({ lastReason: 'abandoned', lastStatus: 'no-answer' });
    expect(open.find((item) => item.phone === queued.caller)).toMatchObject({ lastReason: 'queue-abandoned', lastStatus: 'no-answer' });
    expect(open.find((item) => item.phone === busy.caller)).toMatchObject({
      openMissedCount: 2,
      lastReason: 'abandoned',
      lastStatus: 'no-answer',
      lastMissedAt: '2026-11-24T16:00:00.000Z',
    });
    const contact = await route('GET', '/contacts/{phone}', { phone: busy.caller });
    expect(contact.status).toBe(200);
    expect(contact.body.calls).toEqual([
      expect.objectContaining({ callSid: again.root, status: 'no-answer', reason: 'abandoned', occurredAt: '2026-11-24T16:00:00.000Z' }),
      expect.objectContaining({ callSid: busy.root, status: 'busy', reason: 'busy', occurredAt: '2026-11-24T15:00:00.000Z' }),
    ]);
    expect(contact.body.callback).toMatchObject({ lastReason: 'abandoned', openMissedCount: 2 });
  });

  it('takes a call first decided missed, then answered, off the worklist and undoes its resolution and counts', async () => {
    const hunt = flowNamed(7, 'hunt answered by the cell');
    const day = '2026-11-24';
    const before = await dayTotals(table.docs, table.tableName, day);
    // The root's end and the office leg first: nobody answered, so far.
    await postAll(hunt.deliveries.filter((d) => d.rootEnd === true || d.params.CallStatus === 'no-answer'));
    await contacts.instance.pollOnce();
    expect((await openList()).find((item) => item.phone === hunt.caller)).toMatchObject({
      openSince: '2026-11-24T15:00:00.000Z',
      lastReason: 'no-answer',
    });
    // Called back at 15:30: resolved.
    const resolving = callSid();
    expect(await callback(hunt.caller, '2026-11-24T15:30:00.000Z', 60, { CallSid: resolving })).toBe(204);
    expect((await resolvedList()).find((item) => item.phone === hunt.caller)).toMatchObject({
      resolvingCallSid: resolving,
      secondsToCallback: 1800,
      lastReason: 'no-answer',
    });
    expect(await countersSince(day, before)).toMatchObject({
      total: 1,
      contactsCreated: 1,
      'callbacks:opened': 1,
      'callbacks:resolved:callback': 1,
    });

    // The cell's leg arrives late: a person answered the call after all.
    await postAll(hunt.deliveries.filter((d) => d.params.ParentCallSid !== undefined && d.params.CallStatus === 'completed'));
    await contacts.instance.pollOnce();

    expect((await openList()).map((item) => item.phone)).not.toContain(hunt.caller);
    expect((await resolvedList()).map((item) => item.phone)).not.toContain(hunt.caller);
    expect(await route('GET', '/contacts/{phone}', { phone: hunt.caller })).toEqual({
      status: 404,
      body: { message: 'No contact with this number' },
    });
    expect(await get(contactKey(hunt.caller))).toBeUndefined();
    // The day's counters are as before the call: the miss, the contact, the callback and its resolution.
    expect(await countersSince(day, before)).toEqual({});
    expect(await get(callKey(hunt.root))).toMatchObject({ outcome: 'answered' });
  });
});
