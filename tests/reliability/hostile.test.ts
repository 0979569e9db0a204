/**
 * Hostile webhooks, property-based: random and adversarial bodies, content types, replays to
 * another route or URL, another account's valid signature, an old token after rotation. Always
 * a 4xx or the documented success, never a 500, never a write without a valid signature; the
 * logs never hold a full number, the token or a signature.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/platform/log.js';
import { ACCOUNT_SID, AUTH_TOKEN, freshTable, SECONDARY_TOKEN, scanAll, signLikeTwilio, statusCallback, v1Event } from '../helpers.js';
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

const ALLOWED = new Set([204, 400, 403, 404, 405, 413, 415]);

async function send(event: APIGatewayProxyEvent): Promise<number> {
  report.badInputs += 1;
  const response = await handler(event, context);
  if (response.statusCode >= 500) report.serverErrorsForBadInput += 1;
  else if (!ALLOWED.has(response.statusCode) || response.statusCode === 204) report.badInputAccepted += 1;
  return response.statusCode;
}

const fieldName = fc.oneof(
  fc.constantFrom(
    'CallSid',
    'CallStatus',
    'AccountSid',
    'From',
    'To',
    'ParentCallSid',
    'Direction',
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
  fc.constantFrom('no-answer', 'busy', `CA${'a'.repeat(32)}`, ACCOUNT_SID, '+14155550123'),
);

describe('hostile webhooks', () => {
  it('answers random and adversarial unsigned form bodies with a 4xx and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 25 }),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', ''),
        fc.constantFrom('/twilio/call-status', '/twilio/dial-status', '/twilio/other'),
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
          expect(ALLOWED.has(status) && status !== 204).toBe(true);
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
    const attempts = [
      // Replayed to the Dial action route.
      v1Event({ resource: '/twilio/dial-status', params, signature: signedFor(`${STAGE_URL}/twilio/call-status`) }),
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
    expect(statuses).toEqual([403, 403, 403, 403]);
    expect(await scanAll(table.docs, table.tableName)).toEqual([]);
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
