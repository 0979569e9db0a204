/**
 * The operator API's `GET /stats`, `GET /contacts` and `GET /health` on DynamoDB Local and the
 * local Twilio API. The calls are recorded by the ledger from Twilio's callbacks and their
 * contacts applied by the contacts mapping on the table's real stream.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable } from '../../dev/table.js';
import { silentMp3, startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import type { AttemptFacts } from '../../lib/callbacks/attempts.js';
import { createCallingStore } from '../../lib/callbacks/calling.js';
import { type CallReport, classifyDialAction, classifyStatusCallback } from '../../lib/ledger/calls.js';
import { foldDayCounters } from '../../lib/ledger/day-counters.js';
import { readLedgerSettings } from '../../lib/ledger/settings.js';
import { createLedger } from '../../lib/ledger/store.js';
import { readStats, statsRange } from '../../lib/operator/stats.js';
import { countRequests, createDocumentClient } from '../../lib/platform/aws.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  callSid,
  contactsPoller,
  dialAction,
  freshTable,
  LEDGER_SETTINGS,
  MACHINE_API_KEY,
  scanAll,
  statusCallback,
  v1Event,
} from '../helpers.js';
import { loadHandler } from '../lambda.js';

let api: TwilioApi;
let table: Awaited<ReturnType<typeof freshTable>>;
/** The contacts mapping on the table's stream, for the whole file (as deployed: one reader from the start). */
let contacts: ReturnType<typeof contactsPoller>;
/** What it gave up on while the fixture was applied. */
let contactFailures: unknown[] = [];
let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const context = { awsRequestId: 'op', functionName: 'operator' } as unknown as Context;
const API_KEY_SID = `SK${'3'.repeat(32)}`;
const API_KEY_SECRET = 'test-api-key-secret';
const LINE = '+14155559876';
/** Business hours of the fixture's ledger: a miss outside them is `afterHours`. */
const SETTINGS = readLedgerSettings({ BUSINESS_HOURS: 'Mon-Fri 09:00-17:00', TIME_ZONE: 'UTC' });

const rfc2822 = (iso: string) => new Date(iso).toUTCString();
const plus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

/** The root call's own final status callback (inbound from `from`), sent at the call's end. */
const rootEnd = (root: string, from: string, status: string, start: string, duration: number): CallReport =>
  classifyStatusCallback(
    statusCallback({
      CallSid: root,
      From: from,
      To: LINE,
      CallStatus: status,
      CallDuration: String(duration),
      Timestamp: rfc2822(plus(start, duration)),
    }),
  );
/** A `<Dial>` leg's final status callback. */
const dialLeg = (root: string, status: string, end: string, answered = false): CallReport =>
  classifyStatusCallback(
    statusCallback({
      CallSid: callSid(),
      ParentCallSid: root,
      Direction: 'outbound-dial',
      From: LINE,
      To: '+14155550181',
      CallStatus: status,
      CallDuration: answered ? '60' : '0',
      Timestamp: rfc2822(end),
    }),
  );

