/**
 * The audit trail of operator actions: who (a person's `{id, name}`, or a machine's key), what
 * (marked called back, closed as unreachable, called back, erased a caller, invited or changed a
 * person, started a reconciliation) and when. One item per action (`AUDIT#<at>#<id>`), kept
 * `AUDIT_RETENTION_DAYS` (TTL `expiresAt`), listed newest first by admins (`GET /audit`) through
 * the `byLastMissed` index under a partition of its own (`AUDIT#log`: people's actions, far below
 * an index partition's 1,000 writes a second).
 *
 * An entry is written after its action succeeded. It holds no e-mail and no full phone number: a
 * customer's number is masked like in the logs (`+*******7202`), so erasing a caller leaves no copy
 * of their number here.
 */
import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Caller } from '../auth/caller.js';
import { maskPhone } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import { encodeCursor, type PageQuery, parsePageQuery } from '../platform/paging.js';
import { InvalidItemError, isOneOf, isRecord, readable, requireString, TableUnavailableError } from '../table/items.js';
import { AUDIT_PARTITION, AUDIT_SORT_KEY, auditKey, CONTACTS_INDEX } from '../table/keys.js';
import { batchGetAll, shardedPage } from '../table/requests.js';

export const AUDIT_ACTIONS = [
  'callback.resolved',
  'callback.unreachable',
  'callback.called',
  'contact.erased',
  'person.invited',
  'person.changed',
  'reconcile.started',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditActor = { kind: 'person'; id: string; name: string } | { kind: 'machine' };

/** What an action was done to: a customer (masked number), a person (their id) or a reconciliation run (its id). */
export interface AuditTarget {
  customer?: string;
  person?: string;
  runId?: string;
}

/** Facts of the action worth keeping: short strings, numbers and flags only. */
export type AuditDetail = Readonly<Record<string, string | number | boolean>>;

export interface AuditEntry {
  id: string;
  at: string;
  action: AuditAction;
  actor: AuditActor;
  target: AuditTarget;
  detail?: AuditDetail;
}

/** What a route says about what it did; the trail adds who, when and an id. */
export interface AuditEvent {
  action: AuditAction;
  /** A customer's number in E.164: kept masked. */
  customer?: string;
  person?: string;
  runId?: string;
  detail?: AuditDetail;
}

const actorOfCaller = (caller: Caller): AuditActor =>
  caller.kind === 'person' ? { kind: 'person', id: caller.id, name: caller.name } : { kind: 'machine' };

/** The entry of `event` done by `caller` at `now`. */
export function auditEntry(event: AuditEvent, caller: Caller, now: Date, id = randomBytes(4).toString('hex')): AuditEntry {
  const customer = event.customer === undefined ? undefined : maskPhone(event.customer);
  return {
    id,
    at: now.toISOString(),
    action: event.action,
    actor: actorOfCaller(caller),
    target: {
      ...(customer === undefined ? {} : { customer }),
      ...(event.person === undefined ? {} : { person: event.person }),
      ...(event.runId === undefined ? {} : { runId: event.runId }),
    },
    ...(event.detail === undefined || Object.keys(event.detail).length === 0 ? {} : { detail: event.detail }),
  };
}

const sortKeyOf = (entry: Pick<AuditEntry, 'at' | 'id'>): string => `${entry.at}#${entry.id}`;

/** Keeps one entry, `retentionDays` from its time. */
async function keepAuditEntry(client: DynamoDBDocumentClient, tableName: string, entry: AuditEntry, retentionDays: number): Promise<void> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: auditKey(entry.at, entry.id),
          type: 'audit',
          ...entry,
          gsi1pk: AUDIT_PARTITION,
          gsi1sk: sortKeyOf(entry),
          expiresAt: Math.floor(Date.parse(entry.at) / 1000) + retentionDays * 86_400,
        },
      }),
    );
  } catch (error) {
    throw new TableUnavailableError('The audit entry could not be kept', { cause: error });
  }
}

function parseActor(value: unknown): AuditActor {
  if (!isRecord(value)) throw new InvalidItemError('actor is malformed');
  if (value.kind === 'machine') return { kind: 'machine' };
  return { kind: 'person', id: requireString(value, 'id'), name: requireString(value, 'name') };
}

/**
 * Keeps what `caller` just did. The action is done: an entry that cannot be kept is logged
 * (`Audit entry lost`, error level, for an alarm) rather than failing a request that succeeded.
 */
export async function recordAudit(
  client: DynamoDBDocumentClient,
  trail: { tableName: string; retentionDays: number },
  caller: Caller,
  event: AuditEvent,
  now: Date = new Date(),
): Promise<void> {
  const entry = auditEntry(event, caller, now);
  try {
    await keepAuditEntry(client, trail.tableName, entry, trail.retentionDays);
  } catch (error) {
    logger.error('Audit entry lost', { action: entry.action, actor: entry.actor.kind === 'person' ? entry.actor.id : 'machine', error });
  }
}

/** An audit item, checked; undefined when the item is not one. */
export function parseAuditEntry(item: Readonly<Record<string, unknown>> | undefined): AuditEntry | undefined {
  if (item === undefined || item.type !== 'audit') return undefined;
  const action = item.action;
  if (!isOneOf(AUDIT_ACTIONS, action)) throw new InvalidItemError('action is not an audit action');
  const target = isRecord(item.target) ? item.target : {};
  const detail = isRecord(item.detail) ? item.detail : undefined;
  return {
    id: requireString(item, 'id'),
    at: requireString(item, 'at'),
    action,
    actor: parseActor(item.actor),
    target: Object.fromEntries(
      ['customer', 'person', 'runId'].filter((k) => typeof target[k] === 'string').map((k) => [k, target[k]]),
    ) as AuditTarget,
    ...(detail === undefined
      ? {}
      : {
          detail: Object.fromEntries(
            Object.entries(detail).filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'),
          ) as AuditDetail,
        }),
  };
}

export type AuditQuery = PageQuery;

/** `since`, `limit` (1–100, 50) and `cursor`; 400 naming the parameter. */
export const parseAuditQuery = (query: URLSearchParams): AuditQuery => parsePageQuery(query, AUDIT_SORT_KEY);

/** One page of the trail, newest first: one Query of the index, one BatchGetItem of the entries. */
export async function listAudit(
  client: DynamoDBDocumentClient,
  tableName: string,
  q: AuditQuery,
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const { items: page, continueAfter } = await shardedPage(client, tableName, {
    index: CONTACTS_INDEX,
    keys: { pk: 'gsi1pk', sk: 'gsi1sk' },
    shards: [AUDIT_PARTITION],
    order: 'descending',
    limit: q.limit,
    since: q.since,
    after: q.before,
    what: 'The audit trail',
  });
  const items = (
    await batchGetAll(
      client,
      tableName,
      page.map((key) => ({ pk: key.pk })),
      { what: 'The audit trail', maxAttempts: 6 },
    )
  )
    .map((item) => readable(() => parseAuditEntry(item), 'audit entry'))
    .filter((entry): entry is AuditEntry => entry !== undefined)
    .sort((a, b) => sortKeyOf(b).localeCompare(sortKeyOf(a)));
  return { items, nextCursor: continueAfter === undefined ? null : encodeCursor(continueAfter, q.since ?? null) };
}
