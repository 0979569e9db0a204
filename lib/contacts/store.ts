/**
 * Contacts: one per missed caller's number, updated exactly once per missed call, and taken back
 * exactly once when a call first decided missed turns out answered. The call item carries the
 * "applied" mark (`contactApplied`), set or removed in the SAME transaction as the contact write
 * and only while the item still asks for that work (`contactPending` as read), so a replayed
 * stream record, batch or retry changes nothing.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callbackFields } from '../callbacks/item.js';
import { addMiss, counterDelta, EMPTY_STATE, mergeCounters, type ResolvingCall, removeMiss, withVoicemail } from '../callbacks/model.js';
import { dayUpdates, resolutionChanges, resolutionWrites } from '../callbacks/store.js';
import type { ContactWork, PendingCall } from '../ledger/call-item.js';
import { addToDay, ones } from '../ledger/day-counters.js';
import { callerId } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { InvalidItemError, TableUnavailableError } from '../table/items.js';
import { callKey, contactKey, contactShard, contactSortKey } from '../table/keys.js';
import { cancellationCodes, RETRYABLE_REASONS } from '../table/requests.js';
import { type Contact, parseContact, RECENT_CALLS } from './item.js';

type VoicemailWork = Extract<ContactWork, { action: 'voicemail' }>;

export type ApplyOutcome =
  | { outcome: 'applied'; contact: string; missedCount: number }
  /** The caller has no callable number: counted under `anonymous` on the day's counters. */
  | { outcome: 'anonymous'; reason: string }
  /** A miss taken back: the call turned out answered (or not a callback's miss). */
  | { outcome: 'retracted'; contact: string; missedCount: number }
  /** An applied miss's voicemail (or its transcript) brought onto the contact's callback. */
  | { outcome: 'voicemail'; contact: string }
  /** The call's mark only (an outcome that came and went before the contact saw it). */
  | { outcome: 'cleared' }
  /** Applied before (a replay), or the call item is gone (TTL) or asks for newer work: nothing changed. */
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
    createdDay: existing?.createdDay ?? call.day,
    updatedAt: now,
    recentCallSids: recent,
    gsi1pk: contactShard(phone),
    gsi1sk: contactSortKey(lastMissedAt, phone),
    version: (existing?.version ?? 0) + 1,
    ...callbackFields(
      phone,
      addMiss(
        existing?.callbacks ?? EMPTY_STATE,
        {
          callSid: call.rootCallSid,
          at: call.occurredAt,
          status: call.status,
          reason: call.reason,
          line: call.line,
          ...(call.voicemail === undefined ? {} : { voicemail: call.voicemail }),
        },
        reached,
      ),
    ),
  };
}

/** The contact without one miss; undefined when it has no miss left. */
export function withoutMiss(existing: Contact, call: PendingCall, now: string): Contact | undefined {
  const missedCount = existing.missedCount - 1;
  if (missedCount <= 0) return undefined;
  const statusCounts = { ...existing.statusCounts };
  const n = (statusCounts[call.status] ?? 0) - 1;
  if (n > 0) statusCounts[call.status] = n;
  else delete statusCounts[call.status];
  const callbacks = removeMiss(existing.callbacks, call.rootCallSid);
  // The latest miss left, where the callback facts still hold it.
  const latest = [...callbacks.misses].sort((a, b) => (a.at < b.at ? 1 : -1))[0];
  const wasLatest = existing.lastCallSid === call.rootCallSid;
  const lastMissedAt = wasLatest && latest !== undefined ? latest.at : existing.lastMissedAt;
  // The open callback's attributes are rebuilt from what is left (none when nothing is open).
  const { callback: _callback, gsi2pk: _gsi2pk, gsi2sk: _gsi2sk, ...kept } = existing;
  return {
    ...kept,
    missedCount,
    statusCounts,
    lastMissedAt,
    lastCallSid: wasLatest && latest !== undefined ? latest.callSid : existing.lastCallSid,
    lastStatus: wasLatest && latest !== undefined ? latest.status : existing.lastStatus,
    recentCallSids: existing.recentCallSids.filter((sid) => sid !== call.rootCallSid),
    updatedAt: now,
    gsi1sk: contactSortKey(lastMissedAt, existing.phone),
    version: existing.version + 1,
    ...callbackFields(existing.phone, callbacks),
  };
}