beforeAll(async () => {
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN], apiKeys: { [API_KEY_SID]: API_KEY_SECRET } });
  table = await freshTable();
  contacts = contactsPoller(table, (await createTable(table.client, table.tableName)).streamArn ?? '');
  // A known set of calls across a month boundary, recorded from their callbacks (each call's
  // time is Twilio's Timestamp; the ledger's clock is now), then their contacts applied from the stream.
  const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: SETTINGS });
  const record = (report: CallReport) => ledger.record(report);
  // Fri 10-30 10:00 and Sat 10-31 10:00: +14155550101's phone said no-answer (the root itself).
  for (const start of ['2026-10-30T10:00:00.000Z', '2026-10-31T10:00:00.000Z']) {
    await record(rootEnd(callSid(), '+14155550101', 'no-answer', start, 0));
  }
  // Sat 10-31 11:00: an anonymous caller, busy.
  await record(rootEnd(callSid(), 'anonymous', 'busy', '2026-10-31T11:00:00.000Z', 0));
  // Mon 11-02 09:30: failed.
  await record(rootEnd(callSid(), '+14155550102', 'failed', '2026-11-02T09:30:00.000Z', 0));
  // Mon 11-02 12:00: a Dial action nobody answered, whose reply ended the call (it decides it),
  // then the root's end (which tells when the call started: a Dial action carries no Timestamp).
  const dialled = callSid();
  await record(classifyDialAction(dialAction({ CallSid: dialled, From: '+14155550103', To: LINE }), true));
  await record(rootEnd(dialled, '+14155550103', 'completed', '2026-11-02T12:00:00.000Z', 31));
  // Tue 11-03 08:00: recovered by the reconciliation from Twilio's Calls list.
  const reconciled = callSid();
  await ledger.record({
    rootCallSid: reconciled,
    accountSid: ACCOUNT_SID,
    legCallSids: [reconciled],
    evidence: [{ kind: 'root', status: 'no-answer', durationSeconds: 0 }],
    root: { direction: 'inbound', from: '+14155550104', to: LINE },
    ends: true,
    reportedAt: undefined,
    startedAt: '2026-11-03T08:00:00.000Z',
    source: 'reconcile',
  });
  // Tue 11-03 11:00: the caller hung up after 4 s of ringing (a misdial): short-abandoned.
  const misdial = callSid();
  await record(dialLeg(misdial, 'canceled', '2026-11-03T11:00:04.000Z'));
  await record(rootEnd(misdial, '+14155550105', 'completed', '2026-11-03T11:00:00.000Z', 4));
  // Sun 11-01 10:00: the caller hung up after 24 s of ringing: abandoned.
  const rang = callSid();
  await record(dialLeg(rang, 'canceled', '2026-11-01T10:00:24.000Z'));
  await record(rootEnd(rang, '+14155550106', 'completed', '2026-11-01T10:00:00.000Z', 24));
  // Sun 11-01 12:00: a hunt the cell answered: not missed.
  const hunt = callSid();
  await record(dialLeg(hunt, 'no-answer', '2026-11-01T12:00:15.000Z'));
  await record(dialLeg(hunt, 'completed', '2026-11-01T12:01:20.000Z', true));
  await record(rootEnd(hunt, '+14155550107', 'completed', '2026-11-01T12:00:00.000Z', 81));
  // Tue 11-03 13:00: a hunt first decided missed (the root's end before the cell's leg), its
  // contact applied, then the cell's leg: answered after all.
  const late = callSid();
  await record(dialLeg(late, 'no-answer', '2026-11-03T13:00:15.000Z'));
  await record(rootEnd(late, '+14155550108', 'completed', '2026-11-03T13:00:00.000Z', 81));
  await contacts.instance.pollOnce();
  await record(dialLeg(late, 'completed', '2026-11-03T13:01:20.000Z', true));
  await contacts.instance.pollOnce();
  contactFailures = [...contacts.failures];
  handler = await operator({});
});

/** The operator function as deployed (template environment and role; its Twilio secret from SSM). */
const operator = (env: Record<string, string>) =>
  loadHandler<typeof handler>('operator', { tableName: table.tableName, env: { TWILIO_API_BASE_URL: api.baseUrl, ...env } });
afterAll(async () => {
  await api.stop();
  await table.drop();
});

const getRoute = async (resource: string, query?: Record<string, string>) => {
  const event = { ...v1Event({ resource, params: {}, body: '', query }), httpMethod: 'GET', body: null };
  const response = await handler(event, context);
  return { status: response.statusCode, body: JSON.parse(response.body) };
};

