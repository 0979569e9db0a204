/**
 * The callback worklist of one number, as a pure function of facts: the misses of that number
 * and the answered calls (or operator marks) that reached it. Episodes are DERIVED, never
 * updated in place, so the result is the same in any order of arrival:
 *
 * - each miss belongs to the first resolving call that STARTED after it (`resolvedAt` is that
 *   call's start, or the operator's mark); a miss with no such call is open;
 * - a resolving call that covers no miss resolves nothing and is not kept (a miss applied late
 *   asks Twilio instead whether the number was reached after it: `reachedSince` of addMiss);
 * - the day counters (`callbacks:*` on `STATS#<day>`) are a function of the episodes, and a
 *   change is written as the difference between the counters before and after.
 *
 * What is kept is bounded (the newest {@link MAX_RESOLUTIONS} resolving calls and their misses,
 * at most {@link MAX_OPEN_MISSES} open misses); older facts are archived: they stay counted and
 * a late miss older than the archive boundary no longer changes any episode.
 */
import type { Voicemail } from '../ledger/call-item.js';
import type { MissedStatus } from '../ledger/calls.js';
import type { CounterReader } from '../ledger/day-counters.js';
import type { MissedReason } from '../ledger/outcome.js';
import { ATTEMPT_OUTCOMES, type AttemptOutcome } from './attempts.js';

/**
 * How a callback was closed: the customer reached by a call back (`callback`) or by calling again
 * (`returned-call`), a person's mark (`operator`), or closed as `unreachable` after
 * `CALLBACK_MAX_ATTEMPTS` failed calls back (not a callback: no time to callback is counted).
 */
export const RESOLVED_BY = ['callback', 'returned-call', 'operator', 'unreachable'] as const;
export type ResolvedBy = (typeof RESOLVED_BY)[number];

/** Kinds of resolution that reached the customer (or say so): their times count as times to callback. */
export const reachedKind = (by: ResolvedBy): boolean => by !== 'unreachable';

/** One missed call of the number. `line` is the Twilio number the customer tried ('' if unknown). */
export interface Miss {
  callSid: string;
  at: string;
  status: MissedStatus;
  /** Why it was missed; a miss applied by version 0.1.0 has none (its status stands for it). */
  reason?: MissedReason;
  line: string;
  /** The message the caller left with this call, as the call item says (its transcript once one came). */
  voicemail?: Voicemail;
}

/** An answered call with the number (or an operator's mark): `at` is when it started. */
export interface ResolvingCall {
  /** The resolving CallSid, or `operator:<id>` for a mark. */
  id: string;
  at: string;
  by: ResolvedBy;
  note?: string;
  /** Calls back through Twilio placed on the callback before it closed (none kept: 0). */
  attempts?: number;
  /** Who marked it (a person signed in; a machine's key names nobody). */
  person?: Actor;
}

/** A person who did something, as kept on what they did: their Cognito id and name (never their e-mail). */
export interface Actor {
  id: string;
  name: string;
}

export interface CallbackState {
  misses: Miss[];
  /** Resolving calls that covered at least one miss, oldest first. */
  calls: ResolvingCall[];
  /** Misses before this instant belong to archived episodes. */
  archivedBefore?: string;
}

export interface Episode {
  openSince: string;
  lastMissedAt: string;
  missedCount: number;
  lastStatus: MissedStatus;
  lastReason: MissedReason;
  line: string;
  /** The misses' CallSids, oldest first. */
  callSids: string[];
}

export interface Resolution extends Episode {
  /** The resolving call's id: the key of the resolution. */
  id: string;
  resolvedAt: string;
  resolvedBy: ResolvedBy;
  resolvingCallSid: string | undefined;
  note: string | undefined;
  secondsToCallback: number;
  /** Calls back through Twilio placed on it before it closed. */
  attempts: number;
  /** Who marked it (operator marks and unreachable closes by a person). */
  person?: Actor;
}

export const MAX_RESOLUTIONS = 10;
export const MAX_OPEN_MISSES = 200;

export const EMPTY_STATE: CallbackState = { misses: [], calls: [] };

const byAt = <T extends { at: string }>(a: T, b: T) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);

function episodeOf(misses: readonly Miss[]): Episode {
  const sorted = [...misses].sort(byAt);
  const first = sorted[0];
  const last = sorted.at(-1);
  if (first === undefined || last === undefined) throw new Error('an episode has at least one miss');
  const line = [...sorted].reverse().find((miss) => miss.line !== '')?.line ?? '';
  return {
    openSince: first.at,
    lastMissedAt: last.at,
    missedCount: sorted.length,
    lastStatus: last.status,
    lastReason: last.reason ?? last.status,
    line,
    callSids: sorted.map((miss) => miss.callSid),
  };
}

