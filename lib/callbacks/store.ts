/**
 * Callbacks on DynamoDB. The facts of a number live on its contact item (`callbacks`), guarded by
 * the contact's `version`; every change of them writes, in the SAME transaction, the resolution
 * items it makes or undoes and the difference of the day counters (lib/callbacks/model.ts).
 *
 * The resolver (webhook: answered calls; operator: a person's mark) reads the contact once; an
 * answered call that resolves nothing costs that one read and writes nothing.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { addToDay } from '../ledger/day-counters.js';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { readable, TableUnavailableError } from '../table/items.js';
import { CALLBACKS_INDEX, callbackShards, callingKey, contactKey } from '../table/keys.js';
import { cancellationCodes, RETRYABLE_REASONS } from '../table/requests.js';
import { placedBetween } from './attempts.js';
import { parseCalling } from './calling.js';
import { callbackFields, parseCallbackState, parseOpenCallbackItem, resolutionItem, resolutionTombstone } from './item.js';
import { addCall, type CallbackState, type CounterChanges, counterDelta, episodes, type Resolution, type ResolvingCall } from './model.js';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** One counters update per day (a transaction may touch an item once); `seed` picks a live day's shard. */
export function dayUpdates(tableName: string, changes: CounterChanges, now: string, seed: string): TransactItem[] {
  return [...changes].flatMap(([day, counters]) => {
    const nonZero = new Map([...counters].filter(([, n]) => n !== 0));
    return nonZero.size === 0 ? [] : [{ Update: addToDay(tableName, day, nonZero, now, seed) }];
  });
}

/** The resolutions `after` makes or changes, and the ids of those it undoes (not archived ones). */
export function resolutionChanges(before: CallbackState, after: CallbackState): { changed: Resolution[]; undone: string[] } {
  const was = new Map(episodes(before).resolutions.map((r) => [r.id, r]));
  const now = episodes(after).resolutions;
  const ids = new Set(now.map((r) => r.id));
  return {
    changed: now.filter((r) => JSON.stringify(was.get(r.id)) !== JSON.stringify(r)),
    undone: [...was.values()]
      .filter((r) => !ids.has(r.id) && (after.archivedBefore === undefined || r.resolvedAt > after.archivedBefore))
      .map((r) => r.id),
  };
}

/** The resolution items a change writes: made or changed ones, and tombstones of undone ones. */
export function resolutionWrites(tableName: string, phone: string, change: ReturnType<typeof resolutionChanges>): TransactItem[] {
  return [
    ...change.changed.map((r) => ({ Put: { TableName: tableName, Item: resolutionItem(phone, r) } })),
    ...change.undone.map((id) => ({ Put: { TableName: tableName, Item: resolutionTombstone(phone, id) } })),
  ];
}

export type ResolveOutcome =
  /** The call (or mark) resolved these callbacks (or took them over from a later call). */
  | { outcome: 'resolved'; resolutions: Resolution[] }
  /** Nothing open that it covers (or a re-delivery): nothing written. */
  | { outcome: 'unchanged'; open: boolean; lastResolution: Resolution | undefined };

export interface CallbackResolver {
  resolve(phone: string, call: ResolvingCall): Promise<ResolveOutcome>;
}