describe('GET /stats', () => {
  it('sums a range across a month boundary from the day counters, by status, source and reason', async () => {
    const { status, body } = await getRoute('/stats', { from: '2026-10-29', to: '2026-11-03' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      from: '2026-10-29',
      to: '2026-11-03',
      // The answered hunt is not counted; the corrected one no more.
      totals: { total: 8, 'no-answer': 6, busy: 1, failed: 1, canceled: 0 },
      bySource: { 'status-callback': 6, 'dial-action': 1, 'queue-action': 0, recording: 0, settle: 0, reconcile: 1 },
      byReason: {
        'no-answer': 4,
        busy: 1,
        failed: 1,
        abandoned: 1,
        'short-abandoned': 1,
        'queue-abandoned': 0,
        'queue-full': 0,
        'queue-left': 0,
        ivr: 0,
        voicemail: 0,
        canceled: 0,
      },
      // Sat 10:00 and 11:00, Sun 10:00, Tue 08:00 (BUSINESS_HOURS Mon-Fri 09:00-17:00 UTC).
      afterHours: 4,
      anonymous: 1,
      // 0101, 0102, 0103, 0104 and 0106: no contact for the misdial, none left for the corrected call.
      contactsCreated: 5,
    });
    expect(body.days.map((d: { day: string; totals: { total: number } }) => [d.day, d.totals.total])).toEqual([
      ['2026-10-29', 0],
      ['2026-10-30', 1],
      ['2026-10-31', 2],
      ['2026-11-01', 1],
      ['2026-11-02', 2],
      ['2026-11-03', 2],
    ]);
    expect(body.days[2]).toMatchObject({ anonymous: 1, contactsCreated: 0, afterHours: 2, totals: { busy: 1, 'no-answer': 1 } });
    expect(body.days[3]).toMatchObject({ afterHours: 1, contactsCreated: 1, byReason: { abandoned: 1, 'no-answer': 0 } });
    expect(body.days[5]).toMatchObject({
      afterHours: 1,
      contactsCreated: 1,
      byReason: { 'no-answer': 1, 'short-abandoned': 1 },
      // One callback opened (0104); none for the misdial, none left for the corrected call.
      callbacks: { opened: 1 },
    });
    expect(body.callbacks.opened).toBe(5);
  });

  it('answers an empty range with zeros for every day', async () => {
    const { status, body } = await getRoute('/stats', { from: '2020-01-01', to: '2020-01-03' });
    expect(status).toBe(200);
    expect(body.totals.total).toBe(0);
    expect(body.days).toHaveLength(3);
  });

  it('defaults to the last 30 days', async () => {
    const { body } = await getRoute('/stats');
    expect(body.days).toHaveLength(30);
    expect(body.to).toBe(new Date().toISOString().slice(0, 10));
  });

  it.each([
    [{ from: '2025-11-24', to: '2026-11-24' }, 200, undefined],
    [{ from: '2025-11-23', to: '2026-11-24' }, 400, 'from..to spans 367 days; at most 366 a request'],
    [{ from: '2026-02-30' }, 400, 'from must be a date as YYYY-MM-DD'],
    [{ to: 'yesterday' }, 400, 'to must be a date as YYYY-MM-DD'],
    [{ from: '2026-11-05', to: '2026-11-01' }, 400, 'from must not be after to'],
  ])('%o -> %i', async (query, status, message) => {
    const response = await getRoute('/stats', query);
    expect(response.status).toBe(status);
    if (message) expect(response.body).toEqual({ message });
  });

  it('costs 1 GetItem and 2 BatchGetItem for 30 days, 6 for 366, once the settled days are folded', async () => {
    const docs = createDocumentClient(table.client);
    const requests = countRequests(docs);
    const now = new Date('2026-11-03T12:00:00.000Z');
    const read = (from: string) =>
      readStats(docs, table.tableName, statsRange(new URLSearchParams({ from, to: '2026-11-03' }), now), { now });
    // Before any fold, the shards of the last 17 days are read too: 30 + 17 * 64 keys.
    await read('2026-10-05');
    const unfolded = requests();
    await foldDayCounters(docs, table.tableName, now);
    const folding = requests();
    await read('2026-10-05');
    const thirty = requests() - folding;
    await read('2025-11-03');
    // Folded through 2026-11-01: today's and yesterday's shards only (30 + 128, 366 + 128 keys).
    expect([unfolded, thirty, requests() - folding - thirty]).toEqual([1 + 12, 1 + 2, 1 + 5]);
  });
});

