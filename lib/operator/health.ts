/** `GET /health`: the table and the Twilio credentials, each with its own status and latency. */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TwilioCalls } from '../twilio/client.js';

export interface Check {
  status: 'ok' | 'fail';
  latencyMs: number;
  detail?: string;
}

export interface HealthReport {
  status: 'ok' | 'fail';
  checks: { table: Check; twilio: Check };
}

async function timed(check: () => Promise<string | undefined>): Promise<Check> {
  const started = performance.now();
  try {
    const detail = await check();
    return { status: 'ok', latencyMs: Math.round(performance.now() - started), ...(detail ? { detail } : {}) };
  } catch (error) {
    // The message of a failed check names what failed, never a credential.
    const detail = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : 'failed';
    return { status: 'fail', latencyMs: Math.round(performance.now() - started), detail };
  }
}

export async function checkHealth(deps: {
  dynamo: DynamoDBClient;
  tableName: string;
  twilio: () => Promise<TwilioCalls>;
}): Promise<HealthReport> {
  const [table, twilio] = await Promise.all([
    timed(async () => {
      const out = await deps.dynamo.send(new DescribeTableCommand({ TableName: deps.tableName }));
      if (out.Table?.TableStatus !== 'ACTIVE') throw new Error(`table is ${out.Table?.TableStatus ?? 'missing'}`);
      return 'ACTIVE';
    }),
    timed(async () => {
      // A Calls list of one: works with the auth token and with a standard API key alike.
      await (await deps.twilio()).checkCredentials();
      return 'credentials accepted';
    }),
  ]);
  return { status: table.status === 'ok' && twilio.status === 'ok' ? 'ok' : 'fail', checks: { table, twilio } };
}
