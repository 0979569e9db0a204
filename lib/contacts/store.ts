/**
 * Contacts: one per missed caller's number, updated exactly once per missed call. The call
 * item carries the "applied" mark, set in the SAME transaction as the contact write, so a
 * replayed stream record, batch or retry changes nothing.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { callbackFields } from '../callbacks/item.js';
import { addMiss, counterDelta, EMPTY_STATE, mergeCounters, type ResolvingCall } from '../callbacks/model.js';
import { dayUpdates, resolutionChanges, resolutionWrites } from '../callbacks/store.js';
import type { PendingCall } from '../ledger/call-item.js';
import { addToDay, ones } from '../ledger/day-counters.js';
import { callerId } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { InvalidItemError, TableUnavailableError } from '../table/items.js';
import { callKey, contactKey, contactShard, contactSortKey } from '../table/keys.js';
import { cancellationCodes, RETRYABLE_REASONS } from '../table/requests.js';
import { type Contact, parseContact, RECENT_CALLS } from './item.js';

export type ApplyOutcome =
  | { outcome: 'applied'; contact: string; missedCount: number }
  /** The caller has no callable number: counted under `anonymous` on the day's counters. */
  | { outcome: 'anonymous'; reason: string }
  /** Applied before (a replay), or the call item is gone (TTL): nothing changed. */
  | { outcome: 'already-applied' };

/**
 * The contact after one more missed call; order-independent (min/max of the timestamps).
 * `reached`: answered calls with the number since the miss, as Twilio reports them (late misses).
 */
export function nextContact(
  existing: Contact | undefined,
  phone: string,
  call: PendingCall,
  now: string,
  reached: readonly ResolvingCall[] = [],
): Contact {
  const isLatest = existing === undefined || call.occurredAt >= existing.lastMissedAt;
  const statusCounts = { ...existing?.statusCounts };
  const lastMissedAt = isLatest ? call.occurredAt : existing.lastMissedAt;
  const recent = [call.rootCallSid, ...(existing?.recentCallSids ?? []).filter((sid) => sid !== call.rootCallSid)].slice(0, RECENT_CALLS);
  statusCounts[call.status] = (statusCounts[call.status] ?? 0) + 1;
  return {
    pk: contactKey(phone),
    type: 'contact',
    phone,
    missedCount: (existing?.missedCount ?? 0) + 1,
    statusCounts,
    firstMissedAt: existing === undefined || call.occurredAt < existing.firstMissedAt ? call.occurredAt : existing.firstMissedAt,
    lastMissedAt,
    lastCallSid: isLatest ? call.rootCallSid : existing.lastCallSid,
    lastStatus: isLatest ? call.status : existing.lastStatus,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    recentCallSids: recent,
    gsi1pk: contactShard(phone),
    gsi1sk: contactSortKey(lastMissedAt, phone),
    version: (existing?.version ?? 0) + 1,
    ...callbackFields(
      phone,
      addMiss(
        existing?.callbacks ?? EMPTY_STATE,
        { callSid: call.rootCallSid, at: call.occurredAt, status: call.status, line: call.line },
        reached,
      ),
    ),
  };
}

export interface ContactsStore {
  apply(call: PendingCall, now?: Date): Promise<ApplyOutcome>;
}