describe('day counters: write-sharded while live, folded when settled', () => {
  // A table of its own: its fold mark is this test's.
  let own: Awaited<ReturnType<typeof freshTable>>;
  beforeAll(async () => {
    own = await freshTable();
  });
  afterAll(async () => {
    await own.drop();
  });
  const ledger = () => createLedger(own.as('webhook'), { tableName: own.tableName, retentionDays: 90, settings: LEDGER_SETTINGS });
  const missedOn = (day: string, i: number) =>
    classifyStatusCallback(
      statusCallback({
        From: `+1415555${String(2000 + i)}`,
        Timestamp: new Date(`${day}T10:00:${String(i % 60).padStart(2, '0')}Z`).toUTCString(),
      }),
    );
  const totalOn = async (day: string, now: Date) =>
    (await readStats(own.docs, own.tableName, statsRange(new URLSearchParams({ from: day, to: day }), now), { now })).totals.total;

  it('keeps the exact count of a day across its shards, its fold, a late write and a write that races the fold', async () => {
    const day = '2026-06-10';
    const live = new Date(`${day}T12:00:00.000Z`);
    await Promise.all(Array.from({ length: 40 }, (_, i) => ledger().record(missedOn(day, i), live)));
    const shards = (await scanAll(own.docs, own.tableName)).filter((item) => String(item.pk).startsWith(`STATS#${day}#`));
    // 40 calls on their own day: spread over shards, none on the day item.
    expect(shards.length).toBeGreaterThan(20);
    expect(shards.reduce((sum, item) => sum + Number(item.total), 0)).toBe(40);
    expect(await totalOn(day, live)).toBe(40);

    // Three days later the day is settled. A writer whose clock still says the next day adds one
    // call to a shard after the fold has read them: that day's fold fails and waits a night.
    const settled = new Date('2026-06-13T03:00:00.000Z');
    let raced = false;
    const racing = {
      send: async (command: unknown) => {
        if (command instanceof TransactWriteCommand && !raced) {
          raced = true;
          await ledger().record(missedOn(day, 40), new Date(`${day}T23:59:59.000Z`));
        }
        return own.docs.send(command as never);
      },
    } as unknown as typeof own.docs;
    const first = await foldDayCounters(racing, own.tableName, settled);
    expect(first.retryLater).toBe(day);
    expect(first.folded).not.toContain(day);
    expect(await totalOn(day, settled)).toBe(41);

    const second = await foldDayCounters(own.docs, own.tableName, settled);
    expect(second.folded).toEqual([day]);
    expect(second.foldedThrough).toBe('2026-06-11');
    const dayItem = (await scanAll(own.docs, own.tableName)).find((item) => item.pk === `STATS#${day}`);
    expect(dayItem).toMatchObject({ folded: true, total: 41 });
    // Read after the fold: the day item alone, the same count.
    expect(await totalOn(day, settled)).toBe(41);
    // A late miss for the folded day (reconciled) goes to its day item.
    await ledger().record(missedOn(day, 41), settled);
    expect(await totalOn(day, settled)).toBe(42);
    // Folding again changes nothing.
    expect((await foldDayCounters(own.docs, own.tableName, settled)).folded).toEqual([]);
    expect(await totalOn(day, settled)).toBe(42);
  });
});

