/**
 * The single table: every key, every item shape with its parser, the day-counter update and the
 * contact index shard. The stores (ledger, contacts, watermark, stats) build and read items
 * through this module only; `resources/table.yml` declares the same keys and index.
 *
 * | pk                     | item                                    | written by            |
 * |------------------------|-----------------------------------------|-----------------------|
 * | `CALL#<root CallSid>`  | one missed call (TTL `expiresAt`)       | ledger                |
 * | `STATS#<YYYY-MM-DD>`   | that day's counters (folded, or written late) | ledger, contacts, the fold |
 * | `STATS#<day>#<0..63>`  | a shard of a live day's counters         | ledger, contacts      |
 * | `META#stats-fold`      | the last day folded into its day item    | the fold (nightly)    |
 * | `CONTACT#<E.164>`      | one missed caller, its callback worklist | contacts; resolvers   |
 * | `RESOLUTION#<E.164>#<id>` | one resolved callback (history)      | contacts; resolvers   |
 * | `META#reconcile`       | the reconciliation watermark            | reconciliation        |
 * | `META#reconcile-lease` | the running reconciliation and its expiry | reconciliation      |
 * | `RUN#<runId>`          | one reconciliation run (TTL 90 days)     | reconciliation        |
 * | `TEXTBACK#<E.164>`     | the number's text-back state            | text-back             |
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  type CallbackState,
  EMPTY_STATE,
  type Episode,
  episodes,
  RESOLVED_BY,
  type Resolution,
  type ResolvedBy,
  TTC_BOUNDS,
  type WithinBucket,
} from '../callbacks/model.js';
import { logger } from '../platform/log.js';
import { FAIL_REASONS, SKIP_REASONS, type TextBackEpisode, type TextBackRecord } from '../textback/reasons.js';
import { MISSED_STATUSES, type MissedCall, type MissedStatus, SOURCES, type Source } from './calls.js';

/** The table could not be read or written: HTTP callers answer 503, the stream retries. */
export class TableUnavailableError extends Error {
  override name = 'TableUnavailableError';
}

/** An item (in the table or in a stream image) that this code cannot read: never guessed at. */
export class InvalidItemError extends Error {
  override name = 'InvalidItemError';
}

// ---- keys -------------------------------------------------------------------------------------

const CALL_PREFIX = 'CALL#';
export const callKey = (rootCallSid: string): string => `${CALL_PREFIX}${rootCallSid}`;
/** The root CallSid of a call item's key. */
export const callSidOfKey = (pk: string): string => pk.slice(CALL_PREFIX.length);
export const statsKey = (day: string): string => `STATS#${day}`;

/**
 * Day counters are write-sharded while their day is live (today and yesterday, UTC): each write
 * goes to one of STATS_SHARDS items chosen from a stable seed (the CallSid, or the number), so no
 * single item takes every missed call's update (DynamoDB gives a partition about 1,000 write
 * units a second). Writes for older days (late, reconciled) go to the day item. The nightly fold
 * (lib/operator/fold.ts) adds a settled day's shards into its day item and marks it folded;
 * readers sum the day item and its shards until then, and the day item alone after.
 */
export const STATS_SHARDS = 64;
export const statsShardKey = (day: string, shard: number): string => `STATS#${day}#${shard}`;
export const statsShardKeys = (day: string): string[] => Array.from({ length: STATS_SHARDS }, (_, n) => statsShardKey(day, n));
/** The last day folded (lib/operator/fold.ts): days up to it are read from their day item alone. */
export const STATS_FOLD_KEY = 'META#stats-fold';
const DAY_MS = 86_400_000;
/** The UTC day `days` days after that of the ISO instant `now`. */
export const utcDayOf = (now: string, days = 0): string => new Date(Date.parse(now) + days * DAY_MS).toISOString().slice(0, 10);

/** A stable hash of a seed (a CallSid, a number) into 0..STATS_SHARDS-1. */
export function statsShardOf(seed: string): number {
  let hash = 2166136261;
  for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 16777619) >>> 0;
  return hash % STATS_SHARDS;
}

