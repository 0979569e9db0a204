/**
 * The audit trail (GET /audit): the operator function as deployed (its role, DynamoDB Local, a
 * local Cognito, the local Twilio API) keeps who did what and when for every operator action,
 * newest first, for admins only; it holds no full number and no e-mail, and entries go after
 * AUDIT_RETENTION_DAYS (their TTL).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCognito, signInWithPassword, startLocalCognito } from '../../dev/cognito.js';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createCallingStore } from '../../lib/callbacks/calling.js';
import { createCallbackResolver } from '../../lib/callbacks/store.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { parsePendingCall } from '../../lib/ledger/call-item.js';
import { classifyStatusCallback } from '../../lib/ledger/calls.js';
import { createLedger } from '../../lib/ledger/store.js';
import { auditKey } from '../../lib/table/keys.js';
import { recordAttemptCallback } from '../../lib/webhook/attempts.js';
import { ACCOUNT_SID, AUTH_TOKEN, freshTable, LEDGER_SETTINGS, MACHINE_API_KEY, scanAll, statusCallback, v1Event } from '../helpers.js';
import { loadHandler } from '../lambda.js';
import { responseErrors } from '../openapi.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const context = { awsRequestId: 'audit', functionName: 'operator' } as unknown as Context;
const PEOPLE_KEY = 'people-test-dashboard-key';
const PASSWORD = 'Audit-password-2026';
const LINE = '+14155559876';
const [ANA_CUSTOMER, BEN_CUSTOMER, MACHINE_CUSTOMER, CALLED] = ['+14155550301', '+14155550302', '+14155550303', '+14155550304'];

let cognito: LocalCognito;
let api: TwilioApi;
let table: Awaited<ReturnType<typeof freshTable>>;
let handler: Handler;
let ana: string;
let ben: string;
let anaId: string;
let benId: string;

/** A missed call from `phone`, decided and applied to its contact (as the stream would): an open callback. */
async function miss(phone: string, at: string): Promise<void> {
  const report = classifyStatusCallback(statusCallback({ From: phone, To: LINE, Timestamp: new Date(at).toUTCString() }));
  await createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS }).record(
    report,
    new Date(Date.parse(at) + 2_000),
  );
  const item = (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: `CALL#${report.rootCallSid}` } }))).Item;
  const work = item === undefined ? undefined : parsePendingCall(item);
  if (work === undefined) throw new Error('no contact work');
  await createContactsStore(table.as('contacts'), { tableName: table.tableName }).apply(work);
}

/** A route as API Gateway hands it on: a person's token (with the people's key) or the machines' key. */
async function route(
  method: string,
  resource: string,
  who: { token: string } | 'machine',
  options: { path?: Record<string, string>; body?: unknown; query?: Record<string, string> } = {},
) {
  const body = options.body === undefined ? '' : JSON.stringify(options.body);
  const event = v1Event({
    resource,
    params: {},
    body,
    query: options.query,
    contentType: 'application/json',
    apiKey: who === 'machine' ? MACHINE_API_KEY : PEOPLE_KEY,
  });
  const response = await handler(
    {
      ...event,
      httpMethod: method,
      body: body === '' ? null : body,
      headers: {
        ...event.headers,
        Host: 'abc123.execute-api.us-east-1.amazonaws.com',
        ...(who === 'machine' ? {} : { Authorization: `Bearer ${who.token}` }),
      },
      pathParameters: options.path ?? null,
    },
    context,
  );
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

beforeAll(async () => {
  [cognito, api, table] = await Promise.all([
    startLocalCognito({ poolName: 'audit-stack' }),
    startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] }),
    freshTable(),
  ]);
  anaId = await cognito.createPerson({ email: 'ana@example.com', name: 'Ana', role: 'agent', password: PASSWORD });
  benId = await cognito.createPerson({ email: 'ben@example.com', name: 'Ben', role: 'admin', password: PASSWORD });
  [ana, ben] = await Promise.all([
    signInWithPassword(cognito, 'ana@example.com', PASSWORD).then((t) => t.idToken),
    signInWithPassword(cognito, 'ben@example.com', PASSWORD).then((t) => t.idToken),
  ]);
  handler = await loadHandler<Handler>('operator', {
    tableName: table.tableName,
    env: {
      USER_POOL_ID: cognito.userPoolId,
      USER_POOL_CLIENT_ID: cognito.clientId,
      COGNITO_ENDPOINT: cognito.endpoint,
      PEOPLE_API_KEY: PEOPLE_KEY,
      TWILIO_API_BASE_URL: api.baseUrl,
      AUDIT_RETENTION_DAYS: '30',
    },
  });
  for (const [i, phone] of [ANA_CUSTOMER, BEN_CUSTOMER, MACHINE_CUSTOMER, CALLED].entries())
    await miss(phone, `2026-12-01T09:0${i}:00.000Z`);
}, 60_000);
afterAll(async () => {
  await Promise.all([cognito?.stop(), api?.stop(), table?.drop()]);
});

