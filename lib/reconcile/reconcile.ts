/**
 * The nightly reconciliation: list every call Twilio ended in a window, join the legs to their
 * root calls, and send what the ledger lacks through the SAME idempotent recording path as the
 * webhook (the whole-call rule decides), with source `reconcile`. The watermark advances only
 * after the whole window.
 *
 * The window is listed by status: first the unanswered ones (`no-answer`, `busy`, `failed`,
 * `canceled`), whose legs of calls the ledger lacks are written as evidence; then `completed`,
 * newest first, so that a root call comes after its `<Dial>` legs (they started after it): a
 * root the ledger holds evidence of is decided then, from all of it; a root it lacks is decided
 * from what was listed, and written only when it is a miss. Roots whose own status was
 * unanswered are decided last, when every answered call of the window with their number is known
 * (the contact's "reached since" comes from the listing, not from a Twilio request per miss). So
 * a window of N calls costs O(N / 1000) Twilio list requests: its pages, and nothing per call.
 *
 * `reconcileStep` works through a window from a cursor until it is done or its time is up, so
 * that a run can continue in another invocation (lib/reconcile/run.ts); `reconcile` runs a
 * whole window in one go.
 */

import type { MissedStatus } from '../ledger/calls.js';
import { type CallReport, type Evidence, NO_FACTS, type Reach, rootCallSid, withEvidence } from '../ledger/calls.js';
import { decideOutcome, isMachine, type OutcomeSettings, statusOfReason, type TerminalStatus } from '../ledger/outcome.js';
import type { ReconcileLedger } from '../ledger/store.js';
import { mapLimit } from '../platform/pool.js';
import type { TwilioCall, TwilioCalls } from '../twilio/client.js';
import { TwilioDeadlineError } from '../twilio/errors.js';

export interface RunSummary {
  window: { from: string; to: string };
  /** Distinct calls listed that started inside the window. */
  listed: number;
  /** Twilio list pages recorded. */
  pages: number;
  alreadyRecorded: number;
  recovered: Partial<Record<MissedStatus, number>>;
  recoveredTotal: number;
  /** Recorded calls to which the run added a leg or the customer's number. */
  enriched: number;
  /** Open callbacks resolved by an answered call the run listed (its own callbacks were lost). */
  callbacksResolved: number;
  parentsFetched: number;
  twilioRequests: number;
  /** DynamoDB requests for the window (the watermark's own read and write not counted). */
  dynamoRequests: number;
  /** Time spent working on the window, summed over the invocations of a run. */
  durationMs: number;
  finishedAt: string;
}

/**
 * Where a run is in its window: the status being listed (an index into the run's statuses), the
 * URL of that status's next page (none: its first), and the SIDs of the page recorded last
 * (Twilio has listed a SID again on the next page: it is counted once).
 */
export interface RunCursor {
  status: number;
  pageUrl?: string;
  lastPageSids: string[];
  /** Roots whose own status was unanswered, recorded and decided once the answered calls are listed. */
  deferred?: string[];
}

export const START_CURSOR: RunCursor = { status: 0, lastPageSids: [] };

/** The statuses a run lists, in order: the unanswered ones, then `completed` (see above). */
export const RUN_STATUSES: readonly TerminalStatus[] = ['no-answer', 'busy', 'failed', 'canceled', 'completed'];

/** Evidence the reconciliation writes for a root it has not seen end waits this long before the settle sweep decides it. */
export const RECONCILE_SETTLE_SECONDS = 15 * 60;

export interface Watermark {
  /** End of the last window that fully succeeded. */
  read(): Promise<string | undefined>;
  /** Moves the watermark to `windowEnd` (never backwards) and keeps the run's summary. */
  advance(windowEnd: string, summary: RunSummary): Promise<void>;
}

