/**
 * `GET /stats`: the day counters of a date range (lib/ledger/day-counters.ts), read with one
 * GetItem (the fold mark) and BatchGetItem only (never a scan or a query of call items): each
 * day's item, plus the 64 shards of the days not folded yet (today, yesterday, the day before).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTEMPT_OUTCOMES } from '../callbacks/attempts.js';
import { callbackDayCounts, type DayCallbackCounts, RESOLVED_BY, type ResolvedBy, reachedKind, TTC_BOUNDS } from '../callbacks/model.js';
import { type ContactDayCounts, contactDayCounts } from '../contacts/item.js';
import { type CallDayCounts, callDayCounts } from '../ledger/call-item.js';
import { MISSED_STATUSES, SOURCES } from '../ledger/calls.js';
import { counterReader, readDayCounters } from '../ledger/day-counters.js';
import { MISSED_REASONS } from '../ledger/outcome.js';
import { HttpError } from '../platform/request.js';
import { FAIL_REASONS, SKIP_REASONS, type TextBackDayCounts, textBackDayCounts } from '../textback/item.js';

export const MAX_STATS_DAYS = 366;
const DAY_MS = 86_400_000;

/** The counters of one day, each feature's read by that feature. */
export type DayCounts = CallDayCounts & ContactDayCounts & { callbacks: DayCallbackCounts; textBack: TextBackDayCounts };
export type Counts = DayCounts;

/** A day's counters item (absent = all zero); a counter that is not a number counts 0. */
export function parseDayCounts(item: Readonly<Record<string, unknown>> | undefined): DayCounts {
  const count = counterReader(item);
  return { ...callDayCounts(count), ...contactDayCounts(count), callbacks: callbackDayCounts(count), textBack: textBackDayCounts(count) };
}

/** The callbacks of a day or a range, as `GET /stats` shows them. */
export interface CallbackStats {
  opened: number;
  resolved: Record<ResolvedBy | 'total', number>;
  within: DayCallbackCounts['within'];
  /**
   * The median time to callback, read from the fine buckets: the upper bound (seconds) of the
   * bucket that holds the median; null without resolutions or beyond the last bound (72 h).
   */
  medianSecondsToCallback: number | null;
  /** The exact mean, in whole seconds; null without resolutions (`unreachable` closes are not callbacks). */
  averageSecondsToCallback: number | null;
  /** Calls back through Twilio that got their outcome, by outcome, by the day they were placed. */
  attempts: DayCallbackCounts['attempts'] & { total: number };
  /** Calls back through Twilio placed per resolution (all kinds, a resolution without any counts 0); null without resolutions. */
  attemptsPerResolution: number | null;
}

type Shown = Omit<Counts, 'callbacks'> & { callbacks: CallbackStats };

export interface StatsResponse extends Shown {
  from: string;
  to: string;
  /** Open callbacks at the time of the request (all days). */
  openNow: number;
  days: ({ day: string } & Shown)[];
}

/** The median's bucket bound of fine-bucket counts; null when empty or in the open-ended bucket. */
export function medianFromBuckets(ttc: Readonly<Record<string, number>>): number | null {
  const buckets = [...TTC_BOUNDS.map((bound) => [String(bound), bound] as const), ['inf', null] as const];
  const total = buckets.reduce((sum, [key]) => sum + (ttc[key] ?? 0), 0);
  if (total === 0) return null;
  let seen = 0;
  for (const [key, bound] of buckets) {
    seen += ttc[key] ?? 0;
    if (seen * 2 >= total) return bound;
  }
  return null;
}