describe('GET /contacts', () => {
  it('pages through 25 contacts with limit=10, each once, most recently missed first', async () => {
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS });
    const base = Date.parse('2025-01-01T00:00:00Z');
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        ledger.record(
          classifyStatusCallback(
            statusCallback({ From: `+1212555${String(1000 + i)}`, To: LINE, Timestamp: new Date(base + i * 60_000).toUTCString() }),
          ),
        ),
      ),
    );
    const failed = contacts.failures.length;
    await contacts.instance.pollOnce();
    expect(contacts.failures.length).toBe(failed);
    const seen: string[] = [];
    const lastMissed: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { limit: '10', since: '2025-01-01T00:00:00Z' };
      if (cursor) query.cursor = cursor;
      const { status, body } = await getRoute('/contacts', query);
      expect(status).toBe(200);
      for (const item of body.items) {
        seen.push(item.phone);
        lastMissed.push(item.lastMissedAt);
      }
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    const ours = seen.filter((p) => p.startsWith('+1212555'));
    expect(ours).toHaveLength(25);
    expect(new Set(ours).size).toBe(25);
    expect(pages).toBe(3);
    expect([...lastMissed].sort().reverse()).toEqual(lastMissed);
  });

  it.each([
    [{ limit: '0' }, 'limit must be a whole number from 1 to 100'],
    [{ limit: '101' }, 'limit must be a whole number from 1 to 100'],
    [{ since: 'last week' }, 'since must be an ISO 8601 date or date-time'],
    [{ cursor: 'bm9wZQ' }, 'cursor is not a cursor this API returned'],
  ])('refuses %o with 400', async (query, message) => {
    expect(await getRoute('/contacts', query)).toEqual({ status: 400, body: { message } });
  });
});

describe('GET /contacts/{phone}', () => {
  const lookup = async (phone: string) => {
    const event = {
      ...v1Event({ resource: '/contacts/{phone}', params: {}, body: '' }),
      httpMethod: 'GET',
      body: null,
      pathParameters: { phone },
    };
    const response = await handler(event, context);
    return { status: response.statusCode, body: JSON.parse(response.body) };
  };

  it('finds one contact from three formats of its number, with its calls and why each was missed', async () => {
    const results = await Promise.all(['+14155550101', '(415) 555-0101', '%2B1%20415.555.0101'].map(lookup));
    for (const { status, body } of results) {
      expect(status).toBe(200);
      expect(body).toMatchObject({ phone: '+14155550101', missedCount: 2, lastStatus: 'no-answer' });
      expect(
        body.calls.map((c: { occurredAt: string; reason: string; afterHours: boolean }) => [c.occurredAt, c.reason, c.afterHours]),
      ).toEqual([
        ['2026-10-31T10:00:00.000Z', 'no-answer', true],
        ['2026-10-30T10:00:00.000Z', 'no-answer', false],
      ]);
    }
    const rang = await lookup('+14155550106');
    expect(rang.body.calls).toEqual([
      expect.objectContaining({ status: 'no-answer', reason: 'abandoned', occurredAt: '2026-11-01T10:00:00.000Z', afterHours: true }),
    ]);
    expect(rang.body.callback).toMatchObject({ lastReason: 'abandoned', lastStatus: 'no-answer' });
  });

  it('has no contact for a short-abandoned caller, nor for a caller whose call turned out answered', async () => {
    expect((await lookup('+14155550105')).status).toBe(404);
    expect((await lookup('+14155550108')).status).toBe(404);
    expect(contactFailures).toEqual([]);
    expect((await lookup('+14155550107')).status).toBe(404);
  });

  it('is 404 for an unknown number and 400 for something that is not one', async () => {
    expect(await lookup('+14155550999')).toEqual({ status: 404, body: { message: 'No contact with this number' } });
    expect(await lookup('not-a-number')).toEqual({ status: 400, body: { message: 'phone is not a valid phone number' } });
  });
});

