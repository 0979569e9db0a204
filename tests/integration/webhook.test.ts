/**
 * functions/webhook.ts as deployed (the bundled handler, the template's environment and role):
 * every Twilio callback route through HTTP, with its signature, account and bad-input rules, the
 * TwiML replies and their `next` continuations, and the EventBridge schedule's settle sweep.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, Context, ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nextContact } from '../../lib/contacts/store.js';
import { callKey, contactKey } from '../../lib/table/keys.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  callSid,
  dayTotals,
  dialAction,
  freshTable,
  SECONDARY_TOKEN,
  scanAll,
  signLikeTwilio,
  statusCallback,
  v1Event,
  v2Event,
} from '../helpers.js';
import { functionEnvironment } from '../iam.js';
import { loadHandler, localSsm } from '../lambda.js';

type Handler = (event: APIGatewayProxyEvent | APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResult>;
type Sweep = (event: ScheduledEvent, context: Context) => Promise<Record<string, number>>;

const context = {
  functionName: 'missed-call-ledger-test-webhook',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:missed-call-ledger-test-webhook',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/missed-call-ledger-test-webhook',
  logStreamName: 's',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} satisfies Context;

/**
 * functions/webhook.ts afresh (a cold start) as deployed: the template's environment and role,
 * the primary and secondary tokens read from SSM.
 */
const coldStart = (env: Record<string, string>): Promise<Handler> => loadHandler<Handler>('webhook', { tableName: table.tableName, env });

const STAGE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';
/** The refusal names the URLs the signature was checked against: as called, and with the fragment. */
const INVALID_SIGNATURE = `Invalid X-Twilio-Signature (checked against ${STAGE_URL}/twilio/call-status and ${STAGE_URL}/twilio/call-status#rc=3&rp=all)`;
let table: Awaited<ReturnType<typeof freshTable>>;
let handler: Handler;
let stdout: string[] = [];

beforeAll(async () => {
  table = await freshTable();
  // INFO lines go to stdout, WARN and ERROR lines to stderr: both are captured and checked.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
  }
  handler = await coldStart({ PUBLIC_BASE_URL: '', POWERTOOLS_LOG_LEVEL: 'INFO' });
  stdout = [];
});

afterAll(async () => {
  vi.restoreAllMocks();
  await table.drop();
});

function signedV1(resource: string, params: Record<string, string>, token = AUTH_TOKEN): APIGatewayProxyEvent {
  return v1Event({ resource, params, signature: signLikeTwilio(token, `${STAGE_URL}${resource}`, params) });
}

/**
 * An action callback to `resource?next=<next>`, signed over the URL as Twilio requested it:
 * `next` percent-encoded (as docs/DESIGN.md's TwiML examples write it) unless `raw`.
 */
function signedWithNext(resource: string, params: Record<string, string>, next: string, raw = false): APIGatewayProxyEvent {
  const url = `${STAGE_URL}${resource}?next=${raw ? next : encodeURIComponent(next)}`;
  return v1Event({ resource, params, query: { next }, signature: signLikeTwilio(AUTH_TOKEN, url, params) });
}

const callItems = async () => (await scanAll(table.docs, table.tableName)).filter((item) => item.type === 'call');
const callItem = async (root: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: callKey(root) }, ConsistentRead: true }))).Item;
/** Every day's `total` in the table, added up. */
const totalCounted = async () =>
  (await scanAll(table.docs, table.tableName))
    .filter((item) => item.type === 'stats')
    .reduce((sum, item) => sum + (typeof item.total === 'number' ? item.total : 0), 0);

const HANGUP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
const redirect = (to: string) => `<?xml version="1.0" encoding="UTF-8"?><Response><Redirect method="POST">${to}</Redirect></Response>`;

/** An `<Enqueue action>` callback as Twilio posts it when the caller hung up in the queue. */
const queueResult = (overrides: Record<string, string> = {}) => ({
  AccountSid: ACCOUNT_SID,
  ApiVersion: '2010-04-01',
  CallSid: callSid(),
  CallStatus: 'in-progress',
  QueueResult: 'hangup',
  QueueSid: `QU${'b'.repeat(32)}`,
  QueueTime: '95',
  Direction: 'inbound',
  From: '+14155550123',
  To: '+14155559876',
  ...overrides,
});

