/**
 * Hostile webhooks, property-based: random and adversarial bodies, content types, replays to
 * another route or URL, another account's valid signature, an old token after rotation, a `next`
 * continuation added to a signed URL or full of markup. Always a 4xx or the documented success,
 * never a 500, never a write without a valid signature, never TwiML that says more than `next`;
 * the logs never hold a full number, the token or a signature.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/platform/log.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  callSid,
  dialAction,
  freshTable,
  SECONDARY_TOKEN,
  scanAll,
  signLikeTwilio,
  statusCallback,
  v1Event,
} from '../helpers.js';
import { coldStartWebhook, FULL, finishScenario, lambdaContext, report, STAGE_URL, type WebhookHandler } from './scale.js';

const context = lambdaContext('hostile');
const RUNS = FULL ? 2_000 : 150;

let table: Awaited<ReturnType<typeof freshTable>>;
let handler: WebhookHandler;
const logged: string[] = [];

beforeAll(async () => {
  table = await freshTable();
  // INFO lines go to stdout, WARN and ERROR lines to stderr: both are captured and checked.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
  }
  handler = await coldStartWebhook(table.tableName, { POWERTOOLS_LOG_LEVEL: 'INFO' });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await finishScenario('6 hostile webhooks');
  await table.drop();
});

/** The documented successes: 204 to a status callback, 200 (TwiML) to an action. */
const SUCCESS = new Set([200, 204]);
const REFUSALS = new Set([400, 403, 404, 405, 413, 415]);
const ROUTES = [
  '/twilio/call-status',
  '/twilio/dial-status',
  '/twilio/queue-status',
  '/twilio/recording-status',
  '/twilio/transcription',
] as const;

/** Sends bad input: it must be refused with its 4xx. */
async function send(event: APIGatewayProxyEvent): Promise<number> {
  report.badInputs += 1;
  const response = await handler(event, context);
  if (response.statusCode >= 500) report.serverErrorsForBadInput += 1;
  else if (!REFUSALS.has(response.statusCode)) report.badInputAccepted += 1;
  return response.statusCode;
}

/** Sends a correctly signed callback whose values may be hostile: a 4xx or the documented success. */
async function sendSigned(event: APIGatewayProxyEvent): Promise<APIGatewayProxyEvent & { status: number; body: string }> {
  report.deliveries += 1;
  const response = await handler(event, context);
  if (response.statusCode >= 500) report.serverErrorsForBadInput += 1;
  return { ...event, status: response.statusCode, body: response.body };
}

