/**
 * The ledger store: one missed call becomes one call item and one increment of that day's
 * counters, in ONE TransactWriteItems, so the counts stay exact under duplicate deliveries.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { MissedCall } from './calls.js';
import { backoffMs, cancellationCodes, defaultSleep, RETRYABLE_REASONS } from './transactions.js';

/** The table could not be written: the request fails with 503 so that Twilio retries it. */
export class LedgerUnavailableError extends Error {
  override name = 'LedgerUnavailableError';
}

export type RecordOutcome =
  /** First delivery: the call item was created and the day's counters incremented. */
  | { outcome: 'recorded'; day: string }
  /** The call was already recorded: counters unchanged. `merged` when new facts were added to it. */
  | { outcome: 'duplicate'; merged: boolean };

/** What the reconciliation needs to know of a recorded call. */
export interface KnownCall {
  hasCustomer: boolean;
  legSids: ReadonlySet<string>;
}

export interface Ledger {
  record(call: MissedCall, now?: Date): Promise<RecordOutcome>;
  /** The recorded calls among `rootCallSids` (BatchGetItem, 100 keys a request). */
  find(rootCallSids: readonly string[]): Promise<Map<string, KnownCall>>;
}

export interface LedgerOptions {
  tableName: string;
  retentionDays: number;
  /** Attempts for a transaction cancelled by a conflict or throttling (default 8). */
  maxAttempts?: number;
  /** Backoff sleep, replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
}

export const callKey = (rootCallSid: string): string => `CALL#${rootCallSid}`;
export const statsKey = (day: string): string => `STATS#${day}`;

const DAY_SECONDS = 86_400;

/** The call item as stored; `legSids` is a string set. */
export function callItem(call: MissedCall, recordedAt: Date, retentionDays: number): Record<string, unknown> {
  const recorded = recordedAt.toISOString();
  const occurredAt = call.startedAt ?? call.reportedAt ?? recorded;
  return {
    pk: callKey(call.rootCallSid),
    type: 'call',
    callSid: call.rootCallSid,
    legSids: new Set(call.legCallSids),
    accountSid: call.accountSid,
    status: call.status,
    direction: call.direction,
    from: call.from,
    to: call.to,
    customer: call.customer,
    source: call.source,
    startedAt: call.startedAt,
    reportedAt: call.reportedAt,
    occurredAt,
    recordedAt: recorded,
    day: occurredAt.slice(0, 10),
    // TTL: DynamoDB deletes the item (within a day or two) after this epoch second.
    expiresAt: Math.floor(recordedAt.getTime() / 1000) + retentionDays * DAY_SECONDS,
  };
}

/**
 * The one transaction that records a call: the conditional put of its item and the ADD on its
 * day's counters. Exported for the benchmark's bare-SDK baseline.
 */
export function recordTransaction(tableName: string, item: Record<string, unknown>, now: Date): TransactWriteCommandInput {
  return {
    TransactItems: [
      {
        Put: {
          TableName: tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Update: {
          TableName: tableName,
          Key: { pk: statsKey(String(item.day)) },
          UpdateExpression: 'SET #type = :type, #day = :day, updatedAt = :now ADD #total :one, #status :one, #source :one',
          ExpressionAttributeNames: {
            '#type': 'type',
            '#day': 'day',
            '#total': 'total',
            '#status': `status:${String(item.status)}`,
            '#source': `source:${String(item.source)}`,
          },
          ExpressionAttributeValues: { ':type': 'stats', ':day': item.day, ':now': now.toISOString(), ':one': 1 },
        },
      },
    ],
  };
}

/** The ledger on DynamoDB. */
export function createLedger(client: DynamoDBDocumentClient, options: LedgerOptions): Ledger {
  const { tableName, retentionDays } = options;
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;

  async function transact(item: Record<string, unknown>, now: Date): Promise<void> {
    await client.send(new TransactWriteCommand(recordTransaction(tableName, item, now)));
  }

  /** Adds what a later delivery knows and the first did not: new legs, the customer's number. */
  async function merge(call: MissedCall, existing: Record<string, unknown> | undefined): Promise<boolean> {
    const knownLegs = existing?.legSids instanceof Set ? existing.legSids : new Set<unknown>();
    const newLegs = call.legCallSids.filter((sid) => !knownLegs.has(sid));
    const addCustomer = call.customer !== undefined && (existing === undefined || existing.customer === undefined);
    if (newLegs.length === 0 && !addCustomer) return false;
    const sets: string[] = [];
    const values: Record<string, unknown> = {};
    if (addCustomer) {
      sets.push('customer = if_not_exists(customer, :customer)');
      values[':customer'] = call.customer;
    }
    const update = [sets.length > 0 ? `SET ${sets.join(', ')}` : '', newLegs.length > 0 ? 'ADD legSids :legs' : ''].join(' ');
    if (newLegs.length > 0) values[':legs'] = new Set(newLegs);
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: callKey(call.rootCallSid) },
        UpdateExpression: update.trim(),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  }

  async function findBatch(keys: string[], found: Map<string, KnownCall>): Promise<void> {
    let pending: Record<string, unknown>[] = keys.map((sid) => ({ pk: callKey(sid) }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) throw new LedgerUnavailableError(`BatchGetItem left ${pending.length} keys unprocessed`);
      if (attempt > 1) await sleep(backoffMs(attempt));
      let out: BatchGetCommandOutput;
      try {
        out = await client.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'pk, customer, legSids' },
            },
          }),
        );
      } catch (error) {
        throw new LedgerUnavailableError('The ledger table could not be read', { cause: error });
      }
      for (const item of out.Responses?.[tableName] ?? []) {
        const pk = item.pk;
        if (typeof pk !== 'string') continue;
        const legs = item.legSids instanceof Set ? [...item.legSids].filter((leg): leg is string => typeof leg === 'string') : [];
        found.set(pk.slice('CALL#'.length), { hasCustomer: typeof item.customer === 'string', legSids: new Set(legs) });
      }
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }

  async function mergeOrFail(call: MissedCall, existing: Record<string, unknown> | undefined): Promise<boolean> {
    try {
      return await merge(call, existing);
    } catch (mergeError) {
      throw new LedgerUnavailableError('The ledger table could not be updated', { cause: mergeError });
    }
  }

  /** The recorded call item, read consistently; undefined when not recorded. */
  async function readCall(rootCallSid: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: callKey(rootCallSid) }, ConsistentRead: true }));
      return out.Item;
    } catch (readError) {
      throw new LedgerUnavailableError('The ledger table could not be read', { cause: readError });
    }
  }

  return {
    async find(rootCallSids) {
      const found = new Map<string, KnownCall>();
      const unique = [...new Set(rootCallSids)];
      for (let i = 0; i < unique.length; i += 100) await findBatch(unique.slice(i, i + 100), found);
      return found;
    },

    async record(call, now = new Date()) {
      const item = callItem(call, now, retentionDays);
      for (let attempt = 1; ; attempt++) {
        try {
          await transact(item, now);
          return { outcome: 'recorded', day: String(item.day) };
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) {
            throw new LedgerUnavailableError('The ledger table could not be written', { cause: error });
          }
          const codes = cancellationCodes(error);
          if (codes[0] === 'ConditionalCheckFailed') {
            const old = error.CancellationReasons?.[0]?.Item;
            return { outcome: 'duplicate', merged: await mergeOrFail(call, old ? unmarshall(old) : undefined) };
          }
          if (!codes.some((code) => RETRYABLE_REASONS.has(code))) {
            throw new LedgerUnavailableError(`The ledger transaction was cancelled (${codes.join(', ')})`, { cause: error });
          }
          // A conflict usually means another delivery of the same call is committing. If its
          // item is there, it committed (the item and the counters go together): a duplicate,
          // with no need to win a retry against the storm.
          const existing = await readCall(call.rootCallSid);
          if (existing !== undefined) return { outcome: 'duplicate', merged: await mergeOrFail(call, existing) };
          if (attempt >= maxAttempts) {
            throw new LedgerUnavailableError(`The ledger transaction was cancelled (${codes.join(', ')})`, { cause: error });
          }
          // Full jitter: 50 concurrent deliveries of one call contend for the same two items.
          await sleep(backoffMs(attempt));
        }
      }
    },
  };
}
