/**
 * `DELETE /contacts/{phone}` on DynamoDB Local, through the operator function as deployed
 * (template environment and role) against the local Twilio API: a caller with a voicemail, a
 * resolved and an open callback, a text-back record and a call only Twilio knows is erased
 * whole, their recording deleted at Twilio, another caller and the day counters untouched; late
 * callbacks about the erased calls change nothing; a new call is recorded as any other.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCognito, signInWithPassword, startLocalCognito } from '../../dev/cognito.js';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { parsePendingCall } from '../../lib/ledger/call-item.js';
import { createLedger, type Ledger } from '../../lib/ledger/store.js';
import { contactKey, textBackKey } from '../../lib/table/keys.js';
import { parseWebhookConfig } from '../../lib/webhook/config.js';
import { ROUTES } from '../../lib/webhook/handle.js';
import { type Delivery, type Flow, flows } from '../flows.js';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, freshTable, scanAll, v1Event } from '../helpers.js';
import { loadHandler } from '../lambda.js';
import { responseErrors } from '../openapi.js';

type Handler = (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;
const context = { awsRequestId: 'erase', functionName: 'operator' } as unknown as Context;
const config = parseWebhookConfig({ TABLE_NAME: 'unused', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN });
const ERASED = '+14155550301';
const OTHER = '+14155550302';

let api: TwilioApi;
let table: Awaited<ReturnType<typeof freshTable>>;
let ledger: Ledger;
let handler: Handler;
let voicemail: Flow;
let second: Flow;
let other: Flow;
const twilioOnly = callSid();

/** A flow of tests/flows.ts, from `caller`, as Twilio's callbacks. */
function flowFrom(name: string, n: number, caller: string, t0: number): Flow {
  const flow = flows(n, t0).find((f) => f.name === name);
  if (flow === undefined) throw new Error(`no flow ${name}`);
  const swap = (value: string) => (value === flow.caller ? caller : value);
  return {
    ...flow,
    caller,
    deliveries: flow.deliveries.map((d) => ({ ...d, params: Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, swap(v)])) })),
  };
}

async function deliver(deliveries: readonly Delivery[]) {
  const results = [];
  for (const d of deliveries) {
    const route = ROUTES.get(d.route);
    if (route === undefined) throw new Error(`no route ${d.route}`);
    results.push(await ledger.record(route.classify(d.params, config, { next: undefined })));
  }
  return results;
}

/** The contacts function does what each call item asks for, as its stream record would. */
async function catchUp(roots: readonly string[]) {
  const store = createContactsStore(table.as('contacts'), { tableName: table.tableName });
  for (const root of roots) {
    const item = (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: `CALL#${root}` }, ConsistentRead: true })))
      .Item;
    const work = item === undefined ? undefined : parsePendingCall(item);
    if (work !== undefined) await store.apply(work);
  }
}

/** People sign in with a local pool: erasing is for admins. */
let cognito: LocalCognito;
const PEOPLE_KEY = 'people-test-dashboard-key';
const PASSWORD = 'Erase-test-password-1';
let tokens: { admin: string; agent: string };

/** A request as API Gateway hands it on: an admin's by default, an agent's, or a machine's key. */
const request = (
  method: string,
  phone: string,
  body: string | null,
  contentType = 'application/json',
  who: 'admin' | 'agent' | 'machine' = 'admin',
) => {
  const event = v1Event({
    resource: '/contacts/{phone}',
    params: {},
    body: body ?? '',
    contentType,
    apiKey: who === 'machine' ? undefined : PEOPLE_KEY,
  });
  return {
    ...event,
    headers: { ...event.headers, ...(who === 'machine' ? {} : { Authorization: `Bearer ${tokens[who]}` }) },
    httpMethod: method,
    body,
    pathParameters: { phone },
  };
};

/** Everything but the day counters, which an erasure keeps. */
const ledgerItems = async () => (await scanAll(table.docs, table.tableName)).filter((i) => i.type !== 'stats');
const counters = async () => (await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'stats');

