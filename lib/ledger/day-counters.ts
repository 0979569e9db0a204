/**
 * Reading and folding the write-sharded day counters (lib/table/keys.ts `statsWriteKey`).
 *
 * A day's counters are its day item `STATS#<day>` plus, for a day that was live, its shards
 * `STATS#<day>#<n>`. Once a day is settled (older than yesterday: no write goes to its shards any
 * more), the nightly fold adds its shards into the day item and marks it `folded`, in one
 * transaction that also checks that no shard changed since it was read; `META#stats-fold` then
 * says up to which day every day is folded. A reader takes the day item alone for folded days and
 * sums the day item and its shards for the others: exact, before, during and after a fold (a fold
 * never changes a shard, so any mix of before and after reads sums to the same counts).
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TableUnavailableError } from '../table/items.js';
import { STATS_FOLD_KEY, statsKey, statsShardKeys, statsWriteKey, utcDayOf } from '../table/keys.js';
import { batchGetAll, conditionalUpdate } from '../table/requests.js';

/** 1 for each of `names`. */
export const ones = (...names: string[]): Map<string, number> => new Map(names.map((name) => [name, 1]));

/**
 * The update that adds to counters of `day` (creating the item on first use) the amount of each
 * entry (negative amounts take back what a change undid). `seed` (the CallSid, or the number)
 * picks the shard while the day is live ({@link statsWriteKey}); `writes` counts the updates of
 * an item, so that the fold can tell a shard changed under it.
 */
export function addToDay(tableName: string, day: string, counters: ReadonlyMap<string, number>, now: string, seed: string) {
  const entries = [...counters];
  const names: Record<string, string> = { '#type': 'type', '#day': 'day' };
  const values: Record<string, unknown> = { ':type': 'stats', ':day': day, ':now': now, ':one': 1 };
  entries.forEach(([name, amount], i) => {
    names[`#c${i}`] = name;
    values[`:n${i}`] = amount;
  });
  return {
    TableName: tableName,
    Key: { pk: statsWriteKey(day, seed, now) },
    UpdateExpression: `SET #type = :type, #day = :day, updatedAt = :now ADD writes :one, ${entries.map((_, i) => `#c${i} :n${i}`).join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * How each feature reads its own counters from a day's counters (a counter absent or not a
 * number counts 0): the call counters in lib/ledger/call-item.ts, the contacts', the callbacks'
 * and the text-back's beside the code that writes them; lib/operator/stats.ts puts them together.
 */
export type CounterReader = (name: string) => number;

export const counterReader =
  (item: Readonly<Record<string, unknown>> | undefined): CounterReader =>
  (name) => {
    const value = item?.[name];
    return typeof value === 'number' ? value : 0;
  };

/** Attributes of a counters item that are not counters. */
const NOT_COUNTERS: ReadonlySet<string> = new Set(['pk', 'type', 'day', 'updatedAt', 'writes', 'folded', 'foldedAt']);

/** The counters of several items of one day, added up (non-numeric values count 0). */
export function sumCounters(items: readonly Readonly<Record<string, unknown>>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const item of items) {
    for (const [name, value] of Object.entries(item)) {
      if (!NOT_COUNTERS.has(name) && typeof value === 'number') sum[name] = (sum[name] ?? 0) + value;
    }
  }
  return sum;
}

/** The last day folded, or undefined before the first fold. */
export async function readFoldMark(client: DynamoDBDocumentClient, tableName: string): Promise<string | undefined> {
  try {
    const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: STATS_FOLD_KEY }, ConsistentRead: true }));
    return typeof out.Item?.foldedThrough === 'string' ? out.Item.foldedThrough : undefined;
  } catch (error) {
    throw new TableUnavailableError('The day counters could not be read', { cause: error });
  }
}

/** Days the first fold looks back over: a deployment's nightly fold runs within this many days of its first shard. */
export const FIRST_FOLD_DAYS = 14;

/**
 * The last day that has no shards to read: the fold mark, or before the first fold, the day
 * before the first fold's reach.
 */
export const foldedThrough = (mark: string | undefined, now: Date): string => mark ?? utcDayOf(now.toISOString(), -3 - FIRST_FOLD_DAYS);

/** The keys to read for `days`: each day item, and the shards of the days after `through`. */
export function dayCounterKeys(days: readonly string[], through: string | undefined): { pk: string }[] {
  return days.flatMap((day) =>
    [statsKey(day), ...(through !== undefined && day <= through ? [] : statsShardKeys(day))].map((pk) => ({ pk })),
  );
}

