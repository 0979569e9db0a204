/**
 * The AWS clients, built once per cold start and reused by warm invocations.
 * Endpoints come from the SDK's own configuration (`AWS_ENDPOINT_URL_DYNAMODB` locally),
 * never from an "offline" branch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// Twilio gives a webhook 15 s; a DynamoDB call that has not connected in 1 s or answered in
// 3 s is retried (3 attempts in all) well inside that budget.
// throwOnRequestTimeout: without it the SDK only warns when requestTimeout passes and keeps waiting
// (seen in tests/reliability/outage.test.ts: a stalled DynamoDB hung the webhook).
const requestHandler = { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true };

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
let ssmClient: SSMClient | undefined;

/** The shared document client of this Lambda process. */
export function documents(): DynamoDBDocumentClient {
  documentClient ??= createDocumentClient(dynamo());
  return documentClient;
}

/** The shared SSM client of this Lambda process. */
export function ssm(): SSMClient {
  ssmClient ??= new SSMClient({ maxAttempts: 3, requestHandler });
  return ssmClient;
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