beforeAll(async () => {
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
  table = await freshTable();
  ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: config.ledger });
  const t0 = Date.now() - 3 * 3_600_000;
  voicemail = flowFrom('ring the office, then voicemail', 1, ERASED, t0);
  second = flowFrom('hunt nobody answered', 2, ERASED, t0 + 3_600_000);
  other = flowFrom('hunt nobody answered', 3, OTHER, t0);
  await deliver([...voicemail.deliveries, ...other.deliveries]);
  await catchUp([voicemail.root, other.root]);
  // Twilio keeps the message, and lists the caller's calls (one of them the ledger never heard of).
  const sid = voicemail.voicemail?.recordingSid ?? '';
  api.recordings.set(sid, { sid, callSid: voicemail.root, durationSeconds: 21, dateCreated: new Date() });
  for (const [sid, start] of [
    [voicemail.root, t0],
    [second.root, t0 + 3_600_000],
    [twilioOnly, t0 + 1_800_000],
  ] as const) {
    api.calls.push({ sid, from: ERASED, to: '+14155559876', status: 'no-answer', direction: 'inbound', startTime: new Date(start) });
  }
  cognito = await startLocalCognito();
  await cognito.createPerson({ email: 'ben@example.com', name: 'Ben', role: 'admin', password: PASSWORD });
  await cognito.createPerson({ email: 'ana@example.com', name: 'Ana', role: 'agent', password: PASSWORD });
  tokens = {
    admin: (await signInWithPassword(cognito, 'ben@example.com', PASSWORD)).idToken,
    agent: (await signInWithPassword(cognito, 'ana@example.com', PASSWORD)).idToken,
  };
  handler = await loadHandler<Handler>('operator', {
    tableName: table.tableName,
    env: {
      TWILIO_API_BASE_URL: api.baseUrl,
      USER_POOL_ID: cognito.userPoolId,
      USER_POOL_CLIENT_ID: cognito.clientId,
      COGNITO_ENDPOINT: cognito.endpoint,
      PEOPLE_API_KEY: PEOPLE_KEY,
    },
  });
  // Someone called them back (a resolution), then they called again (an open callback), and were texted.
  const resolved = await handler(
    { ...request('POST', ERASED, JSON.stringify({ note: 'left a message' })), resource: '/callbacks/{phone}/resolve' },
    context,
  );
  expect(resolved.statusCode).toBe(200);
  await deliver(second.deliveries);
  await catchUp([second.root]);
  await table.docs.send(
    new PutCommand({ TableName: table.tableName, Item: { pk: textBackKey(ERASED), type: 'textback', phone: ERASED, version: 1 } }),
  );
});
afterAll(async () => {
  await Promise.all([api.stop(), table.drop(), cognito?.stop()]);
});