export interface ReconcileOptions {
  accountSid: string;
  statuses: readonly TerminalStatus[];
  /** The whole-call rule's settings (a root the ledger lacks is decided in memory first). */
  outcome: OutcomeSettings;
  /** CALLBACK_MIN_SECONDS: an answered call this long reaches its number. */
  callbackMinSeconds: number;
  overlapMs: number;
  settleMs: number;
  lookbackMs: number;
  /** Parallel ledger writes and parent fetches within a page (default 8). */
  concurrency?: number;
  /** Time left before the Lambda is killed (context.getRemainingTimeInMillis); unset = no limit. */
  remainingMs?: () => number;
  /** Stop before a next page when less than this is left (default 30 s). */
  marginMs?: number;
}

/** The open callbacks, and what resolves one (lib/callbacks/store.ts). */
export interface OpenCallbacks {
  /** Each open callback's number and when it opened. */
  open(): Promise<ReadonlyMap<string, string>>;
  resolve(phone: string, call: Reach): Promise<{ outcome: 'resolved' | 'unchanged' }>;
}

export interface StepDeps {
  twilio: TwilioCalls;
  ledger: ReconcileLedger;
  /** With it, the answered calls a run lists resolve the open callbacks they reach. */
  callbacks?: OpenCallbacks;
  /** DynamoDB HTTP requests made so far by the client the ledger and watermark use. */
  dynamoRequests: () => number;
}

export interface ReconcileDeps extends StepDeps {
  watermark: Watermark;
  now?: () => Date;
}

/** The window's defaults: RECONCILE_OVERLAP_MINUTES, RECONCILE_SETTLE_MINUTES, RECONCILE_LOOKBACK_HOURS. */
export const WINDOW_DEFAULTS = { overlapMinutes: 60, settleMinutes: 5, lookbackHours: 48 } as const;

/** A run's options from the configured settings (minutes and hours as configured). */
export function reconcileOptions(settings: {
  accountSid: string;
  outcome: OutcomeSettings;
  callbackMinSeconds: number;
  overlapMinutes: number;
  settleMinutes: number;
  lookbackHours: number;
}): ReconcileOptions {
  return {
    accountSid: settings.accountSid,
    statuses: RUN_STATUSES,
    outcome: settings.outcome,
    callbackMinSeconds: settings.callbackMinSeconds,
    overlapMs: settings.overlapMinutes * 60_000,
    settleMs: settings.settleMinutes * 60_000,
    lookbackMs: settings.lookbackHours * 3_600_000,
  };
}

/** The window of a run: [watermark - overlap, now - settle], or a first run's lookback. */
export function reconcileWindow(
  watermark: string | undefined,
  now: Date,
  options: Pick<ReconcileOptions, 'overlapMs' | 'settleMs' | 'lookbackMs'>,
) {
  const to = new Date(now.getTime() - options.settleMs);
  const from = watermark === undefined ? new Date(now.getTime() - options.lookbackMs) : new Date(Date.parse(watermark) - options.overlapMs);
  return { from, to };
}

/** A summary with nothing counted yet, for a window. */
export function emptySummary(window: { from: Date; to: Date }): RunSummary {
  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    listed: 0,
    pages: 0,
    alreadyRecorded: 0,
    recovered: {},
    recoveredTotal: 0,
    enriched: 0,
    callbacksResolved: 0,
    parentsFetched: 0,
    twilioRequests: 0,
    dynamoRequests: 0,
    durationMs: 0,
    finishedAt: '',
  };
}

/** Adds a page's counts to a summary. */
function addCounts(summary: RunSummary, page: RunSummary): void {
  summary.listed += page.listed;
  summary.pages += page.pages;
  summary.alreadyRecorded += page.alreadyRecorded;
  summary.enriched += page.enriched;
  summary.callbacksResolved += page.callbacksResolved;
  summary.recoveredTotal += page.recoveredTotal;
  for (const [status, n] of Object.entries(page.recovered) as [MissedStatus, number][]) {
    summary.recovered[status] = (summary.recovered[status] ?? 0) + n;
  }
}

export interface StepResult {
  /** The whole window is listed and recorded. */
  done: boolean;
  /** Where the next invocation starts, when not done. */
  cursor: RunCursor;
  /** Pages recorded by this step. */
  pages: number;
}

