/**
 * The AWS clients, built once per cold start and reused by warm invocations.
 * Endpoints come from the SDK's own configuration (`AWS_ENDPOINT_URL_DYNAMODB` locally),
 * never from an "offline" branch. Every function loads the DynamoDB client; the SSM client is
 * loaded only when a parameter must be read (`ssm()`), the EventBridge client only by the
 * events function (lib/platform/eventbridge.ts): loading an SDK client is most of a cold start.
 */

import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { integer } from './config.js';
import { logger } from './log.js';

/**
 * The request timeouts of every AWS client. Twilio gives a webhook 15 s; a DynamoDB call that
 * has not connected in 1 s or gone quiet for 3 s is retried (3 attempts in all) well inside it.
 *
 * The Lambda runtime's own AWS SDK runs (`@aws-sdk/*` is not bundled), and its version is not
 * the lockfile's, so these must hold on old and new SDKs alike (docs/AWS-SDK.md, measured):
 * - SDKs up to @smithy/node-http-handler 3.x throw on `requestTimeout` (a socket timeout there);
 * - newer ones only warn on `requestTimeout` unless `throwOnRequestTimeout` (which older ones
 *   ignore), and throw on `socketTimeout`, the idle-socket timeout, in every version.
 */
export function requestHandlerOptions(timeoutMs = 3_000) {
  return {
    connectionTimeout: Math.min(1_000, timeoutMs),
    requestTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    throwOnRequestTimeout: true,
  };
}
/**
 * `AWS_REQUEST_TIMEOUT_MS` (100–10000, default 3000): the per-attempt timeout above. Unset in
 * serverless.yml; the tests shorten it where they stall DynamoDB on purpose.
 */
export const requestHandler = requestHandlerOptions(integer(process.env, 'AWS_REQUEST_TIMEOUT_MS', 3_000, 100, 10_000));

export function createDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: 3, requestHandler });
}

export function createDocumentClient(client: DynamoDBClient = createDynamoDbClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

let dynamoClient: DynamoDBClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;

/** The shared low-level DynamoDB client of this Lambda process. */
export function dynamo(): DynamoDBClient {
  dynamoClient ??= createDynamoDbClient();
  return dynamoClient;
}
let ssmClient: Promise<SSMClient> | undefined;

/** The shared document client of this Lambda process. */
export function documents(): DynamoDBDocumentClient {
  documentClient ??= createDocumentClient(dynamo());
  return documentClient;
}

/** The shared SSM client of this Lambda process, its SDK package loaded on first use. */
export function ssm(): Promise<SSMClient> {
  ssmClient ??= import('@aws-sdk/client-ssm').then(({ SSMClient }) => new SSMClient({ maxAttempts: 3, requestHandler }));
  return ssmClient;
}

let cognitoClient: Promise<CognitoIdentityProviderClient> | undefined;
/**
 * The shared Cognito user pools client (admins' `/users`), its SDK package loaded on first use;
 * `COGNITO_ENDPOINT` where Cognito is not AWS's (the local stack's moto server).
 */
export function cognito(): Promise<CognitoIdentityProviderClient> {
  const endpoint = process.env.COGNITO_ENDPOINT?.trim() || undefined;
  cognitoClient ??= import('@aws-sdk/client-cognito-identity-provider').then(
    ({ CognitoIdentityProviderClient }) =>
      new CognitoIdentityProviderClient({ maxAttempts: 3, requestHandler, ...(endpoint ? { endpoint } : {}) }),
  );
  return cognitoClient;
}

/** The AWS SDK version this process runs (the Lambda runtime's), as its user agent says. */
export async function awsSdkVersion(client: DynamoDBClient = dynamo()): Promise<string | undefined> {
  const pairs = await client.config.defaultUserAgentProvider();
  return pairs.find(([name]) => name === 'aws-sdk-js')?.[1];
}

/** Logs, once per cold start, which AWS SDK the runtime gave this function. */
export function logSdkVersionAtColdStart(): void {
  awsSdkVersion().then(
    (version) => logger.info('Cold start', { awsSdkVersion: version ?? 'unknown', node: process.version }),
    () => {},
  );
}

/**
 * Counts the HTTP requests a client sends, retries included (the middleware sits in the
 * deserialize step, inside the SDK's retry loop). Returns the running count.
 */
export function countRequests(client: { middlewareStack: DynamoDBDocumentClient['middlewareStack'] }): () => number {
  let count = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      count += 1;
      return next(args);
    },
    { step: 'deserialize', name: 'countRequests', override: true },
  );
  return () => count;
}
