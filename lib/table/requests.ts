/**
 * The retry rules of DynamoDB requests that the SDK does not retry by itself: cancelled
 * transactions (which reasons are worth another try) and the unprocessed keys of BatchGetItem
 * and items of BatchWriteItem.
 */
import { ConditionalCheckFailedException, type TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { TableUnavailableError } from './items.js';

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

/** One write of a batch: an item put whole, or a key deleted. */
export type BatchWrite = { put: Record<string, unknown> } | { delete: Record<string, unknown> };

/**
 * Every write, 25 a request (`BatchWriteItem`), unprocessed ones sent again with backoff. Not a
 * transaction: each write is applied alone, so a caller makes its writes safe to repeat.
 * @throws TableUnavailableError when a request fails or writes stay unprocessed.
 */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  writes: readonly BatchWrite[],
  options: { what: string; maxAttempts?: number; sleep?: (ms: number) => Promise<void> },
): Promise<{ requests: number }> {
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;
  let requests = 0;
  for (let i = 0; i < writes.length; i += 25) {
    let pending = writes.slice(i, i + 25).map((w) => ('put' in w ? { PutRequest: { Item: w.put } } : { DeleteRequest: { Key: w.delete } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts)
        throw new TableUnavailableError(`${options.what}: BatchWriteItem left ${pending.length} writes unprocessed`);
      if (attempt > 1) await sleep(backoffMs(attempt));
      let out: BatchWriteCommandOutput;
      try {
        requests += 1;
        out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      } catch (error) {
        throw new TableUnavailableError(`${options.what} could not be written`, { cause: error });
      }
      pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
  }
  return { requests };
}

export interface ShardedPageQuery {
  index: string;
  /** The index's partition and sort key attributes. */
  keys: { pk: string; sk: string };
  shards: readonly string[];
  /** Newest first (descending) or oldest first (ascending) by the sort key. */
  order: 'ascending' | 'descending';
  limit: number;
  /** Only sort keys at or after this (descending listings) or, ascending, none is needed. */
  since?: string;
  /** The sort key of the previous page's last item: this page starts past it. */
  after?: string;
  /** What is read, for the error message. */
  what: string;
}

/**
 * One page of an index whose items are spread over shard partition keys: each shard's first
 * `limit + 1` past the cursor (read with the cursor's own item when bounded by `since`), merged. The first `limit` of the merge are the page; `last` is
 * the sort key to continue from when more remain.
 */
export async function shardedPage(
  client: DynamoDBDocumentClient,
  tableName: string,
  q: ShardedPageQuery,
): Promise<{ items: Record<string, unknown>[]; continueAfter: string | undefined }> {
  const ascending = q.order === 'ascending';
  const { pk, sk } = q.keys;
  // BETWEEN includes the cursor's own item (the previous page's last): one more to tell whether more remain.
  const between = q.after !== undefined && q.since !== undefined && !ascending;
  const pages = await Promise.all(
    q.shards.map(async (shard) => {
      const values: Record<string, unknown> = { ':shard': shard };
      let condition = `${pk} = :shard`;
      if (between) {
        condition += ` AND ${sk} BETWEEN :since AND :after`;
        Object.assign(values, { ':since': q.since, ':after': q.after });
      } else if (q.after !== undefined) {
        condition += ` AND ${sk} ${ascending ? '>' : '<'} :after`;
        values[':after'] = q.after;
      } else if (q.since !== undefined) {
        condition += ` AND ${sk} >= :since`;
        values[':since'] = q.since;
      }
      try {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: q.index,
            KeyConditionExpression: condition,
            ExpressionAttributeValues: values,
            ScanIndexForward: ascending,
            Limit: q.limit + (between ? 2 : 1),
          }),
        );
        return out.Items ?? [];
      } catch (error) {
        throw new TableUnavailableError(`${q.what} could not be read`, { cause: error });
      }
    }),
  );
  const merged = pages
    .flat()
    .filter((item) => typeof item[sk] === 'string' && item[sk] !== q.after)
    .sort((a, b) => (ascending ? 1 : -1) * String(a[sk]).localeCompare(String(b[sk])));
  const items = merged.slice(0, q.limit);
  const last = items.at(-1);
  return { items, continueAfter: merged.length > q.limit && last !== undefined ? String(last[sk]) : undefined };
}

/**
 * An UpdateItem whose failed condition is an answer: false. Any other failure is
 * TableUnavailableError naming `what`.
 */
export async function conditionalUpdate(client: DynamoDBDocumentClient, input: UpdateCommandInput, what: string): Promise<boolean> {
  try {
    await client.send(new UpdateCommand(input));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw new TableUnavailableError(`${what} could not be written`, { cause: error });
  }
}