/**
 * Works through `window` from `cursor`, adding to `summary` (the counts so far, changed in
 * place), until the window is done or less than the margin is left before a next page. A page
 * counts only once it is wholly recorded: one cut short by the deadline is done again from its
 * URL, idempotently. `onPage` sees the cursor and summary after every page (a checkpoint).
 */
export async function reconcileStep(
  deps: StepDeps,
  run: { window: { from: Date; to: Date }; cursor: RunCursor; summary: RunSummary },
  options: ReconcileOptions,
  onPage?: (cursor: RunCursor, summary: RunSummary) => Promise<void>,
): Promise<StepResult> {
  const { window, summary } = run;
  const startedMs = performance.now();
  const twilioBefore = deps.twilio.requests();
  const dynamoBefore = deps.dynamoRequests();
  let counted = { twilio: twilioBefore, dynamo: dynamoBefore, ms: startedMs };
  /** Moves the requests and time spent since the last call into the summary. */
  const account = () => {
    const now = { twilio: deps.twilio.requests(), dynamo: deps.dynamoRequests(), ms: performance.now() };
    summary.twilioRequests += now.twilio - counted.twilio;
    summary.dynamoRequests += now.dynamo - counted.dynamo;
    summary.durationMs += Math.round(now.ms - counted.ms);
    counted = now;
  };
  let cursor: RunCursor = run.cursor;
  let pages = 0;
  const late = () => options.remainingMs !== undefined && options.remainingMs() < (options.marginMs ?? 30_000);
  const memory: RunMemory = { reach: new Map(), answered: new Map(), machineLegs: new Map(), wholeCompleted: false };
  const deferred = new Map((cursor.deferred ?? []).map((entry) => parseDeferred(entry)));
  const withDeferred = (c: RunCursor): RunCursor => (deferred.size === 0 ? c : { ...c, deferred: [...deferred].map(formatDeferred) });

  try {
    if (!(window.from < window.to)) return { done: true, cursor, pages };
    // Twilio's Calls list has returned the same SID twice across pages: each call counts once.
    const seen = new Set<string>(cursor.lastPageSids);
    for (let status = cursor.status; status < options.statuses.length; status++) {
      const listed_status = options.statuses[status] as TerminalStatus;
      // The answered calls of the window are known in full only when this invocation lists
      // `completed` from its first page; else `reached` is left unknown (the contact asks Twilio).
      if (listed_status === 'completed') memory.wholeCompleted = cursor.pageUrl === undefined;
      const listing = deps.twilio.list(listed_status, window.from, window.to, cursor.pageUrl);
      for await (const listed of listing) {
        const page = listed.calls.filter((call) => !seen.has(call.sid));
        for (const call of page) seen.add(call.sid);
        const tally = await recordPage(deps, page, listed_status, options, memory, deferred);
        tally.pages = 1;
        addCounts(summary, tally);
        pages += 1;
        cursor = withDeferred(
          listed.nextPageUrl === undefined
            ? { status: status + 1, lastPageSids: [] }
            : { status, pageUrl: listed.nextPageUrl, lastPageSids: page.map((call) => call.sid) },
        );
        account();
        await onPage?.(cursor, summary);
        // Before asking Twilio for the next page: is there time left for it?
        if (cursor.status < options.statuses.length && late()) return { done: false, cursor, pages };
      }
      if (cursor.status === status) cursor = withDeferred({ status: status + 1, lastPageSids: [] });
    }
    // Last, the roots whose own status said unanswered: every answered call of the window is known now.
    const tally = emptySummary({ from: new Date(0), to: new Date(0) });
    await mapLimit([...deferred], options.concurrency ?? 8, async ([root, { customer, at }]) => {
      const report: CallReport = { ...rootReport(root, options, [], true), reached: reachedAfter(memory, customer, at) };
      count(tally, await deps.ledger.record(report));
    });
    // Then the open callbacks that an answered call listed reaches (its own callbacks were lost).
    if (deps.callbacks !== undefined && memory.wholeCompleted)
      tally.callbacksResolved = await resolveReached(deps.callbacks, memory, options);
    addCounts(summary, tally);
    deferred.clear();
    cursor = { status: options.statuses.length, lastPageSids: [] };
    return { done: true, cursor, pages };
  } catch (error) {
    // A single page outlasted the time left: the same clean stop; the page is done again from
    // its URL by the next invocation.
    if (error instanceof TwilioDeadlineError) return { done: false, cursor, pages };
    throw error;
  } finally {
    account();
  }
}

