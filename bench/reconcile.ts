/**
 * Reconciliation (issue 27): a window of N Twilio calls (roots and their `<Dial>` legs) in the
 * local Twilio API with the mix a business sees (answered `<Dial>` calls, hunts answered on the
 * second phone, TwiML-only calls, unanswered `<Dial>` calls, callers who hung up while it rang,
 * direct misses, and staff callbacks to missed callers), the table seeded with the call items the
 * webhook leaves after all of a call's callbacks, 1% of the calls lost (no item). The run
 * ("after") lists the 5 terminal statuses and joins legs to roots in memory; its recoveries are
 * checked call by call against the truth built here (by the rule, independently of lib/), and the
 * answered calls it hands the contacts function (`reached`) against the window. "Before": the
 * old request pattern made with the real client against the same API: the 3 missed statuses'
 * pages, one parent fetch per lost root listed only through its legs, and the contacts function's
 * `reachedSince` for every late (reconciled) miss. Then the same window with 10% lost as an
 * asynchronous run continued over several invocations (lib/reconcile/run.ts).
 */

import { rng } from '../dev/simulator.js';
import { createTable } from '../dev/table.js';
import { type LocalCall, newCallSid, startTwilioApi, type TwilioApi } from '../dev/twilio-api.js';
import { reachedSince } from '../lib/callbacks/reached.js';
import type { MissedStatus } from '../lib/ledger/calls.js';
import type { MissedReason } from '../lib/ledger/outcome.js';
import { readLedgerSettings } from '../lib/ledger/settings.js';
import { createReconcileLedger } from '../lib/ledger/store.js';
import { callerId } from '../lib/phone/phone.js';
import { countRequests, createDocumentClient } from '../lib/platform/aws.js';
import { mapLimit } from '../lib/platform/pool.js';
import { createRunLease } from '../lib/reconcile/lease.js';
import { type RunSummary, reconcile, reconcileOptions, reconcileWindow, WINDOW_DEFAULTS } from '../lib/reconcile/reconcile.js';
import { createReconcileRuns } from '../lib/reconcile/run.js';
import { createRunStore } from '../lib/reconcile/runs.js';
import { createWatermark } from '../lib/reconcile/watermark.js';
import { callKey } from '../lib/table/keys.js';
import { batchGetAll } from '../lib/table/requests.js';
import { createTwilioCalls } from '../lib/twilio/client.js';
import { localClient, writeAll } from './build.js';
import type { Fresh } from './ingest.js';

const ACCOUNT_SID = `AC${'b'.repeat(32)}`;
const TOKEN = 'bench-token';
const NOW = new Date('2026-11-24T03:00:00.000Z');
const RETENTION_DAYS = 90;
const CALLBACK_MIN_SECONDS = 10;
/** Twilio's largest page, the client's default `PageSize`. */
const PAGE_SIZE = 1000;
const SETTINGS = readLedgerSettings({});
const OPTIONS = reconcileOptions({
  accountSid: ACCOUNT_SID,
  outcome: SETTINGS,
  callbackMinSeconds: CALLBACK_MIN_SECONDS,
  ...WINDOW_DEFAULTS,
});
const TERMINAL = ['no-answer', 'busy', 'failed', 'canceled', 'completed'] as const;
const OLD_STATUSES = ['no-answer', 'busy', 'failed'] as const;
const LINES = ['+14155559876', '+14155559877'];
const STAFF = ['+14155550101', '+14155550102'];
/** The number Twilio puts in `From` for a withheld caller id (ANONYMOUS on a keypad). */
const WITHHELD = '+266696687';

// ---- the window and its truth ----------------------------------------------------------------

