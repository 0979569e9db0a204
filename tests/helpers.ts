/** Shared test helpers: DynamoDB Local clients, fresh tables, Twilio-shaped payloads and events. */
import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, DynamoDBRecord } from 'aws-lambda';
import { inject } from 'vitest';
import { readStreamEvent } from '../dev/serverless-config.js';
import { signLikeTwilio } from '../dev/sign.js';
import { type FailedBatch, StreamPoller } from '../dev/stream-poller.js';
import { createTable } from '../dev/table.js';
import type { LocalCall } from '../dev/twilio-api.js';
import { createContactsStore } from '../lib/contacts/store.js';
import { processContactsBatch } from '../lib/contacts/stream.js';
import { type CallReport, classifyStatusCallback } from '../lib/ledger/calls.js';
import { readLedgerSettings } from '../lib/ledger/settings.js';
import type { LedgerSettings } from '../lib/ledger/store.js';
import { createDocumentClient } from '../lib/platform/aws.js';
import { type FunctionName, guardClient, isAllowed, onFailureDestination, rolePolicy, violations } from './iam.js';

export const ACCOUNT_SID = `AC${'1'.repeat(32)}`;
export const AUTH_TOKEN = 'test-auth-token-primary-00000000';
export const SECONDARY_TOKEN = 'test-auth-token-secondary-000000';

export const callSid = (): string => `CA${randomBytes(16).toString('hex')}`;

export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/**
 * A fresh table made from resources/table.yml, and a function that drops it. `docs` is the
 * test's own unrestricted client (set-up and checks); `as(fn)` is a client of the same table
 * that may only do what `fn`'s role in the packaged template allows (tests/iam.ts): give that
 * one to the code under test.
 */
export async function freshTable(options: { withoutIndexes?: boolean } = {}): Promise<{
  tableName: string;
  client: DynamoDBClient;
  docs: DynamoDBDocumentClient;
  as: (fn: FunctionName) => DynamoDBDocumentClient;
  drop: () => Promise<void>;
}> {
  const client = dynamoClient();
  const tableName = `test-${randomUUID()}`;
  await createTable(client, tableName, options);
  const roles = new Map<FunctionName, DynamoDBDocumentClient>();
  return {
    tableName,
    client,
    docs: createDocumentClient(client),
    as: (fn) => {
      let docs = roles.get(fn);
      if (docs === undefined) {
        docs = createDocumentClient(guardClient(dynamoClient(), fn, { tableName }));
        roles.set(fn, docs);
      }
      return docs;
    },
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
}

/** Every item of the table (all Scan pages: one page stops at 1 MB). */
export async function scanAll(docs: DynamoDBDocumentClient, tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await docs.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/**
 * A day's counters as the table holds them: its day item and its shards (`STATS#<day>` and
 * `STATS#<day>#<n>`) added up, found by a scan: an oracle that shares no code with the reader.
 * (A folded day item already holds its shards: this is for tests that do not fold.)
 */
export async function dayTotals(docs: DynamoDBDocumentClient, tableName: string, day: string): Promise<Record<string, number>> {
  const sum: Record<string, number> = {};
  for (const item of await scanAll(docs, tableName)) {
    if (item.type !== 'stats' || item.day !== day) continue;
    for (const [name, value] of Object.entries(item)) {
      if (typeof value === 'number' && name !== 'writes') sum[name] = (sum[name] ?? 0) + value;
    }
  }
  return sum;
}

/** A DynamoDB Streams client for DynamoDB Local. */
export const streamsClient = (): DynamoDBStreamsClient =>
  new DynamoDBStreamsClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

/**
 * The contacts mapping of serverless.yml (filter, batch size, retries, bisection) on the table's
 * real stream, with the handler in process; `tamper` may corrupt records to inject a poison one.
 * The stream is read, the contacts written and failures sent to the on-failure destination
 * under the contacts role of the packaged template, as the event source mapping does.
 */
export function contactsPoller(
  table: { as: (fn: FunctionName) => DynamoDBDocumentClient; tableName: string },
  streamArn: string,
  options: { tamper?: (records: DynamoDBRecord[]) => DynamoDBRecord[] } = {},
) {
  const store = createContactsStore(table.as('contacts'), { tableName: table.tableName });
  const failures: FailedBatch[] = [];
  const invocations: DynamoDBRecord[][] = [];
  const physical = { tableName: table.tableName, streamLabel: streamArn.split('/stream/')[1] };
  const destination = onFailureDestination('contacts', physical);
  const instance = new StreamPoller({
    streams: guardClient(streamsClient(), 'contacts', physical),
    streamArn,
    region: 'us-east-1',
    config: readStreamEvent('contacts'),
    invoke: async (event) => {
      const records = options.tamper ? options.tamper(event.Records) : event.Records;
      invocations.push(records);
      return processContactsBatch(records, store);
    },
    onFailure: (failure) => {
      // Lambda sends the failed batch's metadata to the destination with the function's role.
      if (!isAllowed(rolePolicy('contacts', physical), 'sqs:SendMessage', destination)) {
        violations.push(`contacts role may not sqs:SendMessage on ${destination}`);
      }
      failures.push(failure);
    },
  });
  return { instance, failures, invocations };
}

/** The whole-call rule's default settings (no environment), as every function reads them. */
export const LEDGER_SETTINGS: LedgerSettings = readLedgerSettings({});

/** What the webhook makes of a Twilio call's final status callback (its own classification). */
export function webhookReport(call: LocalCall): CallReport {
  return classifyStatusCallback(
    statusCallback({
      CallSid: call.sid,
      ...(call.parentCallSid ? { ParentCallSid: call.parentCallSid } : {}),
      CallStatus: call.status,
      CallDuration: String(call.durationSeconds ?? 0),
      From: call.from,
      To: call.to,
      Direction: call.direction,
      Timestamp: call.startTime.toUTCString(),
    }),
  );
}

/** A status callback as Twilio posts it for an inbound call nobody answered. */
export type Form = Record<string, string> & { CallSid: string; AccountSid: string };

export function statusCallback(overrides: Record<string, string> = {}): Form {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: callSid(),
    CallStatus: 'no-answer',
    CallDuration: '0',
    Called: '+14155559876',
    Caller: '+14155550123',
    Direction: 'inbound',
    From: '+14155550123',
    To: '+14155559876',
    CallbackSource: 'call-progress-events',
    SequenceNumber: '3',
    Timestamp: 'Tue, 24 Nov 2026 09:15:42 +0000',
    ...overrides,
  };
}

/** A `<Dial action>` callback for a dial nobody answered. */
export function dialAction(overrides: Record<string, string> = {}): Form & { DialCallSid: string } {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: callSid(),
    CallStatus: 'in-progress',
    DialCallStatus: 'no-answer',
    DialCallSid: callSid(),
    DialCallDuration: '0',
    Direction: 'inbound',
    From: '+14155550123',
    To: '+14155559876',
    ...overrides,
  };
}