describe('the audit trail', () => {
  it('keeps who did what and when for every operator action; admins read it newest first, agents and machines get 403', async () => {
    const started = new Date().toISOString();
    expect(
      (
        await route(
          'POST',
          '/callbacks/{phone}/resolve',
          { token: ana },
          { path: { phone: ANA_CUSTOMER }, body: { note: 'Left a message with Mr. Chen' } },
        )
      ).status,
    ).toBe(200);
    // Resolving again resolves nothing: no second entry.
    expect(
      (await route('POST', '/callbacks/{phone}/resolve', { token: ana }, { path: { phone: ANA_CUSTOMER }, body: {} })).body.alreadyResolved,
    ).toBeDefined();
    expect((await route('POST', '/callbacks/{phone}/resolve', 'machine', { path: { phone: MACHINE_CUSTOMER }, body: {} })).status).toBe(
      200,
    );
    // A call back through Twilio, and the same Idempotency-Key again (nothing more placed).
    const call = { agent: '+14155550199' };
    const placed = await route('POST', '/callbacks/{phone}/call', { token: ana }, { path: { phone: CALLED }, body: call });
    expect(placed.status).toBe(202);
    const invited = await route(
      'POST',
      '/users',
      { token: ben },
      {
        body: { email: 'cleo@example.com', name: 'Cleo', role: 'agent', temporaryPassword: 'Temporary-pass-2026' },
      },
    );
    expect(invited.status).toBe(201);
    expect(
      (await route('PATCH', '/users/{id}', { token: ben }, { path: { id: anaId }, body: { phone: '+14155550199', role: 'agent' } })).status,
    ).toBe(200);
    const erased = await route(
      'DELETE',
      '/contacts/{phone}',
      { token: ben },
      { path: { phone: BEN_CUSTOMER }, body: { confirm: BEN_CUSTOMER } },
    );
    expect(erased.status).toBe(200);

    // Agents and machines may not read it.
    expect(await route('GET', '/audit', { token: ana })).toEqual({ status: 403, body: { message: 'Only an admin may do this' } });
    expect((await route('GET', '/audit', 'machine')).status).toBe(403);

    const page = await route('GET', '/audit', { token: ben }, { query: { since: started } });
    expect(page.status).toBe(200);
    expect(responseErrors('/audit', 'get', 200, page.body)).toEqual([]);
    const entries = page.body.items as { at: string; action: string; actor: unknown; target: unknown; detail?: unknown }[];
    expect(entries.map((e) => e.at)).toEqual([...entries.map((e) => e.at)].sort().reverse());
    const people = { ana: { kind: 'person', id: anaId, name: 'Ana' }, ben: { kind: 'person', id: benId, name: 'Ben' } };
    expect(entries.map(({ action, actor, target, detail }) => ({ action, actor, target, detail })).reverse()).toEqual([
      { action: 'callback.resolved', actor: people.ana, target: { customer: '+*******0301' }, detail: { resolutions: 1, withNote: true } },
      { action: 'callback.resolved', actor: { kind: 'machine' }, target: { customer: '+*******0303' }, detail: { resolutions: 1 } },
      {
        action: 'callback.called',
        actor: people.ana,
        target: { customer: '+*******0304' },
        detail: { attemptId: placed.body.attemptId, callSid: placed.body.callSid },
      },
      {
        action: 'person.invited',
        actor: people.ben,
        target: { person: invited.body.id },
        detail: { role: 'agent', invitation: 'temporary-password' },
      },
      { action: 'person.changed', actor: people.ben, target: { person: anaId }, detail: { role: 'agent', phone: 'changed' } },
      {
        action: 'contact.erased',
        actor: people.ben,
        target: { customer: '+*******0302' },
        detail: { contact: true, calls: 1, resolutions: 0, recordingsDeleted: 0 },
      },
    ]);
    // No full number, no e-mail, no note anywhere in the trail.
    const stored = (await scanAll(table.docs, table.tableName)).filter((item) => item.type === 'audit');
    expect(stored).toHaveLength(6);
    const text = JSON.stringify(stored);
    for (const secret of [ANA_CUSTOMER, BEN_CUSTOMER, CALLED, '+14155550199', 'ana@example.com', 'cleo@example.com', 'Mr. Chen'])
      expect(text).not.toContain(secret);
    // Kept AUDIT_RETENTION_DAYS (30 here): the TTL is 30 days after each action.
    for (const item of stored) expect(item.expiresAt).toBe(Math.floor(Date.parse(String(item.at)) / 1000) + 30 * 86_400);
  });

  it('pages with a cursor bound to its since; a changed cursor is a 400', async () => {
    const first = await route('GET', '/audit', { token: ben }, { query: { limit: '4' } });
    expect(first.body.items).toHaveLength(4);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await route('GET', '/audit', { token: ben }, { query: { limit: '4', cursor: first.body.nextCursor } });
    expect(second.status).toBe(200);
    const all = [...first.body.items, ...second.body.items] as { id: string; at: string }[];
    // Six actions in all (the first test's), each once, newest first.
    expect(new Set(all.map((e) => e.id)).size).toBe(6);
    expect(second.body.nextCursor).toBeNull();
    expect(all.map((e) => `${e.at}#${e.id}`)).toEqual(
      all
        .map((e) => `${e.at}#${e.id}`)
        .sort()
        .reverse(),
    );
    // With since, a cursor pages within it; the cursor's own entry is not repeated.
    const since = all[4]?.at ?? '';
    const bounded = await route('GET', '/audit', { token: ben }, { query: { limit: '2', since } });
    const second2 = await route('GET', '/audit', { token: ben }, { query: { limit: '2', since, cursor: bounded.body.nextCursor } });
    const third = await route('GET', '/audit', { token: ben }, { query: { limit: '2', since, cursor: second2.body.nextCursor } });
    expect([bounded, second2, third].map((p) => p.body.items.length)).toEqual([2, 2, 1]);
    expect([...bounded.body.items, ...second2.body.items, ...third.body.items].map((e: { id: string }) => e.id)).toEqual(
      all.slice(0, 5).map((e) => e.id),
    );
    expect(third.body.nextCursor).toBeNull();
    // When exactly a page's worth remains, that page is the last: no cursor to an empty page.
    const byThree = await route('GET', '/audit', { token: ben }, { query: { limit: '3' } });
    const lastThree = await route('GET', '/audit', { token: ben }, { query: { limit: '3', cursor: byThree.body.nextCursor } });
    expect([byThree, lastThree].map((p) => p.body.items.length)).toEqual([3, 3]);
    expect(lastThree.body.nextCursor).toBeNull();
    const sinceFourth = all[3]?.at ?? '';
    const twoOfFour = await route('GET', '/audit', { token: ben }, { query: { limit: '2', since: sinceFourth } });
    const lastTwo = await route(
      'GET',
      '/audit',
      { token: ben },
      { query: { limit: '2', since: sinceFourth, cursor: twoOfFour.body.nextCursor } },
    );
    expect([twoOfFour, lastTwo].map((p) => p.body.items.length)).toEqual([2, 2]);
    expect(lastTwo.body.nextCursor).toBeNull();
    // A cursor of another since is refused.
    expect((await route('GET', '/audit', { token: ben }, { query: { limit: '2', cursor: bounded.body.nextCursor } })).body).toEqual({
      message: 'cursor belongs to another query (since differs)',
    });
    const tampered = `${first.body.nextCursor.slice(0, -2)}xx`;
    expect(await route('GET', '/audit', { token: ben }, { query: { cursor: tampered } })).toEqual({
      status: 400,
      body: { message: 'cursor is not a cursor this API returned' },
    });
    expect((await route('GET', '/audit', { token: ben }, { query: { since: 'yesterday' } })).status).toBe(400);
    // The item's key is its time and id.
    const [newest] = all;
    const item = (
      await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: auditKey(newest?.at ?? '', newest?.id ?? '') } }))
    ).Item;
    expect(item?.type).toBe('audit');
  });
});