type Kind = 'answered' | 'hunt' | 'twiml' | 'unanswered' | 'abandoned' | 'direct' | 'callback';
export const KINDS: readonly Kind[] = ['answered', 'hunt', 'twiml', 'unanswered', 'abandoned', 'direct', 'callback'];
/** Shares of the inbound calls (staff callbacks come on top: 35% of the missed callers who can be called). */
const MIX: readonly [Exclude<Kind, 'callback'>, number][] = [
  ['answered', 0.5],
  ['hunt', 0.05],
  ['twiml', 0.1],
  ['unanswered', 0.13],
  ['abandoned', 0.1],
  ['direct', 0.12],
];
const CALLBACK_SHARE = 0.35;

type Truth = { outcome: 'answered' | 'not-missed' } | { outcome: 'missed'; reason: MissedReason; status: MissedStatus };

/** One root call of the window: its legs, and what the whole-call rule says of it (decided here, not by lib/). */
interface WindowCall {
  kind: Kind;
  root: LocalCall;
  legs: LocalCall[];
  truth: Truth;
  /** The customer's number: `From` of an inbound call, `To` of a staff callback. */
  customer: string;
}

const plus = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);
const missed = (reason: MissedReason): Truth => ({
  outcome: 'missed',
  reason,
  status: reason === 'busy' || reason === 'failed' || reason === 'canceled' ? reason : 'no-answer',
});
const isMiss = (t: Truth): t is Extract<Truth, { outcome: 'missed' }> => t.outcome === 'missed';
const callable = (phone: string) => callerId(phone).kind === 'number';

/**
 * `n` Twilio call records (roots and legs together, what a run lists) starting between 40 h and
 * 4 h before NOW, newest last. Callers come from a pool (some call again), 2% withhold their id.
 * Twilio's facts: a `<Dial>` leg is `outbound-dial` with `parentCallSid`, starts after its root
 * and lists a duration of 0 unless answered (its end is when it stopped ringing); a root a
 * `<Dial>` or TwiML answered ends `completed`, with `no-answer`/`busy`/`failed` on the root only
 * when nothing answered it (`answerOnBridge`, a busy number, a failed route).
 */