/** The counters item a write for `day` at `now` goes to: a shard while the day is live, else the day item. */
export const statsWriteKey = (day: string, seed: string, now: string): string =>
  day >= utcDayOf(now, -1) ? statsShardKey(day, statsShardOf(seed)) : statsKey(day);
export const contactKey = (e164: string): string => `CONTACT#${e164}`;
export const WATERMARK_KEY = 'META#reconcile';
/** One reconciliation at a time (lib/reconcile/lease.ts). */
export const RECONCILE_LEASE_KEY = 'META#reconcile-lease';
/** One reconciliation run (lib/reconcile/runs.ts), listed newest first in the contacts index under its own partition. */
export const reconcileRunKey = (runId: string): string => `RUN#${runId}`;
export const RECONCILE_RUNS_PARTITION = 'RECONCILE#runs';
export const textBackKey = (e164: string): string => `TEXTBACK#${e164}`;

/** The global secondary index of contacts, most recently missed first (`GET /contacts`). */
export const CONTACTS_INDEX = 'byLastMissed';
export const CONTACT_SHARDS = 8;
const contactShardKey = (n: number): string => `CONTACTS#${n}`;
/** Every partition of the contacts index. */
export const contactShards = (): string[] => Array.from({ length: CONTACT_SHARDS }, (_, n) => contactShardKey(n));

/** A stable hash of a number into 0..7: spreads index writes over 8 partition keys. */
function shardOf(e164: string): number {
  let hash = 0;
  for (const char of e164) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % CONTACT_SHARDS;
}

/** The index partition of a number in the contacts index. */
export const contactShard = (e164: string): string => contactShardKey(shardOf(e164));

/** The callbacks index (`GET /callbacks`): open callbacks oldest first, resolutions newest first. */
export const CALLBACKS_INDEX = 'byCallbackState';
export type CallbackIndexState = 'open' | 'resolved';
const callbackShardKey = (state: CallbackIndexState, n: number): string => `CALLBACKS#${state}#${n}`;
export const callbackShard = (state: CallbackIndexState, e164: string): string => callbackShardKey(state, shardOf(e164));
export const callbackShards = (state: CallbackIndexState): string[] =>
  Array.from({ length: CONTACT_SHARDS }, (_, n) => callbackShardKey(state, n));
export const resolutionKey = (e164: string, id: string): string => `RESOLUTION#${e164}#${id}`;
/** What the `byCallbackState` index projects (resources/table.yml says the same). */
export const CALLBACK_INDEX_ATTRIBUTES = ['phone', 'callback', 'resolution'] as const;
export const CALLBACK_SORT_KEY = /^\d{4}-[^#]+#\+\d+(#.+)?$/;

/** The index sort key of a contact: `<lastMissedAt>#<phone>`; cursors carry it. */
export const contactSortKey = (lastMissedAt: string, e164: string): string => `${lastMissedAt}#${e164}`;
export const CONTACT_SORT_KEY = /^\d{4}-.+#\+\d+$/;

// ---- reading items ------------------------------------------------------------------------------

/**
 * `parse()`'s item, or undefined (with a warning) when it cannot be read: a read API leaves such an
 * item out rather than failing the whole request. The message never holds the key (a full number).
 */
export function readable<T>(parse: () => T, what: string): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidItemError)) throw error;
    logger.warn(`Unreadable ${what} left out`, { reason: error.message });
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set);
}

export function requireString(item: Readonly<Record<string, unknown>>, name: string): string {
  const value = item[name];
  if (typeof value !== 'string' || value === '') throw new InvalidItemError(`${name} must be a non-empty string`);
  return value;
}

