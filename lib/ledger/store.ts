/**
 * The ledger store: one missed call becomes one call item and one increment of that day's
 * counters, in ONE TransactWriteItems (call-item.ts), so the counts stay exact under duplicate
 * deliveries.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { TableUnavailableError } from '../table/items.js';
import { callKey } from '../table/keys.js';
import { batchGetAll, cancellationCodes, RETRYABLE_REASONS } from '../table/requests.js';
import { type CallItem, callItem, KNOWN_CALL_PROJECTION, type KnownCall, parseKnownCall, recordCallTransaction } from './call-item.js';
import type { MissedCall } from './calls.js';

export type RecordOutcome =
  /** First delivery: the call item was created and the day's counters incremented. */
  | { outcome: 'recorded'; day: string }
  /** The call was already recorded: counters unchanged. `merged` when new facts were added to it. */
  | { outcome: 'duplicate'; merged: boolean };

export interface Ledger {
  record(call: MissedCall, now?: Date): Promise<RecordOutcome>;
}

/** The ledger as the reconciliation uses it: it also asks which calls are recorded already. */
export interface ReconcileLedger extends Ledger {
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

/** The ledger on DynamoDB. */
export function createLedger(client: DynamoDBDocumentClient, options: LedgerOptions): Ledger {
  const { tableName, retentionDays } = options;
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;

  async function transact(item: CallItem, now: Date): Promise<void> {
    await client.send(new TransactWriteCommand(recordCallTransaction(tableName, item, now)));
  }

  /** Adds what a later delivery knows and the first did not: new legs, the customer's number and line. */
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
      if (call.line !== undefined) {
        sets.push('line = if_not_exists(line, :line)');
        values[':line'] = call.line;
      }
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

  async function mergeOrFail(call: MissedCall, existing: Record<string, unknown> | undefined): Promise<boolean> {
    try {
      return await merge(call, existing);
    } catch (mergeError) {
      throw new TableUnavailableError('The ledger table could not be updated', { cause: mergeError });
    }
  }

  /** The recorded call item, read consistently; undefined when not recorded. */
  async function readCall(rootCallSid: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: callKey(rootCallSid) }, ConsistentRead: true }));
      return out.Item;
    } catch (readError) {
      throw new TableUnavailableError('The ledger table could not be read', { cause: readError });
    }
  }

  return {
    async record(call, now = new Date()) {
      const item = callItem(call, now, retentionDays);
      for (let attempt = 1; ; attempt++) {
        try {
          await transact(item, now);
          return { outcome: 'recorded', day: item.day };
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) {
            throw new TableUnavailableError('The ledger table could not be written', { cause: error });
          }
          const codes = cancellationCodes(error);
          if (codes[0] === 'ConditionalCheckFailed') {
            const old = error.CancellationReasons?.[0]?.Item;
            return { outcome: 'duplicate', merged: await mergeOrFail(call, old ? unmarshall(old) : undefined) };
          }
          if (!codes.some((code) => RETRYABLE_REASONS.has(code))) {
            throw new TableUnavailableError(`The ledger transaction was cancelled (${codes.join(', ')})`, { cause: error });
          }
          // A conflict usually means another delivery of the same call is committing. If its
          // item is there, it committed (the item and the counters go together): a duplicate,
          // with no need to win a retry against the storm.
          const existing = await readCall(call.rootCallSid);
          if (existing !== undefined) return { outcome: 'duplicate', merged: await mergeOrFail(call, existing) };
          if (attempt >= maxAttempts) {
            throw new TableUnavailableError(`The ledger transaction was cancelled (${codes.join(', ')})`, { cause: error });
          }
          // Full jitter: 50 concurrent deliveries of one call contend for the same two items.
          await sleep(backoffMs(attempt));
        }
      }
    },
  };
}

/** The ledger with `find` (the webhook's bundle leaves `find` and its batch reads out). */
export function createReconcileLedger(client: DynamoDBDocumentClient, options: LedgerOptions): ReconcileLedger {
  const { tableName, maxAttempts, sleep } = options;
  return {
    ...createLedger(client, options),
    async find(rootCallSids) {
      const keys = [...new Set(rootCallSids)].map((sid) => ({ pk: callKey(sid) }));
      const items = await batchGetAll(client, tableName, keys, {
        what: 'The ledger table',
        maxAttempts,
        sleep,
        read: { ProjectionExpression: KNOWN_CALL_PROJECTION, ConsistentRead: true },
      });
      return new Map(
        items.map((item) => {
          const { rootCallSid, known } = parseKnownCall(item);
          return [rootCallSid, known];
        }),
      );
    },
  };
}