describe('GET /recordings/{recordingSid}', () => {
  const get = (sid: string) =>
    handler(
      {
        ...v1Event({ resource: '/recordings/{recordingSid}', params: {}, body: '' }),
        httpMethod: 'GET',
        body: null,
        pathParameters: { recordingSid: sid },
      },
      context,
    );

  it("answers a voicemail's audio from Twilio with the REST credential, as base64 for API Gateway to send as bytes", async () => {
    const sid = `RE${'4'.repeat(32)}`;
    api.recordings.set(sid, { sid, callSid: callSid(), durationSeconds: 21, dateCreated: new Date() });
    const before = api.requests.length;
    const response = await get(sid);
    expect(response).toMatchObject({ statusCode: 200, isBase64Encoded: true, headers: { 'Content-Type': 'audio/mpeg' } });
    const bytes = Buffer.from(response.body, 'base64');
    // What the local Twilio API serves: 583 silent MP3 frames of 144 bytes (21 s), asked once with the credential.
    expect(bytes.equals(silentMp3(21))).toBe(true);
    expect(bytes.length).toBe(583 * 144);
    expect(response.headers?.['Content-Length']).toBe(String(bytes.length));
    expect(api.requests.slice(before)).toEqual([
      { method: 'GET', url: `/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${sid}.mp3`, status: 200 },
    ]);
  });

  it('answers 404 for a recording Twilio does not have (or deleted), 400 for a malformed sid', async () => {
    const gone = `RE${'5'.repeat(32)}`;
    const response = await get(gone);
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ message: `Twilio has no recording ${gone} (deleted, or never this account's)` });
    for (const bad of ['RE123', 'CA'.padEnd(34, '0'), '../Calls']) {
      const refused = await get(bad);
      expect({ bad, status: refused.statusCode }).toEqual({ bad, status: 400 });
    }
  });
});

describe('POST /callbacks/{phone}/call', () => {
  const call = (h: typeof handler, phone: string, body: unknown, key?: string) =>
    h(
      {
        ...v1Event({ resource: '/callbacks/{phone}/call', params: {}, body: JSON.stringify(body), contentType: 'application/json' }),
        headers: {
          Host: 'abc123.execute-api.us-east-1.amazonaws.com',
          'Content-Type': 'application/json',
          'x-api-key': MACHINE_API_KEY,
          ...(key === undefined ? {} : { 'Idempotency-Key': key }),
        },
        pathParameters: { phone },
      },
      context,
    );
  const reply = (response: { statusCode: number; body: string }) => ({ status: response.statusCode, body: JSON.parse(response.body) });

  it('refuses what it cannot call: a withheld caller 409, no open callback 404, a bad agent 400; Twilio refusing 502 and nothing kept', async () => {
    expect(reply(await call(handler, 'anonymous', { agent: '+14155550199' }))).toEqual({
      status: 409,
      body: { message: 'The customer withheld their number: there is nobody to call back' },
    });
    expect(reply(await call(handler, '+14155550999', { agent: '+14155550199' }))).toEqual({
      status: 404,
      body: { message: 'No open callback for this number' },
    });
    expect(reply(await call(handler, '+14155550101', { agent: 'my cell' }))).toEqual({
      status: 400,
      body: { message: 'agent must be your phone number (E.164, or national)' },
    });
    // Twilio answers 503 (the SDK sends once: a call is never placed twice).
    api.faults.push({ kind: 'status', status: 503, times: 1 });
    const refused = reply(await call(handler, '+14155550101', { agent: '+14155550199' }, 'refused-1'));
    expect(refused.status).toBe(502);
    expect(refused.body.message).toMatch(/^Twilio refused the call \(20500\): /);
    const contact = reply(
      await handler(
        {
          ...v1Event({ resource: '/contacts/{phone}', params: {}, body: '' }),
          httpMethod: 'GET',
          body: null,
          pathParameters: { phone: '+14155550101' },
        },
        context,
      ),
    );
    expect(contact.body.callback.attempts).toBeUndefined();
  });

  it('places the agent’s call from the line the customer called, once per Idempotency-Key, and claims the customer', async () => {
    // Twilio reaches this API at PUBLIC_BASE_URL (a closed port here: the call is placed, never played).
    const placing = await operator({ PUBLIC_BASE_URL: 'http://127.0.0.1:9/prod' });
    const before = api.calls.length;
    const first = reply(await call(placing, '(415) 555-0101', { agent: '(415) 555-0199' }, 'k-1'));
    expect(first).toEqual({ status: 202, body: { callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/), attemptId: 'k-1' } });
    expect(reply(await call(placing, '+14155550101', { agent: '+14155550199' }, 'k-1'))).toEqual(first);
    const created = api.calls.slice(before);
    expect(created).toEqual([
      expect.objectContaining({ sid: first.body.callSid, to: '+14155550199', from: LINE, direction: 'outbound-api' }),
    ]);
    const placed = api.placed.find((p) => p.sid === first.body.callSid);
    expect(placed?.url).toBe(`http://127.0.0.1:9/prod/twilio/callback-call?attempt=k-1&customer=%2B14155550101&line=%2B14155559876`);
    // Someone else meanwhile: refused with who holds it, unless forced.
    const claimed = reply(await call(placing, '+14155550101', { agent: '+14155550198' }, 'k-2'));
    expect(claimed.status).toBe(409);
    // The agent's number masked: the message is logged with the refusal.
    expect(claimed.body.message).toMatch(/^Being called by \+\*{7}0199 until .+: wait, or send "force": true$/);
    expect(reply(await call(placing, '+14155550101', { agent: '+14155550198', force: true }, 'k-3')).status).toBe(202);
  });
});