export function buildWindow(n: number, seed = 27): WindowCall[] {
  const r = rng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  // How many calls of each kind, in records (a root and its legs; a callback is one more record).
  type Spec = { kind: Exclude<Kind, 'callback'>; legs: number; callback: boolean; withheld: boolean; variant: number };
  const specs: Spec[] = [];
  let records = 0;
  while (records < n) {
    const left = n - records;
    let x = r();
    let kind: Spec['kind'] = 'twiml';
    for (const [k, share] of MIX) {
      if (x < share) {
        kind = k;
        break;
      }
      x -= share;
    }
    const variant = r();
    const legs =
      kind === 'answered' || kind === 'abandoned' ? 1 : kind === 'hunt' ? 2 : kind === 'unanswered' ? (variant < 0.7 ? 1 : 2) : 0;
    const withheld = r() < 0.02;
    const callback = !withheld && (kind === 'unanswered' || kind === 'direct' || kind === 'abandoned') && r() < CALLBACK_SHARE;
    const size = 1 + legs + (callback ? 1 : 0);
    // The last few records: TwiML-only calls, so that the window holds exactly n.
    specs.push(size <= left ? { kind, legs, callback, withheld, variant } : { kind: 'twiml', legs: 0, callback: false, withheld, variant });
    records += size <= left ? size : 1;
  }
  const pool = Array.from({ length: Math.max(20, Math.round(specs.length * 0.6)) }, (_, i) => `+1415${2_000_000 + i * 7}`);
  const first = NOW.getTime() - 40 * 3_600_000;
  const span = 36 * 3_600_000;
  const calls: WindowCall[] = [];
  const callbacks: WindowCall[] = [];
  specs.forEach((spec, i) => {
    const start = new Date(first + Math.floor(((i + r()) * span) / specs.length));
    const customer = spec.withheld ? WITHHELD : pick(pool);
    const line = pick(LINES);
    const root: LocalCall = { sid: newCallSid(), from: customer, to: line, status: 'completed', direction: 'inbound', startTime: start };
    const leg = (at: number, status: LocalCall['status'], ringSeconds: number, talkSeconds = 0): LocalCall => ({
      sid: newCallSid(),
      parentCallSid: root.sid,
      from: customer,
      to: pick(STAFF),
      status,
      direction: 'outbound-dial',
      startTime: plus(start, at),
      endTime: plus(start, at + ringSeconds + talkSeconds),
      durationSeconds: talkSeconds,
    });
    let legs: LocalCall[] = [];
    let truth: Truth;
    const talk = () => (r() < 0.1 ? between(3, 9) : between(20, 600));
    if (spec.kind === 'answered') {
      legs = [leg(1, 'completed', between(3, 15), talk())];
      truth = { outcome: 'answered' };
    } else if (spec.kind === 'hunt') {
      // `<Dial timeout="15">office</Dial><Dial>cell</Dial>`: the office did not answer, the cell did.
      legs = [leg(1, 'no-answer', 15), leg(17, 'completed', between(3, 15), talk())];
      truth = { outcome: 'answered' };
    } else if (spec.kind === 'twiml') {
      root.durationSeconds = between(10, 90);
      truth = { outcome: 'not-missed' };
    } else if (spec.kind === 'unanswered') {
      // One phone, or two rung at once; a busy phone answers at once.
      legs = Array.from({ length: spec.legs }, () => (r() < 0.15 ? leg(1, 'busy', between(1, 3)) : leg(1, 'no-answer', between(20, 30))));
      truth = missed(legs.every((l) => l.status === 'busy') ? 'busy' : 'no-answer');
    } else if (spec.kind === 'abandoned') {
      // The caller hung up while it rang: the leg is canceled, the root (answered by TwiML) completed.
      const rang = between(2, 45);
      legs = [leg(1, 'canceled', rang - 1)];
      // Its root lasted `rang` seconds (below): a short one is a misdial, not a customer to call back.
      truth = missed(rang < SETTINGS.shortAbandonSeconds ? 'short-abandoned' : 'abandoned');
    } else {
      const status = spec.variant < 0.58 ? 'no-answer' : spec.variant < 0.88 ? 'busy' : 'failed';
      root.status = status;
      root.endTime = plus(start, status === 'no-answer' ? between(20, 30) : status === 'busy' ? 2 : 0);
      truth = missed(status);
    }
    if (legs.length > 0) {
      const end = Math.max(...legs.map((l) => (l.endTime ?? l.startTime).getTime()));
      // The root ends with its last leg (the caller hung up, or the `<Dial>` ended the call).
      root.durationSeconds = Math.round((end - start.getTime()) / 1000);
    }
    if (spec.kind === 'direct' && root.durationSeconds === undefined) root.durationSeconds = 0;
    calls.push({ kind: spec.kind, root, legs, truth, customer });
    if (spec.callback) {
      // A staff callback to the caller: from the line, answered after some ringing, some hung up at once.
      const ring = between(5, 20);
      const seconds = r() < 0.15 ? between(2, 9) : between(30, 300);
      const at = plus(start, between(10, 180) * 60);
      callbacks.push({
        kind: 'callback',
        root: {
          sid: newCallSid(),
          from: line,
          to: customer,
          status: 'completed',
          direction: 'outbound-api',
          startTime: at,
          endTime: plus(at, ring + seconds),
          durationSeconds: seconds,
        },
        legs: [],
        truth: { outcome: 'not-missed' },
        customer,
      });
    }
  });
  return [...calls, ...callbacks];
}

/** When a call was answered, as the ledger reckons it: its end less its duration. */
const answeredAt = (call: LocalCall): string =>
  new Date((call.endTime ?? plus(call.startTime, call.durationSeconds ?? 0)).getTime() - (call.durationSeconds ?? 0) * 1000).toISOString();

/**
 * The answered calls that reached a missed caller after the miss began (what the contacts
 * function needs to know): staff callbacks to the number and the caller's own later calls a
 * person answered, each lasting CALLBACK_MIN_SECONDS.
 */