function requireNumber(item: Readonly<Record<string, unknown>>, name: string): number {
  const value = item[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidItemError(`${name} must be a number`);
  return value;
}

export function isMissedStatus(value: unknown): value is MissedStatus {
  return MISSED_STATUSES.some((status) => status === value);
}

function isSource(value: unknown): value is Source {
  return SOURCES.some((source) => source === value);
}

function requireMissedStatus(item: Readonly<Record<string, unknown>>, name: string): MissedStatus {
  const value = item[name];
  if (!isMissedStatus(value)) throw new InvalidItemError(`${name} is not a missed-call status`);
  return value;
}

function strings(value: unknown): string[] {
  const list = value instanceof Set ? [...value] : Array.isArray(value) ? value : [];
  return list.filter((entry): entry is string => typeof entry === 'string');
}

// ---- the call item ------------------------------------------------------------------------------

const DAY_SECONDS = 86_400;

/** A call item as stored; `legSids` is a string set, `expiresAt` the TTL attribute. */
export type CallItem = Omit<MissedCall, 'rootCallSid' | 'legCallSids'> & {
  pk: string;
  type: 'call';
  /** The root CallSid. */
  callSid: string;
  legSids: Set<string>;
  /** When the call happened as far as known: start, else Twilio's report, else recording time. */
  occurredAt: string;
  recordedAt: string;
  /** The UTC day of `occurredAt`, whose counters the call is counted on. */
  day: string;
  expiresAt: number;
};

/** The item a missed call becomes. */
export function callItem(call: MissedCall, recordedAt: Date, retentionDays: number): CallItem {
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
    line: call.line,
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

/** What the reconciliation needs to know of a recorded call (projection `KNOWN_CALL_PROJECTION`). */
export interface KnownCall {
  hasCustomer: boolean;
  legSids: ReadonlySet<string>;
}
export const KNOWN_CALL_PROJECTION = 'pk, customer, legSids';

/** A call item read with `KNOWN_CALL_PROJECTION`: its root CallSid and what is known of it. */
export function parseKnownCall(item: Readonly<Record<string, unknown>>): { rootCallSid: string; known: KnownCall } {
  return {
    rootCallSid: callSidOfKey(requireString(item, 'pk')),
    known: { hasCustomer: typeof item.customer === 'string', legSids: new Set(strings(item.legSids)) },
  };
}

/** A call whose customer is known and whose contact is not applied yet (the contacts' work). */
export interface PendingCall {
  rootCallSid: string;
  customer: string;
  /** The Twilio number the customer tried; '' when unknown. */
  line: string;
  status: MissedStatus;
  occurredAt: string;
  day: string;
}

/**
 * The pending call in a call item, or undefined when the item needs no contact work (not a
 * call, customer not known yet, already applied).
 * @throws InvalidItemError when a call item is malformed.
 */
export function parsePendingCall(item: Readonly<Record<string, unknown>>): PendingCall | undefined {
  if (item.type !== 'call' || item.customer === undefined || item.contactAppliedAt !== undefined) return undefined;
  const status = requireMissedStatus(item, 'status');
  const occurredAt = requireString(item, 'occurredAt');
  if (Number.isNaN(Date.parse(occurredAt))) throw new InvalidItemError('occurredAt is not a timestamp');
  return {
    rootCallSid: requireString(item, 'callSid'),
    customer: requireString(item, 'customer'),
    line: typeof item.line === 'string' ? item.line : '',
    status,
    occurredAt,
    day: requireString(item, 'day'),
  };
}

/** A contact's missed call as `GET /contacts/{phone}` shows it. */
export interface CallSummary {
  callSid: string;
  status: MissedStatus;
  occurredAt: string;
  source: Source;
  direction: string;
}
export const CALL_SUMMARY_PROJECTION = {
  ProjectionExpression: 'callSid, #status, occurredAt, #source, direction',
  ExpressionAttributeNames: { '#status': 'status', '#source': 'source' },
};

/** @throws InvalidItemError when the item is not a call as recorded. */
export function parseCallSummary(item: Readonly<Record<string, unknown>>): CallSummary {
  const source = item.source;
  if (!isSource(source)) throw new InvalidItemError('source is not a known source');
  return {
    callSid: requireString(item, 'callSid'),
    status: requireMissedStatus(item, 'status'),
    occurredAt: requireString(item, 'occurredAt'),
    source,
    direction: typeof item.direction === 'string' ? item.direction : '',
  };
}

// ---- the day counters ---------------------------------------------------------------------------

/** The callback counters of one day (`callbacks:*`, written by lib/callbacks/store.ts). */
export interface DayCallbackCounts {
  /** Episodes whose first miss was on the day. */
  opened: number;
  /** Resolutions whose resolving call started (or mark was made) on the day, by kind. */
  resolved: Record<ResolvedBy, number>;
  within: Record<WithinBucket, number>;
  /** Sum of the day's times to callback (exact). */
  secondsToCallback: number;
  /** Fine buckets of the times to callback: upper bound in seconds (or `inf`) → count. */
  ttc: Record<string, number>;
}

/** The counters of one day: `total`, `status:<s>`, `source:<s>`, `anonymous`, `contactsCreated`, `callbacks:*`. */
export interface DayCounts {
  totals: { total: number } & Record<MissedStatus, number>;
  bySource: Record<Source, number>;
  anonymous: number;
  contactsCreated: number;
  callbacks: DayCallbackCounts;
  /** Texts to callers whose callback opened on the day (TEXT_BACK=on): one outcome per opened callback. */
  textBack: {
    sent: number;
    skipped: Record<(typeof SKIP_REASONS)[number], number>;
    failed: Record<(typeof FAIL_REASONS)[number], number>;
    /** Claimed, then the sender stopped before Twilio's answer was recorded: maybe sent, never sent twice. */
    unknown: number;
  };
}

/** 1 for each of `names`. */
export const ones = (...names: string[]): Map<string, number> => new Map(names.map((name) => [name, 1]));

/** The counters one recorded missed call increments. */
export const missedCallCounters = (status: MissedStatus, source: Source): Map<string, number> =>
  ones('total', `status:${status}`, `source:${source}`);

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

/** A day's counters item (absent = all zero); a counter that is not a number counts 0. */
export function parseDayCounts(item: Readonly<Record<string, unknown>> | undefined): DayCounts {
  const num = (name: string): number => {
    const value = item?.[name];
    return typeof value === 'number' ? value : 0;
  };
  const status = (s: MissedStatus) => num(`status:${s}`);
  const source = (s: Source) => num(`source:${s}`);
  return {
    totals: {
      total: num('total'),
      'no-answer': status('no-answer'),
      busy: status('busy'),
      failed: status('failed'),
      canceled: status('canceled'),
    },
    bySource: { webhook: source('webhook'), 'dial-action': source('dial-action'), reconcile: source('reconcile') },
    anonymous: num('anonymous'),
    contactsCreated: num('contactsCreated'),
    callbacks: {
      opened: num('callbacks:opened'),
      resolved: {
        callback: num('callbacks:resolved:callback'),
        'returned-call': num('callbacks:resolved:returned-call'),
        operator: num('callbacks:resolved:operator'),
      },
      within: {
        '15m': num('callbacks:within:15m'),
        '1h': num('callbacks:within:1h'),
        '4h': num('callbacks:within:4h'),
        '24h': num('callbacks:within:24h'),
        later: num('callbacks:within:later'),
      },
      secondsToCallback: num('callbacks:secondsToCallback'),
      ttc: Object.fromEntries([...TTC_BOUNDS.map(String), 'inf'].map((bound) => [bound, num(`callbacks:ttc:${bound}`)])),
    },
    textBack: {
      sent: num('textback:sent'),
      skipped: Object.fromEntries(SKIP_REASONS.map((r) => [r, num(`textback:skipped:${r}`)])) as DayCounts['textBack']['skipped'],
      failed: Object.fromEntries(FAIL_REASONS.map((r) => [r, num(`textback:failed:${r}`)])) as DayCounts['textBack']['failed'],
      unknown: num('textback:unknown'),
    },
  };
}

/**
 * The one transaction that records a call: the conditional put of its item and the increment of
 * its day's counters. Together or not at all, so the counts stay exact under duplicate deliveries.
 */
export function recordCallTransaction(tableName: string, item: CallItem, now: Date): TransactWriteCommandInput {
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
      { Update: addToDay(tableName, item.day, missedCallCounters(item.status, item.source), now.toISOString(), item.callSid) },
    ],
  };
}