function shown(counts: Counts): Shown {
  const { callbacks, ...rest } = counts;
  const resolvedTotal = RESOLVED_BY.reduce((sum, by) => sum + callbacks.resolved[by], 0);
  const called = RESOLVED_BY.filter(reachedKind).reduce((sum, by) => sum + callbacks.resolved[by], 0);
  const attemptsTotal = ATTEMPT_OUTCOMES.reduce((sum, outcome) => sum + callbacks.attempts[outcome], 0);
  return {
    ...rest,
    callbacks: {
      opened: callbacks.opened,
      resolved: { ...callbacks.resolved, total: resolvedTotal },
      within: callbacks.within,
      medianSecondsToCallback: medianFromBuckets(callbacks.ttc),
      averageSecondsToCallback: called === 0 ? null : Math.round(callbacks.secondsToCallback / called),
      attempts: { ...callbacks.attempts, total: attemptsTotal },
      attemptsPerResolution: resolvedTotal === 0 ? null : Math.round((callbacks.attemptsResolved / resolvedTotal) * 100) / 100,
    },
  };
}

function parseDay(value: string | null, name: string): Date | undefined {
  if (value === null || value === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new HttpError(400, `${name} must be a date as YYYY-MM-DD`);
  }
  return new Date(ms);
}

/**
 * The days of a `from`/`to` query (inclusive, UTC); by default the last 30 days to today.
 * @throws HttpError 400 naming the parameter.
 */
export function statsRange(query: URLSearchParams, today: Date): { from: string; to: string; days: string[] } {
  const to = parseDay(query.get('to'), 'to') ?? new Date(Date.parse(today.toISOString().slice(0, 10)));
  const from = parseDay(query.get('from'), 'from') ?? new Date(to.getTime() - 29 * DAY_MS);
  if (from > to) throw new HttpError(400, 'from must not be after to');
  const count = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
  if (count > MAX_STATS_DAYS) throw new HttpError(400, `from..to spans ${count} days; at most ${MAX_STATS_DAYS} a request`);
  const days = Array.from({ length: count }, (_, i) => new Date(from.getTime() + i * DAY_MS).toISOString().slice(0, 10));
  return { from: days[0] ?? '', to: days.at(-1) ?? '', days };
}

function add(sum: Counts, day: Counts): void {
  for (const key of ['total', ...MISSED_STATUSES] as const) sum.totals[key] += day.totals[key];
  for (const source of SOURCES) sum.bySource[source] += day.bySource[source];
  for (const reason of MISSED_REASONS) sum.byReason[reason] += day.byReason[reason];
  sum.afterHours += day.afterHours;
  sum.anonymous += day.anonymous;
  sum.contactsCreated += day.contactsCreated;
  const [a, b] = [sum.callbacks, day.callbacks];
  a.opened += b.opened;
  for (const by of RESOLVED_BY) a.resolved[by] += b.resolved[by];
  for (const key of Object.keys(a.within) as (keyof typeof a.within)[]) a.within[key] += b.within[key];
  a.secondsToCallback += b.secondsToCallback;
  a.attemptsResolved += b.attemptsResolved;
  for (const outcome of ATTEMPT_OUTCOMES) a.attempts[outcome] += b.attempts[outcome];
  for (const [bound, n] of Object.entries(b.ttc)) a.ttc[bound] = (a.ttc[bound] ?? 0) + n;
  const [t, u] = [sum.textBack, day.textBack];
  t.sent += u.sent;
  t.unknown += u.unknown;
  for (const reason of SKIP_REASONS) t.skipped[reason] += u.skipped[reason];
  for (const reason of FAIL_REASONS) t.failed[reason] += u.failed[reason];
}

/** Reads the counters of `days` and sums them; `openNow` is counted by the caller (lib/operator/callbacks.ts). */
export async function readStats(
  client: DynamoDBDocumentClient,
  tableName: string,
  range: { from: string; to: string; days: string[] },
  options: { maxAttempts?: number; sleep?: (ms: number) => Promise<void>; openNow?: () => Promise<number>; now?: Date } = {},
): Promise<StatsResponse> {
  const found = await readDayCounters(client, tableName, range.days, options);
  const sum = parseDayCounts(undefined);
  const days = range.days.map((day) => {
    const counts = parseDayCounts(found.get(day));
    add(sum, counts);
    return { day, ...shown(counts) };
  });
  const openNow = options.openNow === undefined ? 0 : await options.openNow();
  return { from: range.from, to: range.to, ...shown(sum), openNow, days };
}
