import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { callKey } from '../../lib/ledger.js';
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
  v2Event,
} from '../helpers.js';

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

/** Imports functions/webhook.ts afresh under the given environment, as a cold start would. */
async function coldStart(env: Record<string, string>): Promise<Handler> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const mod = await import('../../functions/webhook.js');
  return mod.handler as Handler;
}

const STAGE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';
let table: Awaited<ReturnType<typeof freshTable>>;
let handler: Handler;
let stdout: string[];

beforeAll(async () => {
  table = await freshTable();
  handler = await coldStart({
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    TABLE_NAME: table.tableName,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_AUTH_TOKEN_SECONDARY: SECONDARY_TOKEN,
    PUBLIC_BASE_URL: '',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
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
      'Invalid X-Twilio-Signature',
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
      'Invalid X-Twilio-Signature',
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

describe('webhook handler when DynamoDB fails', () => {
  it('answers 503 with Retry-After so that Twilio retries, and exposes no error detail', async () => {
    const broken = await coldStart({ TABLE_NAME: 'no-such-table', PUBLIC_BASE_URL: '' });
    const params = statusCallback({ CallSid: callSid() });
    const response = await broken(signedV1('/twilio/call-status', params), context);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
    expect(JSON.parse(response.body)).toEqual({ message: 'Temporarily unavailable, retry later' });
  });
});