describe('webhook handler (REST API v1, URL rebuilt from the request)', () => {
  it('records a signed no-answer callback of a root call as a decided miss and answers 204', async () => {
    const params = statusCallback();
    const response = await handler(signedV1('/twilio/call-status', params), context);
    expect(response).toMatchObject({ statusCode: 204, body: '' });
    expect(await callItem(params.CallSid)).toMatchObject({
      outcome: 'missed',
      reason: 'no-answer',
      status: 'no-answer',
      source: 'status-callback',
      customer: '+14155550123',
    });
  });

  it('records a <Dial> leg’s no-answer as evidence only: the call is not decided before it ends', async () => {
    const parent = callSid();
    const params = statusCallback({ ParentCallSid: parent, Direction: 'outbound-dial', From: '+14155559876', To: '+14155550181' });
    const before = await totalCounted();
    expect((await handler(signedV1('/twilio/call-status', params), context)).statusCode).toBe(204);
    const item = await callItem(parent);
    expect(item).toMatchObject({ [`leg#${params.CallSid}`]: 'no-answer', gsi1pk: expect.stringMatching(/^SETTLE#/) });
    expect(item).not.toHaveProperty('outcome');
    expect(await totalCounted()).toBe(before);
  });

  it('accepts a callback signed with the secondary token', async () => {
    const params = statusCallback({ CallStatus: 'busy' });
    expect((await handler(signedV1('/twilio/call-status', params, SECONDARY_TOKEN), context)).statusCode).toBe(204);
    expect((await callItems()).map((item) => item.pk)).toContain(callKey(params.CallSid));
  });

  it('accepts a signature over the URL with the connection-override fragment, and the configured one only', async () => {
    const withFragment = statusCallback({ CallStatus: 'busy' });
    const event = v1Event({
      resource: '/twilio/call-status',
      params: withFragment,
      signature: signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}/twilio/call-status#rc=3&rp=all`, withFragment),
    });
    expect((await handler(event, context)).statusCode).toBe(204);
    expect((await callItems()).map((item) => item.pk)).toContain(callKey(withFragment.CallSid));

    const otherFragment = statusCallback();
    const refused = await handler(
      v1Event({
        resource: '/twilio/call-status',
        params: otherFragment,
        signature: signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}/twilio/call-status#rc=5`, otherFragment),
      }),
      context,
    );
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({ message: INVALID_SIGNATURE });

    // TWILIO_URL_FRAGMENT names the fragment the numbers are configured with.
    const custom = await coldStart({ PUBLIC_BASE_URL: '', TWILIO_URL_FRAGMENT: '#rc=5' });
    const signedWithRc5 = v1Event({
      resource: '/twilio/call-status',
      params: otherFragment,
      signature: signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}/twilio/call-status#rc=5`, otherFragment),
    });
    expect((await custom(signedWithRc5, context)).statusCode).toBe(204);
  });

  it('answers a Dial action with TwiML that ends the call, and decides the call from it', async () => {
    const params = dialAction();
    const response = await handler(signedV1('/twilio/dial-status', params), context);
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'text/xml' });
    expect(response.body).toBe(HANGUP);
    const item = await callItem(params.CallSid);
    expect(item).toMatchObject({ outcome: 'missed', reason: 'no-answer', source: 'dial-action', endedAt: expect.any(String) });
    expect(item).not.toHaveProperty('gsi1pk');
  });

  it('answers a Dial action with `next` by <Redirect> there: the flow goes on, the call is not decided yet', async () => {
    const params = dialAction();
    const before = await totalCounted();
    const response = await handler(signedWithNext('/twilio/dial-status', params, '/twiml/voicemail'), context);
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'text/xml' });
    expect(response.body).toBe(redirect('/twiml/voicemail'));
    const item = await callItem(params.CallSid);
    expect(item).toMatchObject({ [`dial#${params.DialCallSid}`]: 'no-answer', gsi1pk: expect.stringMatching(/^SETTLE#/) });
    expect(item).not.toHaveProperty('outcome');
    expect(item).not.toHaveProperty('endedAt');
    expect(await totalCounted()).toBe(before);

    // An absolute URL, its query escaped for XML.
    const absolute = 'https://example.com/twiml/voicemail?lang=en&box=2';
    const other = await handler(signedWithNext('/twilio/dial-status', dialAction(), absolute), context);
    expect(other.body).toBe(redirect('https://example.com/twiml/voicemail?lang=en&amp;box=2'));
  });

  it('accepts `next` written in the action URL as docs/DESIGN.md says it (`?next=/voicemail`), unencoded', async () => {
    const params = dialAction();
    const response = await handler(signedWithNext('/twilio/dial-status', params, '/voicemail', true), context);
    // BUG: REST API v1 gives the query decoded; lib/platform/request.ts rebuilds it with
    // encodeURIComponent (`next=%2Fvoicemail`), so Twilio's signature over the URL as written in the
    // TwiML (`next=/voicemail`) never matches and the action is refused 403: the caller hears an
    // application error instead of the voicemail. (HTTP API v2 keeps the raw query and works.)
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(redirect('/voicemail'));
  });

  it('records an answered Dial as answered and a call TwiML alone handled as not missed, counting neither', async () => {
    const before = await totalCounted();
    const ivr = statusCallback({ CallStatus: 'completed', CallDuration: '40' });
    expect((await handler(signedV1('/twilio/call-status', ivr), context)).statusCode).toBe(204);
    const answered = dialAction({ DialCallStatus: 'answered', DialCallDuration: '64' });
    expect((await handler(signedV1('/twilio/dial-status', answered), context)).statusCode).toBe(200);
    expect(await callItem(answered.CallSid)).toMatchObject({ outcome: 'answered' });
    // Ended, no outcome written, out of the settle index: not missed.
    const handled = await callItem(ivr.CallSid);
    expect(handled).toMatchObject({ rootStatus: 'completed', endedAt: expect.any(String) });
    expect(handled).not.toHaveProperty('outcome');
    expect(handled).not.toHaveProperty('gsi1pk');
    expect(await totalCounted()).toBe(before);
  });

  it('does not take a forwarded phone’s voicemail for a returned call: the caller’s open callback stays open', async () => {
    const caller = '+14155550142';
    // The caller's earlier miss, open on the worklist.
    const earlier = callSid();
    const contact = nextContact(
      undefined,
      caller,
      {
        rootCallSid: earlier,
        action: 'apply',
        customer: caller,
        line: '+14155559876',
        status: 'no-answer',
        reason: 'no-answer',
        occurredAt: '2026-11-24T08:00:00.000Z',
        day: '2026-11-24',
        knownAt: '2026-11-24T08:00:00.000Z',
        token: 'x',
        applied: undefined,
        reached: undefined,
      },
      '2026-11-24T08:00:05.000Z',
    );
    await table.docs.send(new PutCommand({ TableName: table.tableName, Item: contact }));
    // They call again; the office forwards to a cell phone whose voicemail answers (machine detection on).
    const root = callSid();
    const cell = callSid();
    const leg = statusCallback({
      CallSid: cell,
      ParentCallSid: root,
      Direction: 'outbound-dial',
      From: '+14155559876',
      To: '+14155550182',
      CallStatus: 'completed',
      CallDuration: '28',
      AnsweredBy: 'machine_end_beep',
    });
    expect((await handler(signedV1('/twilio/call-status', leg), context)).statusCode).toBe(204);
    const readContact = async () =>
      (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: contactKey(caller) }, ConsistentRead: true }))).Item;
    expect((await readContact())?.callback).toMatchObject({ openSince: '2026-11-24T08:00:00.000Z', openMissedCount: 1 });
    const action = dialAction({ CallSid: root, From: caller, DialCallSid: cell, DialCallStatus: 'completed', DialCallDuration: '28' });
    expect((await handler(signedV1('/twilio/dial-status', action), context)).statusCode).toBe(200);
    expect(await callItem(root)).toMatchObject({ outcome: 'missed', reason: 'no-answer' });
    const after = await readContact();
    // BUG: lib/webhook/handle.ts resolves callbacks from `answeredByDialAction` (DialCallStatus
    // completed, long enough) without asking whether a person answered: the ledger has just
    // decided this call missed (its leg was a machine), yet the voicemail "returned" the call.
    expect(after?.callback).toMatchObject({ openSince: '2026-11-24T08:00:00.000Z', openMissedCount: 1 });
  });

  it.each([
    [
      'a tampered parameter',
      (p: Record<string, string>) => ({
        ...signedV1('/twilio/call-status', p),
        body: new URLSearchParams({ ...p, CallStatus: 'busy' }).toString(),
      }),
      INVALID_SIGNATURE,
    ],
    [
      'no signature',
      (p: Record<string, string>) => v1Event({ resource: '/twilio/call-status', params: p }),
      'Missing X-Twilio-Signature header',
    ],
    [
      'a signature over another URL',
      (p: Record<string, string>) =>
        v1Event({
          resource: '/twilio/call-status',
          params: p,
          signature: signLikeTwilio(AUTH_TOKEN, 'https://evil.example/twilio/call-status', p),
        }),
      INVALID_SIGNATURE,
    ],
    [
      'another account, correctly signed',
      (p: Record<string, string>) => signedV1('/twilio/call-status', { ...p, AccountSid: `AC${'2'.repeat(32)}` }),
      'AccountSid does not match this deployment',
    ],
  ])('refuses %s with 403 and writes nothing', async (_name, build, message) => {
    const before = await callItems();
    const response = await handler(build(statusCallback()), context);
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ message });
    expect(await callItems()).toHaveLength(before.length);
  });

  it.each([
    ['a missing CallStatus', () => signedV1('/twilio/call-status', statusCallback({ CallStatus: '' })), 400, 'CallStatus is required'],
    ['a missing CallSid', () => signedV1('/twilio/call-status', statusCallback({ CallSid: '' })), 400, 'CallSid is required'],
    [
      'a JSON body',
      () => v1Event({ resource: '/twilio/call-status', params: {}, body: '{}', contentType: 'application/json' }),
      415,
      'Content-Type must be application/x-www-form-urlencoded',
    ],
    ['an unknown route', () => signedV1('/twilio/other', statusCallback()), 404, 'No route /twilio/other'],
    [
      'a Dial action without DialCallStatus',
      () => signedV1('/twilio/dial-status', dialAction({ DialCallStatus: '' })),
      400,
      'DialCallStatus is required',
    ],
    [
      'an unknown QueueResult',
      () => signedV1('/twilio/queue-status', queueResult({ QueueResult: 'exploded' })),
      400,
      'QueueResult "exploded" is not a Twilio queue result',
    ],
    [
      'a malformed QueueTime',
      () => signedV1('/twilio/queue-status', queueResult({ QueueTime: 'soon' })),
      400,
      'QueueTime is not a whole number of seconds',
    ],
    [
      'a GET',
      () => ({ ...signedV1('/twilio/call-status', statusCallback()), httpMethod: 'GET' }),
      405,
      '/twilio/call-status accepts POST only',
    ],
  ])('refuses %s with a clear 4xx and writes nothing', async (_name, build, status, message) => {
    const before = await callItems();
    const response = await handler(build(), context);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ message });
    expect(await callItems()).toHaveLength(before.length);
  });

  it.each([
    ['a javascript: URL', 'javascript:alert(1)'],
    ['an ftp URL', 'ftp://example.com/voicemail'],
    ['a relative path', 'voicemail'],
    ['a URL with a space', 'https://example.com/voice mail'],
    ['a URL longer than 1,000 characters', `https://example.com/${'v'.repeat(1000)}`],
  ])('refuses `next` that is %s with 400 on both action routes, and writes nothing', async (_name, next) => {
    for (const [resource, params] of [
      ['/twilio/dial-status', dialAction()],
      ['/twilio/queue-status', queueResult()],
    ] as const) {
      const before = await callItems();
      const response = await handler(signedWithNext(resource, params, next), context);
      expect({ resource, status: response.statusCode }).toEqual({ resource, status: 400 });
      expect(JSON.parse(response.body)).toEqual({ message: 'next must be an absolute http(s) URL or a path starting with /' });
      expect(await callItems()).toHaveLength(before.length);
    }
  });

  it('logs JSON with the CallSid and masked numbers, never the token or signature', async () => {
    const params = statusCallback({ From: '+14155557777' });
    const event = signedV1('/twilio/call-status', params);
    stdout.length = 0;
    await handler(event, context);
    await handler({ ...event, body: `${event.body}x` }, context);
    const lines = stdout
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.find((line) => line.message === 'Callback recorded')).toMatchObject({
      route: 'call-status',
      callSid: params.CallSid,
      outcome: 'missed',
      reason: 'no-answer',
      from: '+*******7777',
    });
    const text = stdout.join('');
    expect(text).not.toContain('+14155557777');
    expect(text).not.toContain(AUTH_TOKEN);
    expect(text).not.toContain(event.headers['X-Twilio-Signature']);
  });
});