/** Each day's counters from the items read: a folded day item alone, else the day item and its shards. */
export function countersByDay(items: readonly Record<string, unknown>[]): Map<string, Record<string, number>> {
  const byDay = new Map<string, Record<string, unknown>[]>();
  for (const item of items) {
    if (typeof item.day !== 'string') continue;
    byDay.set(item.day, [...(byDay.get(item.day) ?? []), item]);
  }
  const counts = new Map<string, Record<string, number>>();
  for (const [day, dayItems] of byDay) {
    const dayItem = dayItems.find((item) => item.pk === statsKey(day));
    counts.set(day, sumCounters(dayItem?.folded === true ? [dayItem] : dayItems));
  }
  return counts;
}

/** Reads the counters of `days` (GET /stats): one GetItem and ceil(keys / 100) BatchGetItem requests. */
export async function readDayCounters(
  client: DynamoDBDocumentClient,
  tableName: string,
  days: readonly string[],
  options: { maxAttempts?: number; sleep?: (ms: number) => Promise<void>; now?: Date } = {},
): Promise<Map<string, Record<string, number>>> {
  const keys = dayCounterKeys(days, foldedThrough(await readFoldMark(client, tableName), options.now ?? new Date()));
  const items = await batchGetAll(client, tableName, keys, {
    what: 'The day counters',
    maxAttempts: options.maxAttempts ?? 6,
    sleep: options.sleep,
  });
  return countersByDay(items);
}

export interface FoldSummary {
  /** Days whose shards were added into their day item. */
  folded: string[];
  /** The fold mark after this run. */
  foldedThrough: string | undefined;
  /** A day whose shards changed while it was folded: it is folded on the next run. */
  retryLater?: string;
}

const nextDay = (day: string): string => utcDayOf(`${day}T00:00:00.000Z`, 1);

/**
 * Folds every settled day (the day before yesterday and earlier) after the fold mark into its day
 * item, oldest first, and moves the mark. Stops at a day whose shards changed under it.
 */
export async function foldDayCounters(client: DynamoDBDocumentClient, tableName: string, now: Date): Promise<FoldSummary> {
  const through = utcDayOf(now.toISOString(), -2);
  const mark = await readFoldMark(client, tableName);
  const summary: FoldSummary = { folded: [], foldedThrough: mark };
  for (let day = nextDay(foldedThrough(mark, now)); day <= through; day = nextDay(day)) {
    const items = await batchGetAll(client, tableName, dayCounterKeys([day], undefined), { what: 'The day counters', maxAttempts: 6 });
    const dayItem = items.find((item) => item.pk === statsKey(day));
    const shards = items.filter((item) => item.pk !== statsKey(day));
    if (dayItem?.folded !== true && shards.length > 0) {
      const sums = Object.entries(sumCounters(shards));
      const names: Record<string, string> = { '#type': 'type', '#day': 'day' };
      const values: Record<string, unknown> = { ':type': 'stats', ':day': day, ':true': true, ':now': now.toISOString() };
      sums.forEach(([name, amount], i) => {
        names[`#c${i}`] = name;
        values[`:n${i}`] = amount;
      });
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: { pk: statsKey(day) },
                  UpdateExpression: `SET #type = :type, #day = :day, folded = :true, foldedAt = :now${sums.length > 0 ? ` ADD ${sums.map((_, i) => `#c${i} :n${i}`).join(', ')}` : ''}`,
                  ConditionExpression: 'attribute_not_exists(folded)',
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: values,
                },
              },
              // Every shard as it was read (or absent): a write that landed since fails this day's fold.
              ...statsShardKeys(day).map((pk) => {
                const shard = shards.find((item) => item.pk === pk);
                return {
                  ConditionCheck: {
                    TableName: tableName,
                    Key: { pk },
                    ...(shard === undefined
                      ? { ConditionExpression: 'attribute_not_exists(pk)' }
                      : { ConditionExpression: 'writes = :writes', ExpressionAttributeValues: { ':writes': shard.writes } }),
                  },
                };
              }),
            ],
          }),
        );
      } catch (error) {
        if (error instanceof TransactionCanceledException) {
          summary.retryLater = day;
          break;
        }
        throw new TableUnavailableError('The day counters could not be folded', { cause: error });
      }
      summary.folded.push(day);
    }
    summary.foldedThrough = day;
  }
  if (summary.foldedThrough !== undefined && summary.foldedThrough !== mark) {
    // A failed condition: another fold moved it further; nothing lost, the day items say they are folded.
    await conditionalUpdate(
      client,
      {
        TableName: tableName,
        Key: { pk: STATS_FOLD_KEY },
        UpdateExpression: 'SET #type = :type, foldedThrough = :through, updatedAt = :now',
        ConditionExpression: 'attribute_not_exists(foldedThrough) OR foldedThrough < :through',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':type': 'meta', ':through': summary.foldedThrough, ':now': now.toISOString() },
      },
      'The fold mark',
    );
  }
  return summary;
}
