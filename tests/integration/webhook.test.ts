import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callKey } from '../../lib/table/keys.js';
import {
  AUTH_TOKEN,
  callSid,
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

const callItems = async () => (await scanAll(table.docs, table.tableName)).filter((item) => item.type === 'call');

describe('webhook handler (REST API v1, URL rebuilt from the request)', () => {
  it('records a signed no-answer callback and answers 204', async () => {
    const params = statusCallback();
    const response = await handler(signedV1('/twilio/call-status', params), context);
    expect(response).toMatchObject({ statusCode: 204, body: '' });
    const items = await callItems();
    expect(items.map((item) => item.pk)).toContain(callKey(params.CallSid));
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

  it('answers a Dial action with TwiML that ends the call, and records the miss', async () => {
    const params = dialAction();
    const response = await handler(signedV1('/twilio/dial-status', params), context);
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'text/xml' });
    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    expect((await callItems()).find((item) => item.pk === callKey(params.CallSid))).toMatchObject({ source: 'dial-action' });
  });

  it('acknowledges an answered call and a completed one without writing', async () => {
    const before = await callItems();
    expect((await handler(signedV1('/twilio/call-status', statusCallback({ CallStatus: 'completed' })), context)).statusCode).toBe(204);
    expect((await handler(signedV1('/twilio/dial-status', dialAction({ DialCallStatus: 'answered' })), context)).statusCode).toBe(200);
    expect(await callItems()).toHaveLength(before.length);
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
    expect(lines.find((line) => line.message === 'Missed call recorded')).toMatchObject({ callSid: params.CallSid, from: '+*******7777' });
    const text = stdout.join('');
    expect(text).not.toContain('+14155557777');
    expect(text).not.toContain(AUTH_TOKEN);
    expect(text).not.toContain(event.headers['X-Twilio-Signature']);
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
    expect((await callItems()).find((item) => item.pk === callKey(params.CallSid))).toMatchObject({ status: 'failed' });
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
