/**
 * The single table's key and index map: every partition key, index name, index key and index
 * projection, and nothing else. Each entity's item shape, builder and parser lives with the code
 * that owns the entity (the "codec" column); `resources/table.yml` declares the same keys and
 * indexes.
 *
 * | pk                        | item                                          | codec                          |
 * |---------------------------|-----------------------------------------------|--------------------------------|
 * | `CALL#<root CallSid>`     | one missed call (TTL `expiresAt`)             | lib/ledger/call-item.ts        |
 * | `STATS#<YYYY-MM-DD>`      | that day's counters (folded, or written late) | lib/ledger/day-counters.ts     |
 * | `STATS#<day>#<0..63>`     | a shard of a live day's counters             | lib/ledger/day-counters.ts     |
 * | `META#stats-fold`         | the last day folded into its day item         | lib/ledger/day-counters.ts     |
 * | `CONTACT#<E.164>`         | one missed caller, its callback worklist      | lib/contacts/item.ts, lib/callbacks/item.ts |
 * | `RESOLUTION#<E.164>#<id>` | one resolved callback (history)               | lib/callbacks/item.ts          |
 * | `META#reconcile`          | the reconciliation watermark                  | lib/reconcile/watermark.ts     |
 * | `META#reconcile-lease`    | the running reconciliation and its expiry     | lib/reconcile/lease.ts         |
 * | `RUN#<runId>`             | one reconciliation run (TTL 90 days)          | lib/reconcile/runs.ts          |
 * | `TEXTBACK#<E.164>`        | the number's text-back state                  | lib/textback/item.ts           |
 * | `CALLING#<E.164>`         | calls back through Twilio: attempts, claim    | lib/callbacks/calling.ts       |
 * | `PERSON#<sub>`            | an admin's latest word on a person: role, disabled | lib/auth/standing.ts      |
 * | `AUDIT#<at>#<id>`         | one operator action: who, what, when (TTL `AUDIT_RETENTION_DAYS`) | lib/audit/trail.ts |
 *
 * Index `byLastMissed` (gsi1) also holds, under partitions of their own, the reconciliation runs
 * (`RECONCILE#runs`), the audit trail (`AUDIT#log`, newest first) and the call items not decided yet (`SETTLE#<0..7>`, sorted by when they settle).
 */

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
 * (lib/ledger/day-counters.ts, run nightly by the reconcile function) adds a settled day's shards into its day item and marks it folded;
 * readers sum the day item and its shards until then, and the day item alone after.
 */
export const STATS_SHARDS = 64;
export const statsShardKey = (day: string, shard: number): string => `STATS#${day}#${shard}`;
export const statsShardKeys = (day: string): string[] => Array.from({ length: STATS_SHARDS }, (_, n) => statsShardKey(day, n));
/** The last day folded (lib/ledger/day-counters.ts): days up to it are read from their day item alone. */
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
/** A customer's call-back attempts through Twilio and the claim of whoever calls them (lib/callbacks/calling.ts). */
export const callingKey = (e164: string): string => `CALLING#${e164}`;
/** What admins last decided about a person (their role, disabled), checked on each of their requests (lib/auth/standing.ts). */
export const personKey = (sub: string): string => `PERSON#${sub}`;
/** One operator action (lib/audit/trail.ts), listed newest first in the `byLastMissed` index under `AUDIT#log`. */
export const auditKey = (at: string, id: string): string => `AUDIT#${at}#${id}`;
export const AUDIT_PARTITION = 'AUDIT#log';
/** An audit entry's index sort key: `<at>#<id>`; cursors carry it. */
export const AUDIT_SORT_KEY = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f]{8}$/;

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

/** What the `byLastMissed` index projects of a contact (resources/table.yml says the same). */
export const CONTACT_SUMMARY_ATTRIBUTES = ['phone', 'missedCount', 'firstMissedAt', 'lastMissedAt', 'lastCallSid', 'lastStatus'] as const;

/** Call items not decided yet, in the `byLastMissed` index: `SETTLE#<0..7>`, sort key = when they settle. */
export const SETTLE_INDEX = 'byLastMissed';
const settleShardKey = (n: number): string => `SETTLE#${n}`;
export const settleShard = (callSid: string): string => settleShardKey(shardOf(callSid));
export const settleShards = (): string[] => Array.from({ length: CONTACT_SHARDS }, (_, n) => settleShardKey(n));

/** The index sort key of a contact: `<lastMissedAt>#<phone>`; cursors carry it. */
export const contactSortKey = (lastMissedAt: string, e164: string): string => `${lastMissedAt}#${e164}`;
export const CONTACT_SORT_KEY = /^\d{4}-.+#\+\d+$/;
