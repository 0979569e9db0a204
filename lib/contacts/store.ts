/**
 * Contacts: one per missed caller's number, updated exactly once per missed call. The call
 * item carries the "applied" mark, set in the SAME transaction as the contact write, so a
 * replayed stream record, batch or retry changes nothing.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { MISSED_STATUSES, type MissedStatus } from '../ledger/calls.js';
import { callKey, statsKey } from '../ledger/store.js';
import { callerId } from '../ledger/phone.js';
import { InvalidStreamRecordError, isRecord, requireString } from '../ledger/stream-image.js';
import { backoffMs, cancellationCodes, defaultSleep, RETRYABLE_REASONS } from '../ledger/transactions.js';

export const contactKey = (e164: string): string => `CONTACT#${e164}`;

/** A recorded missed call whose customer is known and whose contact is not applied yet. */
export interface PendingCall {
  rootCallSid: string;
  customer: string;
  status: MissedStatus;
  occurredAt: string;
  day: string;
}

export interface Contact {
  pk: string;
  type: 'contact';
  phone: string;
  missedCount: number;
  statusCounts: Partial<Record<MissedStatus, number>>;
  firstMissedAt: string;
  lastMissedAt: string;
  lastCallSid: string;
  lastStatus: MissedStatus;
  createdAt: string;
  updatedAt: string;
  /** The newest missed calls' root CallSids (at most {@link RECENT_CALLS}), newest first. */
  recentCallSids: string[];
  /** Index keys of `byLastMissed` (GET /contacts): a shard of 8 and `<lastMissedAt>#<phone>`. */
  gsi1pk: string;
  gsi1sk: string;
  /** Optimistic-concurrency version: every write expects the version it read. */
  version: number;
}

export const RECENT_CALLS = 100;
export const CONTACT_SHARDS = 8;

/** The index partition of a number: a stable hash spreads contact writes over 8 keys. */
export function contactShard(e164: string): string {
  let hash = 0;
  for (const char of e164) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `CONTACTS#${hash % CONTACT_SHARDS}`;
}

export type ApplyOutcome =
  | { outcome: 'applied'; contact: string; missedCount: number }
  /** The caller has no callable number: counted under `anonymous` on the day's counters. */
  | { outcome: 'anonymous'; reason: string }
  /** Applied before (a replay), or the call item is gone (TTL): nothing changed. */
  | { outcome: 'already-applied' };

export class ContactsUnavailableError extends Error {
  override name = 'ContactsUnavailableError';
}

function isMissedStatus(value: unknown): value is MissedStatus {
  return MISSED_STATUSES.some((status) => status === value);
}

/**
 * The pending call in a call item's image, or undefined when the item needs no contact work
 * (not a call, customer not known yet, already applied).
 * @throws InvalidStreamRecordError when a call item is malformed.
 */
export function pendingCall(item: Readonly<Record<string, unknown>>): PendingCall | undefined {
  if (item.type !== 'call' || item.customer === undefined || item.contactAppliedAt !== undefined) return undefined;
  const status = item.status;
  if (!isMissedStatus(status)) throw new InvalidStreamRecordError('status is not a missed-call status');
  const occurredAt = requireString(item, 'occurredAt');
  if (Number.isNaN(Date.parse(occurredAt))) throw new InvalidStreamRecordError('occurredAt is not a timestamp');
  return {
    rootCallSid: requireString(item, 'callSid'),
    customer: requireString(item, 'customer'),
    status,
    occurredAt,
    day: requireString(item, 'day'),
  };
}