describe('DELETE /contacts/{phone}', () => {
  it('is for admins: an agent and a machine key get 403, and nothing is erased', async () => {
    const before = await ledgerItems();
    const body = JSON.stringify({ confirm: ERASED });
    for (const [who, message] of [
      ['agent', 'Only an admin may do this'],
      ['machine', 'An API key may not do this: sign in as an admin'],
    ] as const) {
      const response = await handler(request('DELETE', ERASED, body, 'application/json', who), context);
      expect({ who, status: response.statusCode, body: JSON.parse(response.body) }).toEqual({ who, status: 403, body: { message } });
    }
    expect(await ledgerItems()).toEqual(before);
  });

  it('refuses without the number typed again (400), or a body that is not JSON (415), and erases nothing', async () => {
    const before = await ledgerItems();
    for (const [body, contentType, status, message] of [
      [JSON.stringify({ confirm: OTHER }), 'application/json', 400, 'confirm is not the number to erase: nothing was erased'],
      [JSON.stringify({}), 'application/json', 400, 'body must be {"confirm": "<the number to erase, again>"}'],
      ['{', 'application/json', 400, 'body is not valid JSON'],
      [`confirm=${ERASED}`, 'application/x-www-form-urlencoded', 415, 'Content-Type must be application/json'],
    ] as const) {
      const response = await handler(request('DELETE', ERASED, body, contentType), context);
      expect({ status: response.statusCode, body: JSON.parse(response.body) }).toEqual({ status, body: { message } });
      expect(responseErrors('/contacts/{phone}', 'DELETE', status, JSON.parse(response.body))).toEqual([]);
    }
    expect(await ledgerItems()).toEqual(before);
  });

  it('erases the caller whole: contact, calls, resolutions, text-back, their recording at Twilio; the counters and another caller stay', async () => {
    const countersBefore = await counters();
    const otherBefore = (await ledgerItems()).filter((i) => JSON.stringify(i).includes(OTHER));
    expect(otherBefore.length).toBeGreaterThan(0);
    const sid = voicemail.voicemail?.recordingSid ?? '';
    expect(api.recordings.has(sid)).toBe(true);

    // The number typed again in its national form.
    const response = await handler(request('DELETE', ERASED, JSON.stringify({ confirm: '(415) 555-0301' })), context);
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body);
    expect(responseErrors('/contacts/{phone}', 'DELETE', 200, body)).toEqual([]);
    expect(body).toMatchObject({
      phone: ERASED,
      erased: { contact: true, calls: 2, resolutions: 1, textBack: true, recordings: { deleted: 1, gone: 0 } },
    });
    // Nothing in the table holds the number any more; each of their calls is a tombstone.
    const after = await ledgerItems();
    expect(after.filter((i) => JSON.stringify(i).includes(ERASED.slice(2)))).toEqual([]);
    const tombstones = after.filter((i) => i.type === 'erased').map((i) => i.pk);
    expect(tombstones.sort()).toEqual([voicemail.root, second.root, twilioOnly].map((s) => `CALL#${s}`).sort());
    expect(api.recordings.has(sid)).toBe(false);
    expect(await counters()).toEqual(countersBefore);
    expect(after.filter((i) => JSON.stringify(i).includes(OTHER))).toEqual(otherBefore);
  });

  it('is not undone by late callbacks about the erased calls, nor by the nightly reconciliation of the one it never heard of', async () => {
    const before = await ledgerItems();
    const results = await deliver([...voicemail.deliveries, ...second.deliveries]);
    expect(results.every((r) => r.erased === true)).toBe(true);
    const reconciled = await ledger.record({
      rootCallSid: twilioOnly,
      accountSid: ACCOUNT_SID,
      legCallSids: [twilioOnly],
      evidence: [{ kind: 'root', status: 'no-answer', durationSeconds: 0 }],
      root: { direction: 'inbound', from: ERASED, to: '+14155559876' },
      ends: true,
      reportedAt: undefined,
      startedAt: new Date().toISOString(),
      source: 'reconcile',
    });
    expect(reconciled.erased).toBe(true);
    expect(await ledgerItems()).toEqual(before);
    await catchUp([voicemail.root, second.root, twilioOnly]);
    expect((await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: contactKey(ERASED) } }))).Item).toBeUndefined();
  });

  it('answers 200 with nothing left to erase when repeated; a new call from the number is recorded as any other', async () => {
    const again = await handler(request('DELETE', ERASED, JSON.stringify({ confirm: ERASED })), context);
    expect(JSON.parse(again.body)).toMatchObject({
      erased: { contact: false, calls: 0, resolutions: 0, textBack: false, recordings: { deleted: 0, gone: 0 } },
    });
    const fresh = flowFrom('hunt nobody answered', 4, ERASED, Date.now() - 60_000);
    await deliver(fresh.deliveries);
    await catchUp([fresh.root]);
    const contact = (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: contactKey(ERASED) } }))).Item;
    expect(contact).toMatchObject({ phone: ERASED, missedCount: 1, recentCallSids: [fresh.root] });
  });
});