export function formBody(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

/** A machine's operator API key, as API Gateway passes it on after checking it. */
export const MACHINE_API_KEY = 'test-machine-api-key-000000';

/** A REST API (v1) proxy event as API Gateway delivers it behind the `prod` stage. */
export function v1Event(options: {
  resource: string;
  params: Record<string, string>;
  signature?: string;
  host?: string;
  stagePath?: string;
  contentType?: string;
  body?: string;
  query?: Record<string, string>;
  /**
   * The `x-api-key` API Gateway checked on a private (operator) route and passes on: a machine's
   * key by default ({@link MACHINE_API_KEY}); null for none. Twilio's routes ignore it.
   */
  apiKey?: string | null;
}): APIGatewayProxyEvent {
  const host = options.host ?? 'abc123.execute-api.us-east-1.amazonaws.com';
  const headers: Record<string, string> = {
    Host: host,
    'Content-Type': options.contentType ?? 'application/x-www-form-urlencoded; charset=utf-8',
    'X-Forwarded-Proto': 'https',
    'I-Twilio-Idempotency-Token': randomUUID(),
    ...(options.apiKey === null ? {} : { 'x-api-key': options.apiKey ?? MACHINE_API_KEY }),
  };
  if (options.signature !== undefined) headers['X-Twilio-Signature'] = options.signature;
  const stagePath = options.stagePath ?? '/prod';
  return {
    resource: options.resource,
    path: options.resource,
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: null,
    stageVariables: null,
    body: options.body ?? formBody(options.params),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: undefined,
      httpMethod: 'POST',
      identity: {} as APIGatewayProxyEvent['requestContext']['identity'],
      path: `${stagePath}${options.resource}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res1',
      resourcePath: options.resource,
      stage: 'prod',
    },
  };
}

/** An HTTP API (v2) event: form bodies arrive base64-encoded. */
export function v2Event(options: {
  route: string;
  params: Record<string, string>;
  signature?: string;
  host?: string;
  rawQueryString?: string;
}): APIGatewayProxyEventV2 {
  const host = options.host ?? 'xyz789.execute-api.us-east-1.amazonaws.com';
  const headers: Record<string, string> = {
    host,
    'content-type': 'application/x-www-form-urlencoded',
    'x-forwarded-proto': 'https',
  };
  if (options.signature !== undefined) headers['x-twilio-signature'] = options.signature;
  return {
    version: '2.0',
    routeKey: `POST ${options.route}`,
    rawPath: options.route,
    rawQueryString: options.rawQueryString ?? '',
    headers,
    body: Buffer.from(formBody(options.params)).toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      accountId: '123456789012',
      apiId: 'xyz789',
      domainName: host,
      domainPrefix: 'xyz789',
      http: { method: 'POST', path: options.route, protocol: 'HTTP/1.1', sourceIp: '54.172.60.1', userAgent: 'TwilioProxy/1.1' },
      requestId: randomUUID(),
      routeKey: `POST ${options.route}`,
      stage: '$default',
      time: '24/Nov/2026:09:15:42 +0000',
      timeEpoch: Date.now(),
    },
  };
}

export { signLikeTwilio };