/** What one invocation of a run learns from its listing (lost with it: the ledger's evidence is not). */
interface RunMemory {
  /** Answered calls by the customer's number: outbound calls to it, inbound calls from it a person answered. */
  reach: Map<string, Reach[]>;
  /** Roots with a `<Dial>` leg a person answered: the leg, when it was answered, and whether it lasted CALLBACK_MIN_SECONDS. */
  answered: Map<string, { id: string; at: string; long: boolean }>;
  /** Legs a machine answered, of roots the ledger lacks, until their root is listed. */
  machineLegs: Map<string, Evidence[]>;
  /** This invocation listed `completed` from its first page: `reach` holds every answered call listed since. */
  wholeCompleted: boolean;
}

/** At most this many roots wait in the cursor for the end of the window (the run item stays far below 400 KB). */
const MAX_DEFERRED = 2_000;

/** A deferred root in the cursor: `<root>|<customer>|<start>`. */
const formatDeferred = ([root, { customer, at }]: [string, { customer: string; at: string }]) => `${root}|${customer}|${at}`;
function parseDeferred(entry: string): [string, { customer: string; at: string }] {
  const [root = '', customer = '', at = ''] = entry.split('|');
  return [root, { customer, at }];
}

/** When a call was answered: its end less its duration (as the webhook reckons it), else its start. */
function answeredAt(call: TwilioCall): string | undefined {
  if (call.endTime !== null) return new Date(call.endTime.getTime() - call.duration * 1000).toISOString();
  return call.startTime?.toISOString();
}

const remember = (memory: RunMemory, phone: string, reach: Reach) => memory.reach.set(phone, [...(memory.reach.get(phone) ?? []), reach]);

/** The answered calls with `phone` that started after `at`, as far as this invocation listed them. */
const reachedAfter = (memory: RunMemory, phone: string, at: string): Reach[] | undefined =>
  !memory.wholeCompleted ? undefined : phone === '' ? [] : (memory.reach.get(phone) ?? []).filter((reach) => reach.at > at);

/**
 * Resolves each open callback with the first answered call listed with its number after it
 * opened (a re-delivery of what the webhook saw changes nothing). One Query a shard of the open
 * index, then one read per open callback so reached.
 */
async function resolveReached(callbacks: OpenCallbacks, memory: RunMemory, options: ReconcileOptions): Promise<number> {
  if (memory.reach.size === 0) return 0;
  const open = await callbacks.open();
  const first = [...open].flatMap(([phone, since]) => {
    const reach = (memory.reach.get(phone) ?? []).filter((r) => r.at > since).sort((a, b) => a.at.localeCompare(b.at))[0];
    return reach === undefined ? [] : [[phone, reach] as const];
  });
  let resolved = 0;
  await mapLimit(first, options.concurrency ?? 8, async ([phone, reach]) => {
    if ((await callbacks.resolve(phone, reach)).outcome === 'resolved') resolved += 1;
  });
  return resolved;
}

/** The leg's own end, as evidence about its root. */
const legEvidence = (call: TwilioCall, status: TerminalStatus): Evidence => ({
  kind: 'leg',
  legSid: call.sid,
  status,
  machine: isMachine(call.answeredBy ?? undefined),
});