// ---- the contact item ---------------------------------------------------------------------------

export const RECENT_CALLS = 100;

export type Contact = {
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
  /** Index keys of `byLastMissed`: {@link contactShard} and {@link contactSortKey}. */
  gsi1pk: string;
  gsi1sk: string;
  /** Optimistic-concurrency version: every write expects the version it read. */
  version: number;
  /** The callback worklist's facts (lib/callbacks/model.ts). */
  callbacks: CallbackState;
  /** The open callback, while there is one, with its `byCallbackState` index keys. */
  callback?: OpenCallback;
  gsi2pk?: string;
  gsi2sk?: string;
};

/**
 * A contact item, checked field by field. The contacts store refuses to overwrite one it cannot
 * read; the read API leaves it out of a listing. The message never holds the key (a full number).
 * @throws InvalidItemError when the item is malformed.
 */
export function parseContact(item: Readonly<Record<string, unknown>>): Contact {
  const statusCounts: Partial<Record<MissedStatus, number>> = {};
  const counts = item.statusCounts;
  if (isRecord(counts)) {
    for (const status of MISSED_STATUSES) {
      const n = counts[status];
      if (typeof n === 'number') statusCounts[status] = n;
    }
  }
  return {
    ...parseContactSummary(item),
    pk: requireString(item, 'pk'),
    type: 'contact',
    statusCounts,
    createdAt: requireString(item, 'createdAt'),
    updatedAt: requireString(item, 'updatedAt'),
    recentCallSids: strings(item.recentCallSids),
    gsi1pk: requireString(item, 'gsi1pk'),
    gsi1sk: requireString(item, 'gsi1sk'),
    version: requireNumber(item, 'version'),
    ...callbackFields(requireString(item, 'phone'), parseCallbackState(item.callbacks)),
  };
}