describe('POST /callbacks/{phone}/resolve {"unreachable": true}', () => {
  const resolve = (h: typeof handler, phone: string, body: unknown) =>
    h(
      {
        ...v1Event({ resource: '/callbacks/{phone}/resolve', params: {}, body: JSON.stringify(body), contentType: 'application/json' }),
        pathParameters: { phone },
      },
      context,
    );
  const reply = (response: { statusCode: number; body: string }) => ({ status: response.statusCode, body: JSON.parse(response.body) });
  const openItem = async (h: typeof handler, phone: string) => {
    const response = await h({ ...v1Event({ resource: '/callbacks', params: {}, body: '' }), httpMethod: 'GET', body: null }, context);
    return JSON.parse(response.body).items.find((i: { phone: string }) => i.phone === phone);
  };

  it('closes a callback as unreachable only after CALLBACK_MAX_ATTEMPTS failed calls back: its own kind, with its attempts, counted apart', async () => {
    // +14155550102 has an open callback (its failed call on 11-02). Calls back through Twilio, as
    // their callbacks would record them: busy, then the agent did not pick up (not a try at the customer).
    const phone = '+14155550102';
    const calling = createCallingStore(table.as('webhook'), table.tableName);
    const tried = async (id: string, facts: AttemptFacts) => {
      await calling.start(phone, { id, agent: '+14155550199' }, { now: new Date(), claimSeconds: 120, force: true });
      await calling.placed(phone, id, callSid());
      await calling.record(phone, id, facts, 10);
    };
    await tried('u-1', { leg: { callSid: callSid(), status: 'busy', seconds: 0 } });
    await tried('u-2', { agent: { status: 'no-answer', seconds: 0 } });
    expect(reply(await resolve(handler, phone, { unreachable: true }))).toEqual({
      status: 409,
      body: { message: 'Closing as unreachable is off: set CALLBACK_MAX_ATTEMPTS' },
    });
    const limited = await operator({ CALLBACK_MAX_ATTEMPTS: '2' });
    expect(reply(await resolve(limited, phone, { unreachable: true }))).toEqual({
      status: 409,
      body: { message: '1 of 2 failed calls back so far: it cannot be closed as unreachable yet' },
    });
    expect(await openItem(limited, phone)).toMatchObject({ attempts: { count: 2 } });
    expect((await openItem(limited, phone)).canCloseUnreachable).toBeUndefined();
    await tried('u-3', { leg: { callSid: callSid(), status: 'completed', seconds: 20, answeredBy: 'machine_end_beep' } });
    const item = await openItem(limited, phone);
    expect(item).toMatchObject({ canCloseUnreachable: true, attempts: { count: 3 } });
    expect(item.attempts.last.map((a: { outcome: string }) => a.outcome)).toEqual(['voicemail', 'agent-missed', 'busy']);
    expect(reply(await resolve(limited, phone, { unreachable: 'yes' }))).toEqual({
      status: 400,
      body: { message: 'unreachable must be true or false' },
    });
    const closed = reply(await resolve(limited, phone, { unreachable: true, note: 'three tries' }));
    expect(closed).toMatchObject({
      status: 200,
      body: { phone, resolved: [{ resolvedBy: 'unreachable', attempts: 3, note: 'three tries', missedCount: 1 }] },
    });
    expect(await openItem(limited, phone)).toBeUndefined();
    // Today's counters: one unreachable close, no time to callback from it; the attempts by outcome.
    const today = new Date().toISOString().slice(0, 10);
    const { body } = await getRoute('/stats', { from: today, to: today });
    expect(body.callbacks.resolved.unreachable).toBe(1);
    expect(body.callbacks.within).toEqual({ '15m': 0, '1h': 0, '4h': 0, '24h': 0, later: 0 });
    expect(body.callbacks.attempts).toMatchObject({ busy: 1, 'agent-missed': 1, voicemail: 1, reached: 0 });
    expect(body.callbacks.attempts.total).toBe(3);
    expect(body.callbacks.attemptsPerResolution).toBe(Math.round((3 / body.callbacks.resolved.total) * 100) / 100);
    // Closed already: nothing open to close.
    expect(reply(await resolve(limited, phone, { unreachable: true })).status).toBe(404);
  });
});

