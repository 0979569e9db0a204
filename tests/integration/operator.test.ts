/** The operator API's `GET /stats` and `GET /health` on DynamoDB Local and the local Twilio API. */
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { callItem, parsePendingCall } from '../../lib/ledger/call-item.js';
import { classifyDialAction, classifyStatusCallback, type MissedCall } from '../../lib/ledger/calls.js';
import { foldDayCounters } from '../../lib/ledger/day-counters.js';
import { createLedger } from '../../lib/ledger/store.js';
import { readStats, statsRange } from '../../lib/operator/stats.js';
import { countRequests, createDocumentClient } from '../../lib/platform/aws.js';
import { ACCOUNT_SID, AUTH_TOKEN, dialAction, freshTable, scanAll, statusCallback, v1Event } from '../helpers.js';
import { loadHandler } from '../lambda.js';

let api: TwilioApi;
let table: Awaited<ReturnType<typeof freshTable>>;
let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const context = { awsRequestId: 'op', functionName: 'operator' } as unknown as Context;
const API_KEY_SID = `SK${'3'.repeat(32)}`;
const API_KEY_SECRET = 'test-api-key-secret';

function missed(result: ReturnType<typeof classifyStatusCallback>): MissedCall {
  if (result.kind !== 'missed') throw new Error('fixture is not a missed call');
  return result.call;
}

beforeAll(async () => {
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN], apiKeys: { [API_KEY_SID]: API_KEY_SECRET } });
  table = await freshTable();
  // A known set of calls across a month boundary, then their contacts applied.
  const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
  const calls = [
    missed(classifyStatusCallback(statusCallback({ From: '+14155550101', Timestamp: 'Fri, 30 Oct 2026 10:00:00 +0000' }), false)),
    missed(classifyStatusCallback(statusCallback({ From: '+14155550101', Timestamp: 'Sat, 31 Oct 2026 10:00:00 +0000' }), false)),
    missed(
      classifyStatusCallback(
        statusCallback({ From: 'anonymous', CallStatus: 'busy', Timestamp: 'Sat, 31 Oct 2026 11:00:00 +0000' }),
        false,
      ),
    ),
    missed(
      classifyStatusCallback(
        statusCallback({ From: '+14155550102', CallStatus: 'failed', Timestamp: 'Mon, 02 Nov 2026 09:00:00 +0000' }),
        false,
      ),
    ),
    { ...missed(classifyDialAction(dialAction({ From: '+14155550103' }), false)), startedAt: '2026-11-02T12:00:00.000Z' },
    {
      ...missed(classifyStatusCallback(statusCallback({ From: '+14155550104' }), false)),
      source: 'reconcile' as const,
      startedAt: '2026-11-03T08:00:00.000Z',
    },
  ];
  const store = createContactsStore(table.as('contacts'), { tableName: table.tableName });
  for (const call of calls) {
    await ledger.record(call);
    const pending = parsePendingCall(callItem(call, new Date(), 90));
    if (pending) await store.apply(pending);
  }
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
  it('sums a range across a month boundary from the day counters', async () => {
    const { status, body } = await getRoute('/stats', { from: '2026-10-29', to: '2026-11-03' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      from: '2026-10-29',
      to: '2026-11-03',
      totals: { total: 6, 'no-answer': 4, busy: 1, failed: 1, canceled: 0 },
      bySource: { 'status-callback': 4, 'dial-action': 1, reconcile: 1 },
      anonymous: 1,
      contactsCreated: 4,
    });
    expect(body.days.map((d: { day: string; totals: { total: number } }) => [d.day, d.totals.total])).toEqual([
      ['2026-10-29', 0],
      ['2026-10-30', 1],
      ['2026-10-31', 2],
      ['2026-11-01', 0],
      ['2026-11-02', 2],
      ['2026-11-03', 1],
    ]);
    expect(body.days[2]).toMatchObject({ anonymous: 1, contactsCreated: 0, totals: { busy: 1, 'no-answer': 1 } });
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
  const ledger = () => createLedger(own.as('webhook'), { tableName: own.tableName, retentionDays: 90 });
  const missedOn = (day: string, i: number) =>
    missed(
      classifyStatusCallback(
        statusCallback({
          From: `+1415555${String(2000 + i)}`,
          Timestamp: new Date(`${day}T10:00:${String(i % 60).padStart(2, '0')}Z`).toUTCString(),
        }),
        false,
      ),
    );
  const totalOn = async (day: string, now: Date) =>
    (await readStats(own.docs, own.tableName, statsRange(new URLSearchParams({ from: day, to: day }), now), { now })).totals.total;

  it('keeps the exact count of a day across its shards, its fold, a late write and a write that races the fold', async () => {
    const day = '2026-06-10';
    const live = new Date(`${day}T12:00:00.000Z`);
    for (let i = 0; i < 40; i++) await ledger().record(missedOn(day, i), live);
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
    const store = createContactsStore(table.as('contacts'), { tableName: table.tableName });
    const base = Date.parse('2025-01-01T00:00:00Z');
    for (let i = 0; i < 25; i++) {
      const occurredAt = new Date(base + i * 60_000).toISOString();
      const sid = `CA${String(i).padStart(32, '0')}`;
      await table.docs.send(new PutCommand({ TableName: table.tableName, Item: { pk: `CALL#${sid}`, type: 'call', callSid: sid } }));
      await store.apply({
        rootCallSid: sid,
        customer: `+1212555${String(1000 + i)}`,
        line: '+14155559876',
        status: 'no-answer',
        occurredAt,
        day: occurredAt.slice(0, 10),
      });
    }
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

  it('finds one contact from three formats of its number, with its calls', async () => {
    const results = await Promise.all(['+14155550101', '(415) 555-0101', '%2B1%20415.555.0101'].map(lookup));
    for (const { status, body } of results) {
      expect(status).toBe(200);
      expect(body).toMatchObject({ phone: '+14155550101', missedCount: 2, lastStatus: 'no-answer' });
      expect(body.calls.map((c: { occurredAt: string }) => c.occurredAt)).toEqual(['2026-10-31T10:00:00.000Z', '2026-10-30T10:00:00.000Z']);
    }
  });

  it('is 404 for an unknown number and 400 for something that is not one', async () => {
    expect(await lookup('+14155550999')).toEqual({ status: 404, body: { message: 'No contact with this number' } });
    expect(await lookup('not-a-number')).toEqual({ status: 400, body: { message: 'phone is not a valid phone number' } });
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