export function createCallbackResolver(
  client: DynamoDBDocumentClient,
  options: { tableName: string; maxAttempts?: number; sleep?: (ms: number) => Promise<void> },
): CallbackResolver {
  const { tableName } = options;
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;

  async function attemptsBetween(phone: string, from: string, to: string): Promise<number> {
    const found = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: callingKey(phone) },
        ConsistentRead: true,
        ProjectionExpression: 'phone, attempts',
      }),
    );
    const calling = found.Item === undefined ? undefined : readable(() => parseCalling(found.Item ?? {}), 'calling item');
    return calling === undefined ? 0 : placedBetween(calling.attempts, from, to);
  }

  async function attempt(phone: string, call: ResolvingCall): Promise<ResolveOutcome> {
    const read = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: contactKey(phone) },
        ConsistentRead: true,
        ProjectionExpression: 'callbacks, version',
      }),
    );
    const item = read.Item;
    const before = parseCallbackState(item?.callbacks);
    let after = addCall(before, call);
    if (item === undefined || after === before) {
      const { open, resolutions } = episodes(before);
      return { outcome: 'unchanged', open: open !== undefined, lastResolution: resolutions.at(-1) };
    }
    // It closes an episode: with the calls back placed on it (one more read, only when something closes).
    const openSince = episodes(after).resolutions.find((r) => r.id === call.id)?.openSince;
    // A call back that reached them counts itself, however its answer time was reckoned.
    const until = call.by === 'callback' ? new Date().toISOString() : call.at;
    const attempts = openSince === undefined ? 0 : await attemptsBetween(phone, openSince, until);
    if (attempts > 0) after = addCall(before, { ...call, attempts });
    const now = new Date().toISOString();
    const change = resolutionChanges(before, after);
    const fields = callbackFields(phone, after);
    const open = fields.callback !== undefined;
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: { pk: contactKey(phone) },
              UpdateExpression: open
                ? 'SET callbacks = :callbacks, callback = :callback, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk, updatedAt = :now ADD version :one'
                : 'SET callbacks = :callbacks, updatedAt = :now REMOVE callback, gsi2pk, gsi2sk ADD version :one',
              ConditionExpression: 'version = :version',
              ExpressionAttributeValues: {
                ':callbacks': after,
                ':now': now,
                ':one': 1,
                ':version': item.version,
                ...(open ? { ':callback': fields.callback, ':gsi2pk': fields.gsi2pk, ':gsi2sk': fields.gsi2sk } : {}),
              },
            },
          },
          ...resolutionWrites(tableName, phone, change),
          ...dayUpdates(tableName, counterDelta(before, after), now, phone),
        ],
      }),
    );
    return { outcome: 'resolved', resolutions: change.changed };
  }

  return {
    async resolve(phone, call) {
      for (let n = 1; ; n++) {
        try {
          return await attempt(phone, call);
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) {
            throw new TableUnavailableError('The callback could not be resolved', { cause: error });
          }
          // The contact changed since it was read (a miss applied, another call): read again.
          const codes = cancellationCodes(error);
          const contended = codes[0] === 'ConditionalCheckFailed' || codes.some((code) => RETRYABLE_REASONS.has(code));
          if (!contended || n >= maxAttempts) {
            throw new TableUnavailableError(`The callback transaction was cancelled (${codes.join(', ')})`, { cause: error });
          }
          await sleep(backoffMs(n));
        }
      }
    },
  };
}

/**
 * Every open callback's number and when it opened: each shard of the open index, its two
 * projected attributes (one Query a shard and 1 MB page; the reconciliation resolves them with
 * the answered calls it listed).
 */
export async function openCallbacks(client: DynamoDBDocumentClient, tableName: string): Promise<Map<string, string>> {
  const open = new Map<string, string>();
  await Promise.all(
    callbackShards('open').map(async (shard) => {
      let start: Record<string, unknown> | undefined;
      do {
        let out: QueryCommandOutput;
        try {
          out = await client.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: CALLBACKS_INDEX,
              KeyConditionExpression: 'gsi2pk = :shard',
              ExpressionAttributeValues: { ':shard': shard },
              ProjectionExpression: 'phone, #callback',
              ExpressionAttributeNames: { '#callback': 'callback' },
              ExclusiveStartKey: start,
            }),
          );
        } catch (error) {
          throw new TableUnavailableError('The callbacks index could not be read', { cause: error });
        }
        for (const item of out.Items ?? []) {
          const callback = parseOpenCallbackItem(item);
          open.set(callback.phone, callback.openSince);
        }
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
    }),
  );
  return open;
}
