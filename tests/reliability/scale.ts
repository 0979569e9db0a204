/** `npm run test:reliability` runs these scenarios large (RELIABILITY_SCALE=full); `npm test` small. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { inject } from 'vitest';
import { mapLimit } from '../../lib/platform/pool.js';
import { AUTH_TOKEN, signLikeTwilio, v1Event } from '../helpers.js';
import { loadHandler } from '../lambda.js';
import { type Counters, emptyCounters, type ScenarioReport } from './report.js';
export const FULL = process.env.RELIABILITY_SCALE === 'full';

/**
 * A large scenario's own time limit: only a bound on a hung run. The scenarios assert invariants,
 * not how fast a loaded emulator answers (the large run must pass with `npm test` running beside
 * it). The small ones keep vitest's 10 s like every other test.
 */
export const SCENARIO_TIMEOUT_MS = FULL ? 1_800_000 : undefined;

/** This scenario's counters (each test file runs in its own worker, so one set per file). */
export const report: Counters = emptyCounters();

/** Prints the scenario's line and leaves its counters for the combined report of the run. */
export async function finishScenario(scenario: string): Promise<void> {
  console.log(`[reliability] ${scenario}: ${JSON.stringify(report)}`);
  const file = join(inject('reliabilityDir'), `${scenario.replace(/[^\w-]+/g, '-')}.json`);
  await writeFile(file, JSON.stringify({ scenario, ...report } satisfies ScenarioReport));
}

export type WebhookHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The REST API stage URL the scenarios' webhooks are signed for (no PUBLIC_BASE_URL set). */
export const STAGE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';

/** A webhook event for `resource`, signed as Twilio signs it for the stage URL. */
export const signedEvent = (params: Record<string, string>, resource = '/twilio/call-status') =>
  v1Event({ resource, params, signature: signLikeTwilio(AUTH_TOKEN, `${STAGE_URL}${resource}`, params) });

export const lambdaContext = (name: string) => ({ awsRequestId: name, functionName: 'webhook' }) as unknown as Context;

/**
 * functions/webhook.ts loaded afresh (a cold start) for `tableName`, as deployed (template
 * environment and role, tokens from SSM: primary and secondary), with `overrides` on top.
 */
export function coldStartWebhook(tableName: string, overrides: Record<string, string> = {}): Promise<WebhookHandler> {
  return loadHandler<WebhookHandler>('webhook', { tableName, env: { PUBLIC_BASE_URL: '', ...overrides } });
}

/** `fn(0)` … `fn(count - 1)`, at most `inFlight` at a time; the results in index order. */
export async function inParallel<T>(count: number, inFlight: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  await mapLimit(
    Array.from({ length: count }, (_, index) => index),
    inFlight,
    async (index) => {
      results[index] = await fn(index);
    },
  );
  return results;
}

/**
 * Twilio re-delivers a callback that got a 5xx (the URL's `#rc=3&rp=all`), each on its own
 * schedule; this re-delivers the failed ones in rounds (at most `rounds`), at most `inFlight` at
 * a time, replacing their answers in `responses`. Returns the number of re-deliveries.
 */
export async function redeliverFailures(
  responses: APIGatewayProxyResult[],
  deliver: (index: number) => Promise<APIGatewayProxyResult>,
  { rounds = 5, inFlight = 200 } = {},
): Promise<number> {
  let sent = 0;
  for (let round = 0; round < rounds; round++) {
    const failed = responses.map((r, i) => (r.statusCode >= 500 ? i : -1)).filter((i) => i >= 0);
    if (failed.length === 0) break;
    const again = await inParallel(failed.length, inFlight, (k) => deliver(failed[k] ?? 0));
    failed.forEach((index, k) => {
      const response = again[k];
      if (response) responses[index] = response;
    });
    sent += failed.length;
  }
  return sent;
}