/** What the `byLastMissed` index projects of a contact (resources/table.yml says the same). */
export const CONTACT_SUMMARY_ATTRIBUTES = ['phone', 'missedCount', 'firstMissedAt', 'lastMissedAt', 'lastCallSid', 'lastStatus'] as const;
export type ContactSummary = Pick<Contact, (typeof CONTACT_SUMMARY_ATTRIBUTES)[number]>;

/**
 * A contact as the index projects it (and as `GET /contacts` lists it).
 * @throws InvalidItemError when the item is malformed.
 */
export function parseContactSummary(item: Readonly<Record<string, unknown>>): ContactSummary {
  return {
    phone: requireString(item, 'phone'),
    missedCount: requireNumber(item, 'missedCount'),
    firstMissedAt: requireString(item, 'firstMissedAt'),
    lastMissedAt: requireString(item, 'lastMissedAt'),
    lastCallSid: requireString(item, 'lastCallSid'),
    lastStatus: requireMissedStatus(item, 'lastStatus'),
  };
}

// ---- the watermark item -------------------------------------------------------------------------

/** The end of the last fully reconciled window, or undefined before the first run. */
export function parseWatermark(item: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const end = item?.windowEnd;
  return typeof end === 'string' ? end : undefined;
}

// ---- callbacks ----------------------------------------------------------------------------------

/** The open callback of a number as the contact and the index show it. */
export interface OpenCallback {
  openSince: string;
  openMissedCount: number;
  lastMissedAt: string;
  lastStatus: MissedStatus;
  line: string;
}

const openCallback = (episode: Episode): OpenCallback => ({
  openSince: episode.openSince,
  openMissedCount: episode.missedCount,
  lastMissedAt: episode.lastMissedAt,
  lastStatus: episode.lastStatus,
  line: episode.line,
});

/** The contact's callback attributes for a state: the facts, and the open callback with its index keys. */
export function callbackFields(phone: string, state: CallbackState): Pick<Contact, 'callbacks' | 'callback' | 'gsi2pk' | 'gsi2sk'> {
  const { open } = episodes(state);
  if (open === undefined) return { callbacks: state };
  return {
    callbacks: state,
    callback: openCallback(open),
    gsi2pk: callbackShard('open', phone),
    gsi2sk: `${open.openSince}#${phone}`,
  };
}