describe('GET /health', () => {
  it('is 200 with both checks ok and their latencies', async () => {
    const { status, body } = await getRoute('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      checks: { table: { status: 'ok', latencyMs: expect.any(Number) }, twilio: { status: 'ok', latencyMs: expect.any(Number) } },
    });
  });

  it('is 503 naming Twilio when the Twilio API fails', async () => {
    api.faults.push({ kind: 'status', status: 500, times: 1 });
    const { status, body } = await getRoute('/health');
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'fail', checks: { table: { status: 'ok' }, twilio: { status: 'fail' } } });
    expect(body.checks.twilio.detail).toContain('TwilioUnavailableError');
  });

  it('is 503 naming Twilio when the Twilio API is down (nothing listens)', async () => {
    const closed = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
    await closed.stop();
    const down = await operator({ TWILIO_API_BASE_URL: closed.baseUrl });
    const response = await down({ ...v1Event({ resource: '/health', params: {}, body: '' }), httpMethod: 'GET', body: null }, context);
    const body = JSON.parse(response.body);
    expect(response.statusCode).toBe(503);
    expect(body).toMatchObject({ status: 'fail', checks: { table: { status: 'ok' }, twilio: { status: 'fail' } } });
    expect(body.checks.twilio.detail).toContain('ECONNREFUSED');
  });

  it('is 200 with a standard API key, which may list calls but not read the account', async () => {
    const withKey = await operator({ TWILIO_API_KEY_SID: API_KEY_SID, TWILIO_API_KEY_SECRET: API_KEY_SECRET });
    const response = await withKey({ ...v1Event({ resource: '/health', params: {}, body: '' }), httpMethod: 'GET', body: null }, context);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ checks: { twilio: { status: 'ok', detail: 'credentials accepted' } } });
    const used = new URL(api.requests.at(-1)?.url ?? '', api.baseUrl);
    expect(used.pathname).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`);
    expect(used.searchParams.get('PageSize')).toBe('1');
  });

  it('is 503 saying "credentials rejected" when Twilio refuses them', async () => {
    const wrong = await operator({ TWILIO_API_KEY_SID: API_KEY_SID, TWILIO_API_KEY_SECRET: 'not-the-secret' });
    const response = await wrong({ ...v1Event({ resource: '/health', params: {}, body: '' }), httpMethod: 'GET', body: null }, context);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).checks.twilio).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('credentials rejected (401)'),
    });
  });

  it('refuses other methods and routes with 405 and 404', async () => {
    const post = await handler({ ...v1Event({ resource: '/stats', params: {}, body: '' }), httpMethod: 'POST' }, context);
    expect(post.statusCode).toBe(405);
    expect((await getRoute('/nope')).status).toBe(404);
  });
});