function reachesAfter(window: readonly WindowCall[]): (customer: string, since: string) => Set<string> {
  const byCustomer = new Map<string, { id: string; at: string }[]>();
  for (const call of window) {
    const answer =
      call.kind === 'callback'
        ? call.root
        : call.root.direction === 'inbound'
          ? call.legs.find((leg) => leg.status === 'completed')
          : undefined;
    if (answer === undefined || (answer.durationSeconds ?? 0) < CALLBACK_MIN_SECONDS) continue;
    byCustomer.set(call.customer, [...(byCustomer.get(call.customer) ?? []), { id: answer.sid, at: answeredAt(answer) }]);
  }
  return (customer, since) => new Set((byCustomer.get(customer) ?? []).filter((reach) => reach.at > since).map((reach) => reach.id));
}

// ---- the table as the webhook leaves it ------------------------------------------------------

/**
 * The call item the webhook leaves after all of a call's status callbacks (its legs', then its
 * root's), and the contacts function after it (a miss applied); a staff callback placed outside
 * the ledger has none. The same fields lib/ledger/store.ts writes (checked against it while this
 * bench was written).
 */
function webhookItem(call: WindowCall): Record<string, unknown> | undefined {
  if (call.kind === 'callback') return undefined;
  const { root, legs, truth } = call;
  const started = root.startTime.toISOString();
  const end = (root.endTime ?? plus(root.startTime, root.durationSeconds ?? 0)).toISOString();
  const recordedAt = plus(new Date(end), 1).toISOString();
  const item: Record<string, unknown> = {
    pk: callKey(root.sid),
    type: 'call',
    callSid: root.sid,
    accountSid: ACCOUNT_SID,
    legSids: new Set([root.sid, ...legs.map((leg) => leg.sid)]),
    ev: legs.length + 1,
    firstEvidenceAt: legs.length > 0 ? (legs[0]?.endTime ?? root.startTime).toISOString() : end,
    lastEvidenceAt: recordedAt,
    recordedAt,
    expiresAt: Math.floor(Date.parse(recordedAt) / 1000) + RETENTION_DAYS * 86_400,
    startedAt: started,
    endedAt: recordedAt,
    endReportedAt: end,
    lastReportedAt: end,
    rootStatus: root.status,
    rootDuration: root.durationSeconds ?? 0,
    direction: root.direction,
    from: root.from,
    to: root.to,
    customer: root.from,
    line: root.to,
  };
  for (const leg of legs) item[`leg#${leg.sid}`] = leg.status;
  if (truth.outcome === 'answered') Object.assign(item, { outcome: 'answered', decidedAt: recordedAt });
  if (isMiss(truth)) {
    const day = started.slice(0, 10);
    Object.assign(item, {
      outcome: 'missed',
      reason: truth.reason,
      status: truth.status,
      afterHours: false,
      day,
      occurredAt: started,
      source: 'status-callback',
      knownAt: end,
      countedAs: `${day}|${truth.status}|status-callback|${truth.reason}|0`,
      decidedAt: recordedAt,
    });
    if (truth.reason !== 'short-abandoned') {
      const id = callerId(root.from);
      Object.assign(item, {
        contactApplied: id.kind === 'number' ? `contact:${id.e164}:${truth.status}` : `anonymous:${id.reason}`,
        contactAppliedAt: recordedAt,
      });
    }
  }
  return item;
}

