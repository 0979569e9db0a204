/** `npm run test:reliability` runs these scenarios large (RELIABILITY_SCALE=full); `npm test` small. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { inject, vi } from 'vitest';
import { ACCOUNT_SID, AUTH_TOKEN } from '../helpers.js';
export const FULL = process.env.RELIABILITY_SCALE === 'full';

/** Counters every scenario adds to; printed as the report at the end of a run. */
export const report = {
  deliveries: 0,
  duplicates: 0,
  badInputs: 0,
  acknowledgedUnrecorded: 0,
  recordsLost: 0,
  doubleCounts: 0,
  serverErrorsForBadInput: 0,
};

export function printReport(scenario: string): void {
  console.log(`[reliability] ${scenario}: ${JSON.stringify(report)}`);
}

export type WebhookHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The REST API stage URL the scenarios' webhooks are signed for (no PUBLIC_BASE_URL set). */
export const STAGE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';

export const lambdaContext = (name: string) => ({ awsRequestId: name, functionName: 'webhook' }) as unknown as Context;

/** functions/webhook.ts loaded afresh (a cold start) for `tableName`, with `overrides` on top. */
export async function coldStartWebhook(tableName: string, overrides: Record<string, string> = {}): Promise<WebhookHandler> {
  vi.resetModules();
  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    TABLE_NAME: tableName,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    PUBLIC_BASE_URL: '',
    ...overrides,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import('../../functions/webhook.js')).handler as WebhookHandler;
}