describe('who called back', () => {
  it('resolves a callback that a call back reached in the name of who placed it', async () => {
    const open = await route('GET', '/callbacks', { token: ana }, { query: { limit: '100' } });
    const waiting = (open.body.items as { phone: string; attempts?: { last: { id: string; callSid: string }[] } }[]).find(
      (i) => i.phone === CALLED,
    );
    const attempt = waiting?.attempts?.last[0] ?? { id: '', callSid: '' };
    // The customer's leg of Ana's call back: a person, 60 s (the local Twilio API would send it; here the webhook's code directly).
    await recordAttemptCallback(
      '/twilio/call-status',
      {
        AccountSid: ACCOUNT_SID,
        CallSid: `CA${'7'.repeat(32)}`,
        ParentCallSid: attempt.callSid,
        CallStatus: 'completed',
        CallDuration: '60',
        AnsweredBy: 'human',
      },
      { attemptId: attempt.id, customer: CALLED },
      {
        calling: createCallingStore(table.as('webhook'), table.tableName),
        callbacks: createCallbackResolver(table.as('webhook'), { tableName: table.tableName }),
        minSeconds: 10,
        now: new Date(),
      },
    );
    const resolved = await route('GET', '/callbacks', { token: ana }, { query: { state: 'resolved', limit: '100' } });
    const item = (resolved.body.items as { phone: string }[]).find((i) => i.phone === CALLED);
    expect(item).toMatchObject({ resolvedBy: 'callback', person: { id: anaId, name: 'Ana' } });
    expect(responseErrors('/callbacks', 'get', 200, resolved.body)).toEqual([]);
  });
});
