/**
 * The retry rules of DynamoDB requests that the SDK does not retry by itself: cancelled
 * transactions (which reasons are worth another try) and the unprocessed keys of BatchGetItem.
 */
import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { TableUnavailableError } from './schema.js';

/** Cancellation reasons that say "try again", not "your condition is false". */
export const RETRYABLE_REASONS: ReadonlySet<string> = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** One code per action of the transaction, in order (`None` for an action that was fine). */
export function cancellationCodes(error: TransactionCanceledException): string[] {
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

export interface BatchGetOptions {
  /** What is read, for the error message (e.g. "The day counters"). */
  what: string;
  /** Requests per 100 keys, unprocessed keys retried with backoff (default 8). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  /** ProjectionExpression and its names, ConsistentRead. */
  read?: { ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ConsistentRead?: boolean };
}

/**
 * Every item of `keys` that exists, read 100 keys a request; unprocessed keys are asked for
 * again until none is left or the attempts run out.
 * @throws TableUnavailableError when a request fails or keys stay unprocessed.
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: BatchGetOptions,
): Promise<Record<string, unknown>[]> {
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending = keys.slice(i, i + 100);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) throw new TableUnavailableError(`${options.what}: BatchGetItem left ${pending.length} keys unprocessed`);
      if (attempt > 1) await sleep(backoffMs(attempt));
      let out: BatchGetCommandOutput;
      try {
        out = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: [...pending], ...options.read } } }));
      } catch (error) {
        throw new TableUnavailableError(`${options.what} could not be read`, { cause: error });
      }
      items.push(...(out.Responses?.[tableName] ?? []));
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return items;
}