const signed = (resource: string, params: Record<string, string>, query?: Record<string, string>) => {
  // The URL as API Gateway (REST API v1) gives it back: each query value percent-encoded.
  const search =
    query === undefined
      ? ''
      : `?${Object.entries(query)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join('&')}`;
  return v1Event({ resource, params, query, signature: signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}${resource}${search}`, params) });
};

const xmlEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const fieldName = fc.oneof(
  fc.constantFrom(
    'CallSid',
    'CallStatus',
    'AccountSid',
    'From',
    'To',
    'ParentCallSid',
    'Direction',
    'DialCallStatus',
    'DialCallSid',
    'QueueResult',
    'QueueSid',
    'QueueTime',
    'CallDuration',
    'AnsweredBy',
    'CallSid[]',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
  ),
  fc.string({ maxLength: 20 }),
);
const fieldValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(
    'no-answer',
    'busy',
    'completed',
    'hangup',
    'bridged',
    `CA${'a'.repeat(32)}`,
    `QU${'a'.repeat(32)}`,
    ACCOUNT_SID,
    '+14155550123',
  ),
);

describe('hostile webhooks', () => {
  it('answers random and adversarial unsigned form bodies with a 4xx and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 25 }),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', ''),
        fc.constantFrom(...ROUTES, '/twilio/other'),
        fc.boolean(),
        async (pairs, contentType, resource, base64) => {
          const body = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
          const event = v1Event({
            resource,
            params: {},
            body,
            contentType,
            signature: fc.sample(fc.base64String({ maxLength: 28 }), 1)[0] ?? '',
          });
          if (base64) Object.assign(event, { body: Buffer.from(body).toString('base64'), isBase64Encoded: true });
          const status = await send(event);
          expect(REFUSALS.has(status)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
    expect(await scanAll(table.docs, table.tableName)).toEqual([]);
  });

  it('answers huge, binary and broken-encoding bodies with a 4xx', async () => {
    const cases = [
      v1Event({ resource: '/twilio/call-status', params: {}, body: 'a='.padEnd(70_000, 'x') }),
      Object.assign(v1Event({ resource: '/twilio/call-status', params: {}, body: '' }), {
        body: Buffer.from([0, 255, 254, 10, 13]).toString('base64'),
        isBase64Encoded: true,
      }),
      Object.assign(v1Event({ resource: '/twilio/call-status', params: {}, body: '' }), { body: '%%%', isBase64Encoded: true }),
      v1Event({ resource: '/twilio/call-status', params: {}, body: 'CallSid=%E0%A4%A&CallStatus=%' }),
    ];
    const statuses = [];
    for (const event of cases) statuses.push(await send(event));
    expect(statuses).toEqual([413, 400, 400, 403]);
  });

  it('refuses valid signatures used elsewhere: another route, another URL, another account, an old token', async () => {
    const params = statusCallback();
    const signedFor = (url: string, p = params, token = AUTH_TOKEN) => signLikeTwilio(token, url, p);
    const other = { ...params, AccountSid: `AC${'9'.repeat(32)}` };
    const action = dialAction();
    const attempts = [
      // Replayed to the Dial action route, and to the Enqueue action route.
      v1Event({ resource: '/twilio/dial-status', params, signature: signedFor(`${STAGE_URL}/twilio/call-status`) }),
      v1Event({ resource: '/twilio/queue-status', params, signature: signedFor(`${STAGE_URL}/twilio/call-status`) }),
      // A `next` added to a captured, signed action (the query is part of what Twilio signs).
      v1Event({
        resource: '/twilio/dial-status',
        params: action,
        query: { next: 'https://evil.example/twiml' },
        signature: signedFor(`${STAGE_URL}/twilio/dial-status`, action),
      }),
      // Signed for another host.
      v1Event({ resource: '/twilio/call-status', params, signature: signedFor('https://evil.example/prod/twilio/call-status') }),
      // Another account's callback, correctly signed with our token.
      v1Event({ resource: '/twilio/call-status', params: other, signature: signedFor(`${STAGE_URL}/twilio/call-status`, other) }),
      // A token rotated out.
      v1Event({
        resource: '/twilio/call-status',
        params,
        signature: signedFor(`${STAGE_URL}/twilio/call-status`, params, 'the-old-token-before-rotation!!'),
      }),
    ];
    const statuses = [];
    for (const event of attempts) statuses.push(await send(event));
    expect(statuses).toEqual([403, 403, 403, 403, 403, 403]);
    expect(await scanAll(table.docs, table.tableName)).toEqual([]);
  });

  it('answers correctly signed callbacks with hostile values with a 4xx or the documented success, never a 500', async () => {
    const value = fc.oneof(fieldValue, fc.constantFrom('', '0', '9999999', '-1', 'machine_end_beep', 'fax', 'leave', 'queue-full'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.dictionary(
          fc.constantFrom(
            'CallStatus',
            'ParentCallSid',
            'DialCallStatus',
            'DialCallSid',
            'QueueResult',
            'QueueSid',
            'QueueTime',
            'CallDuration',
            'AnsweredBy',
            'RecordingSid',
            'RecordingStatus',
            'RecordingDuration',
            'RecordingSource',
            'TranscriptionStatus',
            'TranscriptionText',
            'Direction',
            'From',
            'To',
          ),
          value,
          { maxKeys: 5 },
        ),
        async (resource, overrides) => {
          const params = {
            ...statusCallback({ CallSid: callSid() }),
            DialCallStatus: 'no-answer',
            QueueResult: 'hangup',
            RecordingSid: `RE${'e'.repeat(32)}`,
            RecordingStatus: 'completed',
            RecordingDuration: '12',
            RecordingSource: 'RecordVerb',
            TranscriptionStatus: 'completed',
            TranscriptionText: 'hello',
            ...overrides,
          };
          const sent = await sendSigned(signed(resource, params));
          expect(SUCCESS.has(sent.status) || sent.status === 400).toBe(true);
        },
      ),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });

  it('says no more in TwiML than the `next` it was given: escaped, or refused with 400', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/twilio/dial-status', '/twilio/queue-status'),
        fc.oneof(
          fc.string({ maxLength: 40 }).map((tail) => `/${tail}`),
          fc.string({ maxLength: 40 }).map((tail) => `https://example.com/${tail}`),
          fc.constantFrom('/vm?a=1&b=<2>', '/"><Dial>+15550100</Dial>', "https://example.com/x'y", 'javascript:alert(1)', ''),
        ),
        async (resource, next) => {
          const params = resource === '/twilio/dial-status' ? dialAction() : { ...dialAction(), QueueResult: 'leave', QueueTime: '30' };
          const sent = await sendSigned(signed(resource, params, next === '' ? undefined : { next }));
          expect([200, 400]).toContain(sent.status);
          if (sent.status !== 200) return;
          const redirected = next !== '' && next.length <= 1000;
          expect(sent.body).toBe(
            redirected
              ? `<?xml version="1.0" encoding="UTF-8"?><Response><Redirect method="POST">${xmlEscape(next)}</Redirect></Response>`
              : '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>',
          );
        },
      ),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });

  it('logs no full phone number, token or signature', async () => {
    logger.setLogLevel('INFO');
    const params = statusCallback({ From: '+14155550177' });
    const event = v1Event({
      resource: '/twilio/call-status',
      params,
      signature: signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}/twilio/call-status`, params),
    });
    expect(await handler(event, context)).toMatchObject({ statusCode: 204 });
    await handler({ ...event, body: `${event.body}&x=1` }, context);
    const text = logged.join('');
    expect(text).toContain(params.CallSid);
    for (const secret of ['+14155550177', AUTH_TOKEN, SECONDARY_TOKEN, event.headers['X-Twilio-Signature'] ?? 'none'])
      expect(text).not.toContain(secret);
  });
});