describe('webhook handler: the <Enqueue action> route', () => {
  it('answers a signed queue result with TwiML that ends the call, and decides the call from it', async () => {
    const params = queueResult();
    const response = await handler(signedV1('/twilio/queue-status', params), context);
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'text/xml' });
    expect(response.body).toBe(HANGUP);
    expect(await callItem(params.CallSid)).toMatchObject({
      outcome: 'missed',
      reason: 'queue-abandoned',
      status: 'no-answer',
      source: 'queue-action',
      [`queue#${params.QueueSid}`]: 'hangup:95',
    });
  });

  it('decides a hang-up within 10 s in the queue short-abandoned, and a bridged caller answered', async () => {
    const short = queueResult({ QueueTime: '3' });
    expect((await handler(signedV1('/twilio/queue-status', short), context)).statusCode).toBe(200);
    expect(await callItem(short.CallSid)).toMatchObject({ outcome: 'missed', reason: 'short-abandoned' });
    const bridged = queueResult({ QueueResult: 'bridged', QueueTime: '40' });
    expect((await handler(signedV1('/twilio/queue-status', bridged), context)).statusCode).toBe(200);
    expect(await callItem(bridged.CallSid)).toMatchObject({ outcome: 'answered' });
  });

  it('answers a queue result with `next` by <Redirect method="POST"> there, the call not decided yet', async () => {
    const params = queueResult({ QueueResult: 'leave', QueueTime: '40' });
    const before = await totalCounted();
    const response = await handler(signedWithNext('/twilio/queue-status', params, '/voicemail'), context);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(redirect('/voicemail'));
    const item = await callItem(params.CallSid);
    expect(item).toMatchObject({ [`queue#${params.QueueSid}`]: 'leave:40', gsi1pk: expect.stringMatching(/^SETTLE#/) });
    expect(item).not.toHaveProperty('outcome');
    expect(await totalCounted()).toBe(before);
  });

  it('refuses a queue result signed for another route, or for another account, with 403 and writes nothing', async () => {
    const before = await callItems();
    const params = queueResult();
    const replayed = v1Event({
      resource: '/twilio/queue-status',
      params,
      signature: signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}/twilio/dial-status`, params),
    });
    expect((await handler(replayed, context)).statusCode).toBe(403);
    const other = await handler(signedV1('/twilio/queue-status', queueResult({ AccountSid: `AC${'2'.repeat(32)}` })), context);
    expect(other.statusCode).toBe(403);
    expect(JSON.parse(other.body)).toEqual({ message: 'AccountSid does not match this deployment' });
    expect(await callItems()).toHaveLength(before.length);
  });
});

describe('webhook handler (HTTP API v2, PUBLIC_BASE_URL configured)', () => {
  it('checks the signature against the public URL and decodes the base64 body', async () => {
    const v2 = await coldStart({ PUBLIC_BASE_URL: 'https://hooks.example.com/ledger' });
    const params = statusCallback({ CallStatus: 'failed' });
    const good = v2Event({
      route: '/twilio/call-status',
      params,
      signature: signLikeTwilio(AUTH_TOKEN, 'https://hooks.example.com/ledger/twilio/call-status', params),
    });
    const rebuiltUrl = v2Event({
      route: '/twilio/call-status',
      params: statusCallback(),
      signature: signLikeTwilio(AUTH_TOKEN, 'https://xyz789.execute-api.us-east-1.amazonaws.com/twilio/call-status', params),
    });

    expect((await v2(good, context)).statusCode).toBe(204);
    expect((await v2(rebuiltUrl, context)).statusCode).toBe(403);
    expect(await callItem(params.CallSid)).toMatchObject({ outcome: 'missed', status: 'failed', reason: 'failed' });
  });

  it('checks the signature over the raw query of an action URL with `next`', async () => {
    const v2 = await coldStart({ PUBLIC_BASE_URL: 'https://hooks.example.com/ledger' });
    const params = dialAction();
    const event = v2Event({
      route: '/twilio/dial-status',
      params,
      rawQueryString: 'next=/voicemail',
      signature: signLikeTwilio(AUTH_TOKEN, 'https://hooks.example.com/ledger/twilio/dial-status?next=/voicemail', params),
    });
    const response = await v2(event, context);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(redirect('/voicemail'));
  });
});

describe('webhook handler on its EventBridge schedule (the settle sweep)', () => {
  let own: Awaited<ReturnType<typeof freshTable>>;
  beforeAll(async () => {
    own = await freshTable();
  });
  afterAll(async () => {
    await own.drop();
  });

  const scheduled = (): ScheduledEvent => ({
    version: '0',
    id: 'c5f1b5d2-0000-4000-8000-000000000001',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/missed-call-ledger-prod-webhook-schedule'],
    detail: {},
  });

  it('decides a call whose final callback never came: only a leg’s no-answer, settled later, is missed', async () => {
    const webhook = await loadHandler<Handler>('webhook', {
      tableName: own.tableName,
      env: { PUBLIC_BASE_URL: '', OUTCOME_SETTLE_SECONDS: '1' },
    });
    const sweep = webhook as unknown as Sweep;
    const parent = callSid();
    const leg = statusCallback({
      ParentCallSid: parent,
      Direction: 'outbound-dial',
      From: '+14155559876',
      To: '+14155550181',
      Timestamp: 'Tue, 24 Nov 2026 09:15:30 +0000',
    });
    expect((await webhook(signedV1('/twilio/call-status', leg), context)).statusCode).toBe(204);
    const idle = { due: 0, missed: 0, answered: 0, notMissed: 0, moved: 0 };
    // Its settle time is a second after its last evidence (not before: tests/integration/ledger.test.ts).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await sweep(scheduled(), context)).toMatchObject({ ...idle, due: 1, missed: 1 });
    const item = (await own.docs.send(new GetCommand({ TableName: own.tableName, Key: { pk: callKey(parent) }, ConsistentRead: true })))
      .Item;
    expect(item).toMatchObject({ outcome: 'missed', reason: 'no-answer', source: 'settle', settledAt: expect.any(String) });
    expect(item).not.toHaveProperty('gsi1pk');
    expect(await dayTotals(own.docs, own.tableName, '2026-11-24')).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:settle': 1,
      'reason:no-answer': 1,
    });
    // Swept again: nothing left.
    expect(await sweep(scheduled(), context)).toMatchObject(idle);
  });
});

describe('webhook handler when its token cannot be read', () => {
  it('answers 503 (Twilio retries) while the SSM parameter is missing, and records nothing', async () => {
    const ssm = await localSsm();
    const name = functionEnvironment('webhook').TWILIO_AUTH_TOKEN_PARAM ?? '';
    ssm.parameters.delete(name);
    try {
      const noToken = await coldStart({ PUBLIC_BASE_URL: '' });
      const params = statusCallback();
      const response = await noToken(signedV1('/twilio/call-status', params), context);
      expect(response.statusCode).toBe(503);
      expect((await callItems()).map((item) => item.pk)).not.toContain(callKey(params.CallSid));
      expect(ssm.requests).toContain(name);
    } finally {
      ssm.parameters.set(name, AUTH_TOKEN);
    }
  });
});

describe('webhook handler when DynamoDB fails', () => {
  it('answers 503 with Retry-After so that Twilio retries, and exposes no error detail', async () => {
    const broken = await loadHandler<Handler>('webhook', { tableName: 'no-such-table', env: { PUBLIC_BASE_URL: '' } });
    const params = statusCallback({ CallSid: callSid() });
    const response = await broken(signedV1('/twilio/call-status', params), context);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
    expect(JSON.parse(response.body)).toEqual({ message: 'Temporarily unavailable, retry later' });
  });
});