/** The episodes the facts make: the open one (if any) and one resolution per covering call. */
export function episodes(state: CallbackState): { open: Episode | undefined; resolutions: Resolution[] } {
  const calls = [...state.calls].sort(byAt);
  const covered = new Map<string, Miss[]>();
  const open: Miss[] = [];
  for (const miss of state.misses) {
    const call = calls.find((c) => c.at > miss.at);
    if (call === undefined) open.push(miss);
    else covered.set(call.id, [...(covered.get(call.id) ?? []), miss]);
  }
  const resolutions = calls.flatMap((call): Resolution[] => {
    const misses = covered.get(call.id);
    if (misses === undefined) return [];
    const episode = episodeOf(misses);
    return [
      {
        ...episode,
        id: call.id,
        resolvedAt: call.at,
        resolvedBy: call.by,
        resolvingCallSid: call.by === 'operator' ? undefined : call.id,
        note: call.note,
        attempts: call.attempts ?? 0,
        ...(call.person === undefined ? {} : { person: call.person }),
        secondsToCallback: Math.max(0, Math.round((Date.parse(call.at) - Date.parse(episode.openSince)) / 1000)),
      },
    ];
  });
  return { open: open.length === 0 ? undefined : episodeOf(open), resolutions };
}

/** Archives beyond the newest MAX_RESOLUTIONS resolving calls (their misses go with them). */
function settle(state: CallbackState): CallbackState {
  const calls = [...state.calls].sort(byAt);
  if (calls.length <= MAX_RESOLUTIONS) return { ...state, misses: [...state.misses].sort(byAt), calls };
  const archivedBefore = calls[calls.length - MAX_RESOLUTIONS - 1]?.at ?? '';
  return {
    misses: state.misses.filter((miss) => miss.at >= archivedBefore).sort(byAt),
    calls: calls.slice(-MAX_RESOLUTIONS),
    archivedBefore,
  };
}

/**
 * The state after one more miss. `reachedSince` are answered calls with the number that started
 * after the miss, as Twilio reports them (asked only for a miss applied late): the first of them
 * resolves it. A repeated CallSid, or a miss older than the archive, changes nothing.
 */
export function addMiss(state: CallbackState, miss: Miss, reachedSince: readonly ResolvingCall[] = []): CallbackState {
  if (state.misses.some((known) => known.callSid === miss.callSid)) return state;
  if (state.archivedBefore !== undefined && miss.at < state.archivedBefore) return state;
  const withMiss: CallbackState = { ...state, misses: [...state.misses, miss] };
  // The first call after the miss, kept or reported: a reported one earlier than any kept one is its.
  const keptAfter = [...state.calls].filter((call) => call.at > miss.at).sort(byAt)[0];
  const reported = [...reachedSince]
    .filter((call) => call.at > miss.at && (keptAfter === undefined || call.at < keptAfter.at))
    .sort(byAt)[0];
  if (reported !== undefined) return addCall(withMiss, reported);
  if (keptAfter === undefined && (episodes(state).open?.missedCount ?? 0) >= MAX_OPEN_MISSES) return state;
  return settle(withMiss);
}

/**
 * The state after an answered call (or mark) that reached the number. A call that covers no miss
 * changes nothing and is not kept; once kept, a call stays (a late miss before it is its).
 */
export function addCall(state: CallbackState, call: ResolvingCall): CallbackState {
  if (state.calls.some((known) => known.id === call.id)) return state;
  const next: CallbackState = { ...state, calls: [...state.calls, call] };
  if (!episodes(next).resolutions.some((r) => r.id === call.id)) return state;
  return settle(next);
}

// ---- counters ----------------------------------------------------------------------------------

/** Time-to-callback buckets of `GET /stats`. */
export const WITHIN_BUCKETS = [
  ['15m', 15 * 60],
  ['1h', 3_600],
  ['4h', 4 * 3_600],
  ['24h', 24 * 3_600],
] as const;

/** Finer buckets (upper bounds in seconds) from which the median time to callback is read. */
export const TTC_BOUNDS = [
  60, 120, 300, 600, 900, 1_200, 1_800, 2_700, 3_600, 5_400, 7_200, 10_800, 14_400, 21_600, 28_800, 43_200, 64_800, 86_400, 129_600,
  172_800, 259_200,
] as const;

export type WithinBucket = (typeof WITHIN_BUCKETS)[number][0] | 'later';

export function withinBucket(seconds: number): WithinBucket {
  return WITHIN_BUCKETS.find(([, limit]) => seconds <= limit)?.[0] ?? 'later';
}

/** The fine bucket of a time to callback: its upper bound in seconds, or `inf`. */
export function ttcBucket(seconds: number): string {
  return String(TTC_BOUNDS.find((bound) => seconds <= bound) ?? 'inf');
}

/** Counter increments keyed `<day>` → `<counter>` → n. */
export type CounterChanges = Map<string, Map<string, number>>;

function bump(changes: CounterChanges, day: string, counter: string, n: number): void {
  const counters = changes.get(day) ?? new Map<string, number>();
  counters.set(counter, (counters.get(counter) ?? 0) + n);
  changes.set(day, counters);
}

/** Adds `b`'s counters into `a` (and returns `a`). */
export function mergeCounters(a: CounterChanges, b: CounterChanges): CounterChanges {
  for (const [day, counters] of b) for (const [counter, n] of counters) bump(a, day, counter, n);
  return a;
}