/** Counts write requests (TransactWriteItems, PutItem, UpdateItem, BatchWriteItem) and the call items they write. */
function countWrites(docs: ReturnType<typeof createDocumentClient>): { writes: () => number; keys: Set<string> } {
  let writes = 0;
  const keys = new Set<string>();
  docs.middlewareStack.add(
    (next, context) => async (args) => {
      if (/Transact|Put|Update|BatchWrite/.test(String(context.commandName))) {
        writes += 1;
        const input = args.input as { Key?: { pk?: unknown }; TransactItems?: { Update?: { Key?: { pk?: unknown } } }[] };
        for (const key of [input.Key, ...(input.TransactItems ?? []).map((t) => t.Update?.Key)]) {
          if (typeof key?.pk === 'string' && key.pk.startsWith('CALL#')) keys.add(key.pk);
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
  return { writes: () => writes, keys };
}

/** A new table holding the call items of every call but the lost ones. */
async function seedTable(endpoint: string, tableName: string, window: readonly WindowCall[], lost: ReadonlySet<string>): Promise<void> {
  await createTable(localClient(endpoint), tableName);
  const items = window.flatMap((call): Record<string, unknown>[] => {
    const item = lost.has(call.root.sid) ? undefined : webhookItem(call);
    return item === undefined ? [] : [item];
  });
  await writeAll(createDocumentClient(localClient(endpoint)), tableName, items);
}

/** `share` of the inbound calls, their callbacks all lost. */
function loseCalls(window: readonly WindowCall[], share: number, seed: number): Set<string> {
  const r = rng(seed);
  const inbound = window.filter((call) => call.kind !== 'callback');
  const shuffled = inbound.map((call) => ({ call, key: r() })).sort((a, b) => a.key - b.key);
  return new Set(shuffled.slice(0, Math.round(inbound.length * share)).map(({ call }) => call.root.sid));
}

// ---- checks against the truth ----------------------------------------------------------------

export interface Recovery {
  lost: number;
  /** Lost calls by kind. */
  lostByKind: Partial<Record<Kind, number>>;
  /** Misses among the lost calls, by reason (the truth). */
  truthByReason: Partial<Record<MissedReason, number>>;
  /** Recorded by the run as misses with that reason, counted (source `reconcile`). */
  recoveredByReason: Partial<Record<MissedReason, number>>;
  /** Lost calls whose item says other than the truth (a miss not recorded, a wrong reason, an answered call counted). */
  wrong: number;
  wrongByKind: Partial<Record<Kind, number>>;
  /** Recovered misses of callable callers whose `reached` lists exactly the answered calls with the number after the miss. */
  reached: { checked: number; exact: number; missing: number; extra: number; notLookedFor: number };
}

const bump = <K extends string>(counts: Partial<Record<K, number>>, key: K, n = 1) => {
  counts[key] = (counts[key] ?? 0) + n;
};

async function checkRecovery(
  endpoint: string,
  tableName: string,
  window: readonly WindowCall[],
  lost: ReadonlySet<string>,
): Promise<Recovery> {
  const docs = createDocumentClient(localClient(endpoint));
  const lostCalls = window.filter((call) => lost.has(call.root.sid));
  const items = await batchGetAll(
    docs,
    tableName,
    lostCalls.map((call) => ({ pk: callKey(call.root.sid) })),
    { what: 'bench', read: { ConsistentRead: true } },
  );
  const byPk = new Map(items.map((item) => [String(item.pk), item]));
  const reaches = reachesAfter(window);
  const out: Recovery = {
    lost: lostCalls.length,
    lostByKind: {},
    truthByReason: {},
    recoveredByReason: {},
    wrong: 0,
    wrongByKind: {},
    reached: { checked: 0, exact: 0, missing: 0, extra: 0, notLookedFor: 0 },
  };
  for (const call of lostCalls) {
    bump(out.lostByKind, call.kind);
    const item = byPk.get(callKey(call.root.sid));
    const counted = item !== undefined && item.outcome === 'missed' && typeof item.countedAs === 'string';
    if (counted && item?.source === 'reconcile') bump(out.recoveredByReason, item.reason as MissedReason);
    let right: boolean;
    if (isMiss(call.truth)) {
      bump(out.truthByReason, call.truth.reason);
      right = counted && item?.reason === call.truth.reason && item?.status === call.truth.status && item?.source === 'reconcile';
      if (right && callable(call.customer)) {
        out.reached.checked += 1;
        if (typeof item?.reached !== 'string') out.reached.notLookedFor += 1;
        else {
          const listed = new Set((JSON.parse(item.reached) as { id: string }[]).map((reach) => reach.id));
          const expected = reaches(call.customer, call.root.startTime.toISOString());
          const missing = [...expected].filter((id) => !listed.has(id)).length;
          const extra = [...listed].filter((id) => !expected.has(id)).length;
          out.reached.missing += missing;
          out.reached.extra += extra;
          if (missing === 0 && extra === 0) out.reached.exact += 1;
        }
      }
    } else right = !counted;
    if (!right) {
      out.wrong += 1;
      bump(out.wrongByKind, call.kind);
    }
  }
  return out;
}

// ---- the old request pattern -----------------------------------------------------------------

export interface Before {
  /** Calls listed: those of the 3 missed statuses. */
  listed: number;
  /** Pages of the 3 missed statuses over the window. */
  listRequests: number;
  /** One `fetch` per lost root listed only through its legs (an unanswered `<Dial>`, a hunt). */
  parentFetches: number;
  /** The misses the old code recovered from the lost calls (a leg or the root no-answer/busy/failed). */
  misses: number;
  /** Of them with a callable number: the contacts function's `reachedSince` for each (a late miss). */
  reachedChecks: number;
  reachedRequests: number;
  total: number;
}

/**
 * The old reconciliation's Twilio requests for the same window and the same lost calls, made with
 * the real client against the same API: it listed only `no-answer`, `busy` and `failed`, fetched
 * the parent of every root whose legs were listed without it, and recorded every lost call with
 * such a leg or root as missed; the contacts function then asked Twilio, for each of those late
 * misses, whether the number had been reached since (lib/callbacks/reached.ts).
 */
async function oldPattern(api: TwilioApi, window: readonly WindowCall[], lost: ReadonlySet<string>): Promise<Before> {
  const twilio = createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: TOKEN, baseUrl: api.baseUrl });
  const { from, to } = reconcileWindow(undefined, NOW, OPTIONS);
  // Every page of the 3 statuses (the requests count them, retries included).
  let listed = 0;
  for (const status of OLD_STATUSES) for await (const page of twilio.list(status, from, to)) listed += page.calls.length;
  const listRequests = twilio.requests();
  const oldStatus = (status: LocalCall['status']) => (OLD_STATUSES as readonly string[]).includes(status);
  const lostCalls = window.filter((call) => lost.has(call.root.sid));
  const fetched = lostCalls.filter((call) => !oldStatus(call.root.status) && call.legs.some((leg) => oldStatus(leg.status)));
  await mapLimit(fetched, 8, async (call) => {
    await twilio.fetch(call.root.sid);
  });
  const parentFetches = twilio.requests() - listRequests;
  const misses = lostCalls.filter((call) => oldStatus(call.root.status) || call.legs.some((leg) => oldStatus(leg.status)));
  const checked = misses.filter((call) => callable(call.customer));
  await mapLimit(checked, 8, async (call) => {
    await reachedSince(twilio, call.customer, call.root.startTime, CALLBACK_MIN_SECONDS);
  });
  const total = twilio.requests();
  return {
    listed,
    listRequests,
    parentFetches,
    misses: misses.length,
    reachedChecks: checked.length,
    reachedRequests: total - listRequests - parentFetches,
    total,
  };
}

// ---- the benchmark -----------------------------------------------------------------------------

export interface ReconcileBench {
  /** Twilio call records in the window (roots and legs), all listed by the run. */
  calls: number;
  roots: number;
  byKind: Partial<Record<Kind, number>>;
  /** Calls of each terminal status in the window (what the run pages through). */
  byStatus: Record<(typeof TERMINAL)[number], number>;
  lostShare: number;
  after: RunSummary & {
    writeRequests: number;
    /** Call items the run wrote that were not lost calls (none expected). */
    recordedCallsWritten: number;
    /** Twilio requests in the run that were not a page of a status's Calls list (none expected). */
    perCallRequests: number;
    wallMs: number;
  };
  recovery: Recovery;
  before: Before;
  per100k: { before: number; after: number };
  /** Σ over the 5 statuses of max(1, ceil(calls of that status / PageSize)) + 0. */
  formula: { pageSize: number; pages: number; constant: number; expected: number };
  /** The same window with 10% lost as an asynchronous run (lib/reconcile/run.ts) over several invocations. */
  continued: {
    lostShare: number;
    invocationLimitMs: number;
    invocations: number;
    state: string;
    summary: RunSummary;
    recovery: Recovery;
    wallMs: number;
    /** Succeeded; listed, pages and Twilio requests as the one-go run's; every lost call decided as the truth says. */
    addsUp: boolean;
  };
  goals: {
    twilioRequestsAsFormula: boolean;
    noTwilioRequestPerCall: boolean;
    recoveredAsTruth: boolean;
    reachedFromListing: boolean;
    writesOnlyForLostCalls: boolean;
  };
}

export async function reconcileBench(fresh: Fresh, calls: number, lostShare = 0.01, continuedShare = 0.1): Promise<ReconcileBench> {
  const api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [TOKEN] });
  try {
    const window = buildWindow(calls);
    api.calls.push(...window.flatMap((call) => [call.root, ...call.legs]));
    const byStatus = Object.fromEntries(
      TERMINAL.map((s) => [s, api.calls.filter((c) => c.status === s).length]),
    ) as ReconcileBench['byStatus'];
    const byKind: Partial<Record<Kind, number>> = {};
    for (const call of window) bump(byKind, call.kind);
    const lost = loseCalls(window, lostShare, 1);
    const twilioCalls = () => createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: TOKEN, baseUrl: api.baseUrl });

    const measured = await fresh(async (endpoint) => {
      const tableName = 'bench-reconcile';
      await seedTable(endpoint, tableName, window, lost);
      const docs = createDocumentClient(localClient(endpoint));
      const dynamoRequests = countRequests(docs);
      const written = countWrites(docs);
      const firstRequest = api.requests.length;
      const started = performance.now();
      const summary = await reconcile(
        {
          twilio: twilioCalls(),
          ledger: createReconcileLedger(docs, { tableName, retentionDays: RETENTION_DAYS, settings: SETTINGS }),
          watermark: createWatermark(docs, tableName),
          dynamoRequests,
          now: () => NOW,
        },
        OPTIONS,
      );
      const wallMs = Math.round(performance.now() - started);
      const requests = api.requests.slice(firstRequest);
      // A page of one status's list: `Calls.json?Status=…`, no party or parent filter, no fetch of one call.
      const perCallRequests = requests.filter(
        (req) => !/\/Calls\.json\?/.test(req.url) || !/[?&]Status=/.test(req.url) || /[?&](From|To|ParentCallSid)=/.test(req.url),
      ).length;
      const recovery = await checkRecovery(endpoint, tableName, window, lost);
      const lostKeys = new Set([...lost].map(callKey));
      return {
        summary,
        wallMs,
        perCallRequests,
        recovery,
        // The watermark's own write is not one of the run's recordings.
        writeRequests: written.writes() - 1,
        recordedCallsWritten: [...written.keys].filter((pk) => !lostKeys.has(pk)).length,
      };
    });
    const before = await oldPattern(api, window, lost);

    // The asynchronous run: the window worked through in invocations of at most ~1/4 of the
    // one-go run's time each, every continuation queued and taken as Lambda would.
    const continuedLost = loseCalls(window, continuedShare, 2);
    const invocationLimitMs = Math.max(200, Math.round(measured.wallMs / 4));
    const continued = await fresh(async (endpoint) => {
      const tableName = 'bench-continued';
      await seedTable(endpoint, tableName, window, continuedLost);
      const docs = createDocumentClient(localClient(endpoint));
      const queue: string[] = [];
      const runs = createReconcileRuns({
        twilioCalls: async (options) =>
          createTwilioCalls({ ...options, accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: TOKEN, baseUrl: api.baseUrl }),
        ledger: createReconcileLedger(docs, { tableName, retentionDays: RETENTION_DAYS, settings: SETTINGS }),
        watermark: createWatermark(docs, tableName),
        dynamoRequests: countRequests(docs),
        options: OPTIONS,
        lease: createRunLease(docs, tableName),
        runs: createRunStore(docs, tableName),
        invokeSelf: async (event) => {
          queue.push(event.reconcileRun);
        },
        invocationLimitMs,
        now: () => NOW.getTime() + (performance.now() - began),
      });
      const began = performance.now();
      const run = await runs.start('http');
      queue.push(run.runId);
      let last: Awaited<ReturnType<typeof runs.continueRun>>;
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) last = await runs.continueRun(next, () => 300_000);
      const wallMs = Math.round(performance.now() - began);
      return { run: last, wallMs, recovery: await checkRecovery(endpoint, tableName, window, continuedLost) };
    });
    const finished = continued.run;
    if (finished === undefined) throw new Error('bench: the continued run vanished');

    const ours = measured.summary;
    const pages = TERMINAL.reduce((sum, status) => sum + Math.max(1, Math.ceil(byStatus[status] / PAGE_SIZE)), 0);
    const formula = { pageSize: PAGE_SIZE, pages, constant: 0, expected: pages };
    const per100k = (n: number) => Math.round((n * 100_000) / Math.max(1, ours.listed));
    const right = (r: Recovery) =>
      r.wrong === 0 && MISSED_REASON_KEYS(r).every((reason) => (r.truthByReason[reason] ?? 0) === (r.recoveredByReason[reason] ?? 0));
    return {
      calls: api.calls.length,
      roots: window.length,
      byKind,
      byStatus,
      lostShare,
      after: {
        ...ours,
        writeRequests: measured.writeRequests,
        recordedCallsWritten: measured.recordedCallsWritten,
        perCallRequests: measured.perCallRequests,
        wallMs: measured.wallMs,
      },
      recovery: measured.recovery,
      before,
      per100k: { before: per100k(before.total), after: per100k(ours.twilioRequests) },
      formula,
      continued: {
        lostShare: continuedShare,
        invocationLimitMs,
        invocations: finished.invocations,
        state: finished.state,
        summary: finished.summary,
        recovery: continued.recovery,
        wallMs: continued.wallMs,
        addsUp:
          finished.state === 'succeeded' &&
          finished.summary.listed === ours.listed &&
          finished.summary.pages === ours.pages &&
          finished.summary.twilioRequests === ours.twilioRequests &&
          finished.summary.recoveredTotal === Object.values(continued.recovery.truthByReason).reduce((a, b) => a + b, 0) &&
          right(continued.recovery),
      },
      goals: {
        twilioRequestsAsFormula: ours.twilioRequests === formula.expected,
        noTwilioRequestPerCall: measured.perCallRequests === 0 && ours.parentsFetched === 0,
        recoveredAsTruth:
          right(measured.recovery) && ours.recoveredTotal === Object.values(measured.recovery.truthByReason).reduce((a, b) => a + b, 0),
        reachedFromListing: measured.recovery.reached.exact === measured.recovery.reached.checked,
        writesOnlyForLostCalls: measured.recordedCallsWritten === 0,
      },
    };
  } finally {
    await api.stop();
  }
}

/** The reasons either side of a recovery names. */
const MISSED_REASON_KEYS = (r: Recovery): MissedReason[] =>
  [...new Set([...Object.keys(r.truthByReason), ...Object.keys(r.recoveredByReason)])] as MissedReason[];