function isResolvedBy(value: unknown): value is ResolvedBy {
  return RESOLVED_BY.some((by) => by === value);
}

/**
 * The callback facts kept on a contact; absent (a contact older than callbacks) is empty.
 * @throws InvalidItemError when they are malformed.
 */
export function parseCallbackState(value: unknown): CallbackState {
  if (value === undefined) return EMPTY_STATE;
  if (!isRecord(value) || !Array.isArray(value.misses) || !Array.isArray(value.calls)) throw new InvalidItemError('callbacks is malformed');
  const misses = value.misses.map((miss) => {
    if (!isRecord(miss)) throw new InvalidItemError('callbacks.misses is malformed');
    return {
      callSid: requireString(miss, 'callSid'),
      at: requireString(miss, 'at'),
      status: requireMissedStatus(miss, 'status'),
      line: typeof miss.line === 'string' ? miss.line : '',
    };
  });
  const calls = value.calls.map((call) => {
    if (!isRecord(call) || !isResolvedBy(call.by)) throw new InvalidItemError('callbacks.calls is malformed');
    return {
      id: requireString(call, 'id'),
      at: requireString(call, 'at'),
      by: call.by,
      ...(typeof call.note === 'string' ? { note: call.note } : {}),
    };
  });
  const archivedBefore = value.archivedBefore;
  return { misses, calls, ...(typeof archivedBefore === 'string' ? { archivedBefore } : {}) };
}

/** A resolution as stored on its item and listed by `GET /callbacks?state=resolved`. */
export type ResolutionSummary = Omit<Resolution, 'callSids' | 'note' | 'resolvingCallSid'> & {
  phone: string;
  resolvingCallSid?: string;
  note?: string;
};

export function resolutionSummary(phone: string, r: Resolution): ResolutionSummary {
  const { callSids: _callSids, note, resolvingCallSid, ...rest } = r;
  return { phone, ...rest, ...(resolvingCallSid === undefined ? {} : { resolvingCallSid }), ...(note === undefined ? {} : { note }) };
}

/** The item of one resolution (in the resolved index), or its tombstone when a change undid it. */
export function resolutionItem(phone: string, r: Resolution): Record<string, unknown> {
  return {
    pk: resolutionKey(phone, r.id),
    type: 'resolution',
    phone,
    resolution: resolutionSummary(phone, r),
    gsi2pk: callbackShard('resolved', phone),
    gsi2sk: `${r.resolvedAt}#${phone}#${r.id}`,
  };
}

/** A resolution that a later fact moved to another call: kept as a tombstone, out of the index. */
export const resolutionTombstone = (phone: string, id: string): Record<string, unknown> => ({
  pk: resolutionKey(phone, id),
  type: 'resolution',
  phone,
  supersededBy: 'a call that reached the number earlier',
});

/**
 * A resolution item's summary, as listed.
 * @throws InvalidItemError when malformed.
 */
export function parseResolutionSummary(item: Readonly<Record<string, unknown>>): ResolutionSummary {
  const r = item.resolution;
  if (!isRecord(r) || !isResolvedBy(r.resolvedBy)) throw new InvalidItemError('resolution is malformed');
  return {
    phone: requireString(r, 'phone'),
    id: requireString(r, 'id'),
    openSince: requireString(r, 'openSince'),
    lastMissedAt: requireString(r, 'lastMissedAt'),
    missedCount: requireNumber(r, 'missedCount'),
    lastStatus: requireMissedStatus(r, 'lastStatus'),
    line: typeof r.line === 'string' ? r.line : '',
    resolvedAt: requireString(r, 'resolvedAt'),
    resolvedBy: r.resolvedBy,
    secondsToCallback: requireNumber(r, 'secondsToCallback'),
    ...(typeof r.resolvingCallSid === 'string' ? { resolvingCallSid: r.resolvingCallSid } : {}),
    ...(typeof r.note === 'string' ? { note: r.note } : {}),
  };
}