export interface ContactsStore {
  /** Does the contact work a call item asks for: apply a miss, take one back, or clear the mark. */
  apply(work: ContactWork, now?: Date): Promise<ApplyOutcome>;
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
    // The reconciliation looked already, in the calls it listed: Twilio is not asked again.
    if (call.reached !== undefined) return call.reached.map((r) => ({ id: r.id, at: r.at, by: r.by }));
    if (options.reachedSince === undefined || Date.parse(now) - Date.parse(call.knownAt) <= lateAfterMs) return [];
    try {
      return await options.reachedSince(phone, new Date(call.occurredAt));
    } catch (error) {
      logger.warn('Callback check with Twilio failed; the callback opens without it', { callSid: call.rootCallSid, error });
      return [];
    }
  }
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;

  /**
   * Marks the call applied (or no more applied), only while it asks for that work: its
   * `contactPending` as read, or for a 0.1.0 item, not applied before.
   */
  const mark = (call: PendingCall, now: string, applied: string | undefined) => ({
    Update:
      call.token === undefined
        ? {
            TableName: tableName,
            Key: { pk: callKey(call.rootCallSid) },
            UpdateExpression: 'SET contactAppliedAt = :now, contactOutcome = :outcome, contactApplied = :outcome',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(contactAppliedAt)',
            ExpressionAttributeValues: { ':now': now, ':outcome': applied },
          }
        : {
            TableName: tableName,
            Key: { pk: callKey(call.rootCallSid) },
            UpdateExpression:
              applied === undefined
                ? 'REMOVE contactPending, contactApplied, contactAppliedAt, contactOutcome'
                : 'SET contactApplied = :applied, contactAppliedAt = :now REMOVE contactPending',
            ConditionExpression: 'contactPending = :token',
            ExpressionAttributeValues: { ':token': call.token, ...(applied === undefined ? {} : { ':applied': applied, ':now': now }) },
          },
  });

  /** +1 on one counter of a day's counters item (GET /stats reads them). */
  const countOnDay = (call: PendingCall, counter: 'anonymous' | 'contactsCreated', now: string, n = 1) => ({
    Update: addToDay(tableName, call.day, new Map([[counter, n]]), now, call.rootCallSid),
  });

  async function retract(call: PendingCall, now: string): Promise<ApplyOutcome> {
    const id = callerId(call.customer);
    if (id.kind === 'anonymous' || call.applied?.startsWith('anonymous:')) {
      await client.send(new TransactWriteCommand({ TransactItems: [mark(call, now, undefined), countOnDay(call, 'anonymous', now, -1)] }));
      return { outcome: 'retracted', contact: 'anonymous', missedCount: 0 };
    }
    const read = await client.send(new GetCommand({ TableName: tableName, Key: { pk: contactKey(id.e164) }, ConsistentRead: true }));
    const existing = read.Item === undefined ? undefined : parseContact(read.Item);
    if (existing === undefined) {
      await client.send(new TransactWriteCommand({ TransactItems: [mark(call, now, undefined)] }));
      return { outcome: 'retracted', contact: contactKey(id.e164), missedCount: 0 };
    }
    const next = withoutMiss(existing, call, now);
    const before = existing.callbacks;
    const after = next?.callbacks ?? EMPTY_STATE;
    const counters = counterDelta(before, after);
    // A contact left with no miss goes, and with it the count of its creation on the day it was made.
    if (next === undefined) {
      mergeCounters(counters, new Map([[existing.createdDay ?? existing.createdAt.slice(0, 10), new Map([['contactsCreated', -1]])]]));
    }
    const guard = { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': existing.version } };
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          mark(call, now, undefined),
          next === undefined
            ? { Delete: { TableName: tableName, Key: { pk: existing.pk }, ...guard } }
            : { Put: { TableName: tableName, Item: next, ...guard } },
          ...dayUpdates(tableName, counters, now, call.rootCallSid),
          ...resolutionWrites(tableName, id.e164, resolutionChanges(before, after)),
        ],
      }),
    );
    return { outcome: 'retracted', contact: existing.pk, missedCount: next?.missedCount ?? 0 };
  }

  async function attempt(call: PendingCall, now: string, reached: (phone: string) => Promise<ResolvingCall[]>): Promise<ApplyOutcome> {
    if (call.action === 'retract') return retract(call, now);
    const id = callerId(call.customer);
    if (id.kind === 'anonymous') {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [mark(call, now, `anonymous:${id.reason}`), countOnDay(call, 'anonymous', now)],
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
          mark(call, now, `contact:${id.e164}:${call.status}`),
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

  /**
   * An applied miss's voicemail brought up to date on its contact (the open callback shows the
   * newest message), with the call's mark in the same transaction. A miss the contact no longer
   * keeps, or already shows so, only clears the mark.
   */
  async function voicemail(work: VoicemailWork, now: string): Promise<ApplyOutcome> {
    const id = callerId(work.customer);
    if (id.kind === 'anonymous') return clear(work.rootCallSid, work.token);
    const read = await client.send(new GetCommand({ TableName: tableName, Key: { pk: contactKey(id.e164) }, ConsistentRead: true }));
    const existing = read.Item === undefined ? undefined : parseContact(read.Item);
    const callbacks = existing === undefined ? undefined : withVoicemail(existing.callbacks, work.rootCallSid, work.voicemail);
    if (existing === undefined || callbacks === undefined || JSON.stringify(callbacks) === JSON.stringify(existing.callbacks)) {
      return clear(work.rootCallSid, work.token);
    }
    const { callback: _callback, gsi2pk: _gsi2pk, gsi2sk: _gsi2sk, ...kept } = existing;
    const next: Contact = { ...kept, updatedAt: now, version: existing.version + 1, ...callbackFields(existing.phone, callbacks) };
    const guard = { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': existing.version } };
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: { pk: callKey(work.rootCallSid) },
              UpdateExpression: 'REMOVE contactPending',
              ConditionExpression: 'contactPending = :token',
              ExpressionAttributeValues: { ':token': work.token },
            },
          },
          { Put: { TableName: tableName, Item: next, ...guard } },
        ],
      }),
    );
    return { outcome: 'voicemail', contact: next.pk };
  }

  async function clear(rootCallSid: string, token: string): Promise<ApplyOutcome> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: callKey(rootCallSid) },
          UpdateExpression: 'REMOVE contactPending',
          ConditionExpression: 'contactPending = :token',
          ExpressionAttributeValues: { ':token': token },
        }),
      );
      return { outcome: 'cleared' };
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return { outcome: 'already-applied' };
      throw new TableUnavailableError('The call could not be updated', { cause: error });
    }
  }

  return {
    async apply(work, now = new Date()) {
      if (work.action === 'clear') return clear(work.rootCallSid, work.token);
      const at = now.toISOString();
      // Asked at most once per apply, whatever the retries.
      let asked: Promise<ResolvingCall[]> | undefined;
      const once =
        work.action === 'voicemail'
          ? () => voicemail(work, at)
          : () =>
              attempt(work, at, (phone) => {
                asked ??= reachedFor(phone, work, at);
                return asked;
              });
      for (let n = 1; ; n++) {
        try {
          return await once();
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