export interface ContactsStoreOptions {
  tableName: string;
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Answered calls with a number since an instant (Twilio's Calls list: lib/callbacks/reached.ts),
   * asked for a miss applied more than `lateAfterMs` after it happened. Unset: never asked.
   */
  reachedSince?: (phone: string, since: Date) => Promise<ResolvingCall[]>;
  /** Default 5 s: below CALLBACK_MIN_SECONDS, no answered call after the miss can have ended yet. */
  lateAfterMs?: number;
}

export function createContactsStore(client: DynamoDBDocumentClient, options: ContactsStoreOptions): ContactsStore {
  const { tableName } = options;
  const lateAfterMs = options.lateAfterMs ?? 5_000;

  /** Calls that reached the number since a late miss; a failed check opens the callback without it. */
  async function reachedFor(phone: string, call: PendingCall, now: string): Promise<ResolvingCall[]> {
    if (options.reachedSince === undefined || Date.parse(now) - Date.parse(call.occurredAt) <= lateAfterMs) return [];
    try {
      return await options.reachedSince(phone, new Date(call.occurredAt));
    } catch (error) {
      logger.warn('Callback check with Twilio failed; the callback opens without it', { callSid: call.rootCallSid, error });
      return [];
    }
  }
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;

  /** Marks the call applied, only if it exists and was not applied before. */
  const markApplied = (call: PendingCall, now: string, outcome: string) => ({
    Update: {
      TableName: tableName,
      Key: { pk: callKey(call.rootCallSid) },
      UpdateExpression: 'SET contactAppliedAt = :now, contactOutcome = :outcome',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(contactAppliedAt)',
      ExpressionAttributeValues: { ':now': now, ':outcome': outcome },
    },
  });

  /** +1 on one counter of a day's counters item (GET /stats reads them). */
  const countOnDay = (call: PendingCall, counter: 'anonymous' | 'contactsCreated', now: string) => ({
    Update: addToDay(tableName, call.day, ones(counter), now, call.rootCallSid),
  });

  async function attempt(call: PendingCall, now: string, reached: (phone: string) => Promise<ResolvingCall[]>): Promise<ApplyOutcome> {
    const id = callerId(call.customer);
    if (id.kind === 'anonymous') {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [markApplied(call, now, `anonymous:${id.reason}`), countOnDay(call, 'anonymous', now)],
        }),
      );
      return { outcome: 'anonymous', reason: id.reason };
    }
    const read = await client.send(new GetCommand({ TableName: tableName, Key: { pk: contactKey(id.e164) }, ConsistentRead: true }));
    const existing = read.Item === undefined ? undefined : parseContact(read.Item);
    const next = nextContact(existing, id.e164, call, now, await reached(id.e164));
    const before = existing?.callbacks ?? EMPTY_STATE;
    // A new contact is counted on the day of the call that created it (GET /stats), with the
    // callback counters the miss changes (a transaction touches each day's item once).
    const counters = counterDelta(before, next.callbacks);
    if (existing === undefined) mergeCounters(counters, new Map([[call.day, ones('contactsCreated')]]));
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          markApplied(call, now, `contact:${id.e164}`),
          {
            Put: {
              TableName: tableName,
              Item: next,
              ...(existing === undefined
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': existing.version } }),
            },
          },
          ...dayUpdates(tableName, counters, now, call.rootCallSid),
          ...resolutionWrites(tableName, id.e164, resolutionChanges(before, next.callbacks)),
        ],
      }),
    );
    return { outcome: 'applied', contact: next.pk, missedCount: next.missedCount };
  }

  return {
    async apply(call, now = new Date()) {
      // Asked at most once per apply, whatever the retries.
      let asked: Promise<ResolvingCall[]> | undefined;
      const reached = (phone: string) => {
        asked ??= reachedFor(phone, call, now.toISOString());
        return asked;
      };
      for (let n = 1; ; n++) {
        try {
          return await attempt(call, now.toISOString(), reached);
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) {
            // A contact item that cannot be read (InvalidItemError) is never overwritten.
            if (error instanceof InvalidItemError) throw error;
            throw new TableUnavailableError('The contact could not be written', { cause: error });
          }
          const codes = cancellationCodes(error);
          if (codes[0] === 'ConditionalCheckFailed') return { outcome: 'already-applied' };
          // The contact changed since it was read (another call of the same number): read again.
          const contended = codes[1] === 'ConditionalCheckFailed' || codes.some((code) => RETRYABLE_REASONS.has(code));
          if (!contended || n >= maxAttempts) {
            throw new TableUnavailableError(`The contact transaction was cancelled (${codes.join(', ')})`, { cause: error });
          }
          await sleep(backoffMs(n));
        }
      }
    },
  };
}