/** A report of the reconciliation about a root: `evidence`, with the root's own end when listed. */
function rootReport(root: string, options: ReconcileOptions, evidence: Evidence[], ends: boolean, call?: TwilioCall): CallReport {
  return {
    rootCallSid: root,
    accountSid: options.accountSid,
    legCallSids: [root, ...evidence.flatMap((e) => (e.kind === 'leg' ? [e.legSid] : []))],
    evidence,
    root: call === undefined ? undefined : { direction: call.direction, from: call.from, to: call.to },
    ends,
    reportedAt: undefined,
    startedAt: call?.startTime?.toISOString(),
    source: 'reconcile',
  };
}

const customerOf = (call: TwilioCall): string =>
  call.direction === 'inbound' ? call.from : call.direction === 'outbound-api' ? call.to : '';

/** Adds a recording's result to a page's counts. */
function count(tally: RunSummary, result: { outcome: string; reason?: string; counted: string }): void {
  if (result.counted === 'new' && result.reason !== undefined) {
    const status = statusOfReason(result.reason as Parameters<typeof statusOfReason>[0]);
    tally.recovered[status] = (tally.recovered[status] ?? 0) + 1;
    tally.recoveredTotal += 1;
  } else if (result.counted === 'unchanged') tally.alreadyRecorded += 1;
  else tally.enriched += 1;
}

/** Adds an evidence write's result: enriched, unless it changed what is counted (a miss it decided is recovered). */
function countEvidence(tally: RunSummary, result: { outcome: string; reason?: string; counted: string }): void {
  if (result.counted === 'unchanged') tally.enriched += 1;
  else count(tally, result);
}