// ---- text-back ----------------------------------------------------------------------------------

const EPISODE_STATES = ['claimed', 'sent', 'skipped', 'failed', 'unknown'] as const;

function parseEpisode(value: unknown): TextBackEpisode | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !EPISODE_STATES.some((s) => s === value.state)) throw new InvalidItemError('episode is malformed');
  const episode: TextBackEpisode = { openSince: requireString(value, 'openSince'), state: value.state as TextBackEpisode['state'] };
  for (const name of ['claimedAt', 'messageSid', 'sentAt', 'reason'] as const) {
    if (typeof value[name] === 'string') Object.assign(episode, { [name]: value[name] });
  }
  if (typeof value.errorCode === 'number') episode.errorCode = value.errorCode;
  return episode;
}

/** The `TEXTBACK#<E.164>` item; undefined when there is none. @throws InvalidItemError */
export function parseTextBackRecord(item: Readonly<Record<string, unknown>> | undefined): TextBackRecord | undefined {
  if (item === undefined) return undefined;
  const record: TextBackRecord = { phone: requireString(item, 'phone'), version: requireNumber(item, 'version') };
  const episode = parseEpisode(item.episode);
  if (episode !== undefined) record.episode = episode;
  if (typeof item.lastSentAt === 'string') record.lastSentAt = item.lastSentAt;
  if (typeof item.optedOutAt === 'string') record.optedOutAt = item.optedOutAt;
  const nt = item.notTextable;
  if (isRecord(nt) && (nt.reason === 'not-mobile' || nt.reason === 'invalid-number') && typeof nt.at === 'string')
    record.notTextable = { reason: nt.reason, at: nt.at };
  return record;
}

/** What a callback shows of its text-back: `{ state, messageSid, sentAt | reason }`. */
export type TextBackSummary = Pick<TextBackEpisode, 'state' | 'messageSid' | 'sentAt' | 'reason' | 'errorCode'>;

export function textBackSummary(episode: TextBackEpisode): TextBackSummary {
  const { openSince: _openSince, claimedAt: _claimedAt, ...shown } = episode;
  return shown;
}

/** The text-back of the callback that opened at `openSince`, or null (none, or another callback's). */
export function callbackTextBack(record: TextBackRecord | undefined, openSince: string): TextBackSummary | null {
  return record?.episode?.openSince === openSince ? textBackSummary(record.episode) : null;
}

/** What a contact shows of its text-back: the last opened callback's, and whether the number may be texted. */
export type ContactTextBack = TextBackSummary & {
  openSince: string;
  optedOut: boolean;
  notTextable: 'not-mobile' | 'invalid-number' | null;
};

export function contactTextBack(record: TextBackRecord | undefined): ContactTextBack | null {
  if (record?.episode === undefined) return null;
  return {
    openSince: record.episode.openSince,
    ...textBackSummary(record.episode),
    optedOut: record.optedOutAt !== undefined,
    notTextable: record.notTextable?.reason ?? null,
  };
}

/**
 * The callback a contact's stream record opened, or undefined: its open callback appears, or
 * starts later than before (the earlier one was resolved). The events function and the
 * text-back function read openings alike.
 */
export function callbackOpening(
  oldImage: Readonly<Record<string, unknown>> | undefined,
  newImage: Readonly<Record<string, unknown>> | undefined,
): { phone: string; callback: Record<string, unknown> & { openSince: string } } | undefined {
  if (newImage?.type !== 'contact' || !isRecord(newImage.callback)) return undefined;
  const openSince = newImage.callback.openSince;
  const before = isRecord(oldImage?.callback) ? oldImage.callback.openSince : undefined;
  const phone = newImage.phone;
  if (typeof openSince !== 'string' || typeof phone !== 'string') return undefined;
  if (typeof before === 'string' && openSince <= before) return undefined;
  return { phone, callback: { ...newImage.callback, openSince } };
}