function readContact(item: Record<string, unknown> | undefined): Contact | undefined {
  if (item === undefined) return undefined;
  const counts = item.statusCounts;
  const statusCounts: Partial<Record<MissedStatus, number>> = {};
  if (isRecord(counts)) {
    for (const status of MISSED_STATUSES) {
      const n = counts[status];
      if (typeof n === 'number') statusCounts[status] = n;
    }
  }
  const { missedCount, version, lastStatus } = item;
  const recent = Array.isArray(item.recentCallSids) ? item.recentCallSids.filter((sid): sid is string => typeof sid === 'string') : [];
  if (typeof missedCount !== 'number' || typeof version !== 'number' || !isMissedStatus(lastStatus)) {
    // No key in the message: it holds the full phone number.
    throw new ContactsUnavailableError('a contact item is malformed (missedCount, version or lastStatus)');
  }
  return {
    pk: requireString(item, 'pk'),
    type: 'contact',
    phone: requireString(item, 'phone'),
    missedCount,
    statusCounts,
    firstMissedAt: requireString(item, 'firstMissedAt'),
    lastMissedAt: requireString(item, 'lastMissedAt'),
    lastCallSid: requireString(item, 'lastCallSid'),
    lastStatus,
    createdAt: requireString(item, 'createdAt'),
    updatedAt: requireString(item, 'updatedAt'),
    recentCallSids: recent,
    gsi1pk: requireString(item, 'gsi1pk'),
    gsi1sk: requireString(item, 'gsi1sk'),
    version,
  };
}

/** The contact after one more missed call; order-independent (min/max of the timestamps). */
export function nextContact(existing: Contact | undefined, phone: string, call: PendingCall, now: string): Contact {
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
    gsi1sk: `${lastMissedAt}#${phone}`,
    version: (existing?.version ?? 0) + 1,
  };
}

export interface ContactsStore {
  apply(call: PendingCall, now?: Date): Promise<ApplyOutcome>;
}

export function createContactsStore(
  client: DynamoDBDocumentClient,
  options: { tableName: string; maxAttempts?: number; sleep?: (ms: number) => Promise<void> },
): ContactsStore {
  const { tableName } = options;
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
  const countOnDay = (day: string, counter: 'anonymous' | 'contactsCreated', now: string) => ({
    Update: {
      TableName: tableName,
      Key: { pk: statsKey(day) },
      UpdateExpression: 'SET #type = :type, #day = :day, updatedAt = :now ADD #counter :one',
      ExpressionAttributeNames: { '#type': 'type', '#day': 'day', '#counter': counter },
      ExpressionAttributeValues: { ':type': 'stats', ':day': day, ':now': now, ':one': 1 },
    },
  });

  async function attempt(call: PendingCall, now: string): Promise<ApplyOutcome> {
    const id = callerId(call.customer);
    if (id.kind === 'anonymous') {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [markApplied(call, now, `anonymous:${id.reason}`), countOnDay(call.day, 'anonymous', now)],
        }),
      );
      return { outcome: 'anonymous', reason: id.reason };
    }
    const read = await client.send(new GetCommand({ TableName: tableName, Key: { pk: contactKey(id.e164) }, ConsistentRead: true }));
    const existing = readContact(read.Item);
    const next = nextContact(existing, id.e164, call, now);
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
          // A new contact is counted on the day of the call that created it (GET /stats).
          ...(existing === undefined ? [countOnDay(call.day, 'contactsCreated', now)] : []),
        ],
      }),
    );
    return { outcome: 'applied', contact: next.pk, missedCount: next.missedCount };
  }

  return {
    async apply(call, now = new Date()) {
      for (let n = 1; ; n++) {
        try {
          return await attempt(call, now.toISOString());
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) {
            if (error instanceof ContactsUnavailableError) throw error;
            throw new ContactsUnavailableError('The contact could not be written', { cause: error });
          }
          const codes = cancellationCodes(error);
          if (codes[0] === 'ConditionalCheckFailed') return { outcome: 'already-applied' };
          // The contact changed since it was read (another call of the same number): read again.
          const contended = codes[1] === 'ConditionalCheckFailed' || codes.some((code) => RETRYABLE_REASONS.has(code));
          if (!contended || n >= maxAttempts) {
            throw new ContactsUnavailableError(`The contact transaction was cancelled (${codes.join(', ')})`, { cause: error });
          }
          await sleep(backoffMs(n));
        }
      }
    },
  };
}