/** Records one page's calls of one status; returns what it counted. */
async function recordPage(
  deps: StepDeps,
  page: TwilioCall[],
  status: TerminalStatus,
  options: ReconcileOptions,
  memory: RunMemory,
  deferred: Map<string, { customer: string; at: string }>,
): Promise<RunSummary> {
  const tally = emptySummary({ from: new Date(0), to: new Date(0) });
  tally.listed = page.length;
  const groups = new Map<string, { legs: TwilioCall[]; root: TwilioCall | undefined }>();
  for (const call of page) {
    const root = rootCallSid(call.sid, call.parentCallSid);
    const group = groups.get(root) ?? { legs: [], root: undefined };
    if (call.sid === root) group.root = call;
    else group.legs.push(call);
    groups.set(root, group);
  }
  const known = await deps.ledger.find([...groups.keys()]);
  const settle = { settleAfterSeconds: RECONCILE_SETTLE_SECONDS };
  // A page lists newest first: within a root's group, its legs (answered later) before it.
  await mapLimit([...groups], options.concurrency ?? 8, async ([root, group]) => {
    const k = known.get(root);
    const newLegs = group.legs.filter((leg) => !(k?.legSids.has(leg.sid) ?? false));
    if (status !== 'completed') {
      // Unanswered legs of calls the ledger lacks (or lacks them of): evidence, decided when the root ends.
      if (newLegs.length > 0 && !(k?.decided === true && k.answered)) {
        const legs = newLegs.map((leg) => legEvidence(leg, status));
        countEvidence(tally, await deps.ledger.record(rootReport(root, options, legs, false), undefined, settle));
      } else if (group.legs.length > 0) tally.alreadyRecorded += 1;
      const call = group.root;
      if (call !== undefined) {
        if (k?.decided === true) tally.alreadyRecorded += 1;
        else {
          // Its own end: recorded now, decided last (when every answered call with its number is
          // known); beyond MAX_DEFERRED, decided now (its contact asks Twilio what came since).
          const end: Evidence[] = [{ kind: 'root', status, durationSeconds: call.duration }];
          if (deferred.size >= MAX_DEFERRED) count(tally, await deps.ledger.record(rootReport(root, options, end, true, call)));
          else {
            // (It decides at once a call the ledger knew had ended, whose decision had failed.)
            countEvidence(tally, await deps.ledger.record(rootReport(root, options, end, false, call), undefined, settle));
            deferred.set(root, { customer: customerOf(call), at: call.startTime?.toISOString() ?? '' });
          }
        }
      }
      return;
    }
    for (const leg of group.legs) {
      if (isMachine(leg.answeredBy ?? undefined)) {
        // With its root on this page: joined in memory. Otherwise written (a later page or
        // invocation decides the root from it). A recorded call a Dial action called answered
        // learns that its leg was a machine.
        if (k === undefined && group.root !== undefined)
          memory.machineLegs.set(root, [...(memory.machineLegs.get(root) ?? []), legEvidence(leg, 'completed')]);
        else if (k === undefined || k.answered || !k.legSids.has(leg.sid)) {
          countEvidence(
            tally,
            await deps.ledger.record(rootReport(root, options, [legEvidence(leg, 'completed')], false), undefined, settle),
          );
        }
        continue;
      }
      memory.answered.set(root, { id: leg.sid, at: answeredAt(leg) ?? '', long: leg.duration >= options.callbackMinSeconds });
      // A person answered: a call the ledger counted missed is corrected.
      if (k !== undefined && !k.answered)
        count(tally, await deps.ledger.record(rootReport(root, options, [legEvidence(leg, 'completed')], false)));
    }
    const call = group.root;
    if (call === undefined) return;
    const customer = customerOf(call);
    const start = call.startTime?.toISOString() ?? '';
    const answeredLeg = memory.answered.get(root);
    // What it tells of the number: an answered call with it (a callback, or a returned call).
    if (call.direction === 'outbound-api' && !isMachine(call.answeredBy ?? undefined) && call.duration >= options.callbackMinSeconds) {
      const at = answeredAt(call);
      if (at !== undefined) remember(memory, customer, { id: call.sid, at, by: 'callback' });
    } else if (call.direction === 'inbound' && answeredLeg !== undefined && answeredLeg.long && answeredLeg.at !== '') {
      remember(memory, customer, { id: answeredLeg.id, at: answeredLeg.at, by: 'returned-call' });
    }
    const evidence: Evidence[] = [
      { kind: 'root', status: 'completed', durationSeconds: call.duration },
      ...(memory.machineLegs.get(root) ?? []),
    ];
    if (answeredLeg !== undefined) evidence.push({ kind: 'leg', legSid: answeredLeg.id, status: 'completed', machine: false });
    memory.machineLegs.delete(root);
    if (k === undefined) {
      // The ledger lacks it: decided from what was listed, and written only when it is a miss.
      const outcome = decideOutcome(withEvidence(NO_FACTS, evidence, true), options.outcome);
      if (outcome.outcome !== 'missed') return;
    } else if (k.decided && newLegs.length === 0 && (k.hasCustomer || customer === '')) {
      // Decided, every leg known, its caller known: nothing the listing adds.
      tally.alreadyRecorded += 1;
      return;
    }
    const report: CallReport = { ...rootReport(root, options, evidence, true, call), reached: reachedAfter(memory, customer, start) };
    count(tally, await deps.ledger.record(report));
  });
  return tally;
}

/**
 * A whole-window run stopped itself before its time was up: what it recorded stays recorded, the
 * watermark did not move, and the next run covers the whole window again.
 */
export class ReconcileDeadlineError extends Error {
  override name = 'ReconcileDeadlineError';
  constructor(readonly partial: RunSummary) {
    super(`Reconciliation stopped before its time was up after ${partial.listed} listed calls; the watermark did not move`);
  }
}

/**
 * One whole-window run in this invocation (the benchmark's one-go run; the Lambda's runs go
 * through lib/reconcile/run.ts and continue instead). Throws ReconcileDeadlineError (the watermark kept)
 * when the time runs out first, and any other failure as it is.
 */
export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<RunSummary> {
  const now = deps.now ?? (() => new Date());
  const window = reconcileWindow(await deps.watermark.read(), now(), options);
  const summary = emptySummary(window);
  const step = await reconcileStep(deps, { window, cursor: START_CURSOR, summary }, options);
  if (!step.done) throw new ReconcileDeadlineError(summary);
  summary.finishedAt = now().toISOString();
  if (window.from < window.to) await deps.watermark.advance(summary.window.to, summary);
  return summary;
}