/** The counters the episodes of a state add to the days. */
export function countersOf(state: CallbackState): CounterChanges {
  const changes: CounterChanges = new Map();
  const { open, resolutions } = episodes(state);
  for (const episode of [...resolutions, ...(open === undefined ? [] : [open])])
    bump(changes, episode.openSince.slice(0, 10), 'callbacks:opened', 1);
  for (const r of resolutions) {
    const day = r.resolvedAt.slice(0, 10);
    bump(changes, day, `callbacks:resolved:${r.resolvedBy}`, 1);
    bump(changes, day, 'callbacks:attemptsResolved', r.attempts);
    if (!reachedKind(r.resolvedBy)) continue;
    bump(changes, day, `callbacks:within:${withinBucket(r.secondsToCallback)}`, 1);
    bump(changes, day, `callbacks:ttc:${ttcBucket(r.secondsToCallback)}`, 1);
    bump(changes, day, 'callbacks:secondsToCallback', r.secondsToCallback);
  }
  return changes;
}

/**
 * What to add to the day counters when the state goes from `before` to `after`: counts of
 * episodes archived in between are left as they were (archiving is not a retraction).
 */
export function counterDelta(before: CallbackState, after: CallbackState): CounterChanges {
  const kept: CallbackState = {
    ...before,
    misses: after.archivedBefore === undefined ? before.misses : before.misses.filter((miss) => miss.at >= (after.archivedBefore ?? '')),
    calls: after.archivedBefore === undefined ? before.calls : before.calls.filter((call) => call.at > (after.archivedBefore ?? '')),
  };
  const delta = mergeCounters(new Map(), countersOf(after));
  for (const [day, counters] of countersOf(kept)) for (const [counter, n] of counters) bump(delta, day, counter, -n);
  for (const [day, counters] of delta) {
    for (const [counter, n] of counters) if (n === 0) counters.delete(counter);
    if (counters.size === 0) delta.delete(day);
  }
  return delta;
}

/** The callback counters of one day (`callbacks:*`, from {@link counterDelta}). */
export interface DayCallbackCounts {
  /** Episodes whose first miss was on the day. */
  opened: number;
  /** Resolutions whose resolving call started (or mark was made) on the day, by kind. */
  resolved: Record<ResolvedBy, number>;
  within: Record<WithinBucket, number>;
  /** Sum of the day's times to callback (exact; `unreachable` closes have none). */
  secondsToCallback: number;
  /** Calls back through Twilio placed on the day's resolutions (summed over them). */
  attemptsResolved: number;
  /** Calls back through Twilio that got their outcome, by the day they were placed. */
  attempts: Record<AttemptOutcome, number>;
  /** Fine buckets of the times to callback: upper bound in seconds (or `inf`) → count. */
  ttc: Record<string, number>;
}

export function callbackDayCounts(count: CounterReader): DayCallbackCounts {
  return {
    opened: count('callbacks:opened'),
    resolved: {
      callback: count('callbacks:resolved:callback'),
      'returned-call': count('callbacks:resolved:returned-call'),
      operator: count('callbacks:resolved:operator'),
      unreachable: count('callbacks:resolved:unreachable'),
    },
    within: {
      '15m': count('callbacks:within:15m'),
      '1h': count('callbacks:within:1h'),
      '4h': count('callbacks:within:4h'),
      '24h': count('callbacks:within:24h'),
      later: count('callbacks:within:later'),
    },
    secondsToCallback: count('callbacks:secondsToCallback'),
    attemptsResolved: count('callbacks:attemptsResolved'),
    attempts: Object.fromEntries(ATTEMPT_OUTCOMES.map((outcome) => [outcome, count(`callbacks:attempts:${outcome}`)])) as Record<
      AttemptOutcome,
      number
    >,
    ttc: Object.fromEntries([...TTC_BOUNDS.map(String), 'inf'].map((bound) => [bound, count(`callbacks:ttc:${bound}`)])),
  };
}

/**
 * The state without one miss (a call first decided missed that turned out answered). Its
 * episodes and counters are recomputed from what is left; a miss already archived stays counted.
 */
export function removeMiss(state: CallbackState, callSid: string): CallbackState {
  if (!state.misses.some((miss) => miss.callSid === callSid)) return state;
  return { ...state, misses: state.misses.filter((miss) => miss.callSid !== callSid) };
}

/**
 * The state with a miss's voicemail as its call item says now (a transcript came after the miss
 * was applied). A miss no longer kept (archived, or taken back) changes nothing.
 */
export function withVoicemail(state: CallbackState, callSid: string, voicemail: Voicemail): CallbackState {
  if (!state.misses.some((miss) => miss.callSid === callSid)) return state;
  return { ...state, misses: state.misses.map((miss) => (miss.callSid === callSid ? { ...miss, voicemail } : miss)) };
}

/** The newest message left on the open callback's misses: what whoever calls back listens to first. */
export function openVoicemail(state: CallbackState): Voicemail | undefined {
  const open = new Set(episodes(state).open?.callSids ?? []);
  return [...state.misses]
    .filter((miss) => open.has(miss.callSid) && miss.voicemail !== undefined)
    .sort(byAt)
    .at(-1)?.voicemail;
}
