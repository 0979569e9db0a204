/**
 * The nightly reconciliation: list the missed calls Twilio knows in a window, keep those the
 * ledger lacks (or lacks facts of), and send them through the SAME idempotent recording path
 * as the webhook, with source `reconcile`. The watermark advances only after the whole window.
 *
 * `reconcileStep` works through a window from a cursor until it is done or its time is up, so
 * that a run can continue in another invocation (lib/reconcile/run.ts); `reconcile` runs a
 * whole window in one go.
 */
import { callStatus, type MissedStatus, missedCall, missedStatus, missedStatuses, rootCallSid } from '../ledger/calls.js';
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
}

export const START_CURSOR: RunCursor = { status: 0, lastPageSids: [] };

export interface Watermark {
  /** End of the last window that fully succeeded. */
  read(): Promise<string | undefined>;
  /** Moves the watermark to `windowEnd` (never backwards) and keeps the run's summary. */
  advance(windowEnd: string, summary: RunSummary): Promise<void>;
}

export interface ReconcileOptions {
  accountSid: string;
  statuses: readonly MissedStatus[];
  includeCanceled: boolean;
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

export interface StepDeps {
  twilio: TwilioCalls;
  ledger: ReconcileLedger;
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
  includeCanceled: boolean;
  overlapMinutes: number;
  settleMinutes: number;
  lookbackHours: number;
}): ReconcileOptions {
  return {
    accountSid: settings.accountSid,
    statuses: missedStatuses(settings.includeCanceled),
    includeCanceled: settings.includeCanceled,
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

interface Group {
  root: string;
  legs: Set<string>;
  /** The first listed leg decides the status, as the first webhook does. */
  first: TwilioCall;
  /** The root call itself, when it was listed. */
  rootCall: TwilioCall | undefined;
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
  const parents = new Map<string, Promise<TwilioCall | undefined>>();
  let cursor: RunCursor = run.cursor;
  let pages = 0;
  const late = () => options.remainingMs !== undefined && options.remainingMs() < (options.marginMs ?? 30_000);

  try {
    if (!(window.from < window.to)) return { done: true, cursor, pages };
    // Twilio's Calls list has returned the same SID twice across pages: each call counts once.
    const seen = new Set<string>(cursor.lastPageSids);
    for (let status = cursor.status; status < options.statuses.length; status++) {
      const listing = deps.twilio.list(options.statuses[status] as MissedStatus, window.from, window.to, cursor.pageUrl);
      for await (const listed of listing) {
        const page = listed.calls.filter((call) => !seen.has(call.sid));
        for (const call of page) seen.add(call.sid);
        const tally = await recordPage(deps, page, options, parents);
        tally.pages = 1;
        addCounts(summary, tally);
        pages += 1;
        cursor =
          listed.nextPageUrl === undefined
            ? { status: status + 1, lastPageSids: [] }
            : { status, pageUrl: listed.nextPageUrl, lastPageSids: page.map((call) => call.sid) };
        account();
        await onPage?.(cursor, summary);
        // Before asking Twilio for the next page: is there time left for it?
        if (cursor.status < options.statuses.length && late()) return { done: false, cursor, pages };
      }
      if (cursor.status === status) cursor = { status: status + 1, lastPageSids: [] };
    }
    return { done: true, cursor, pages };
  } catch (error) {
    // A single page (or parent fetch) outlasted the time left: the same clean stop; the page is
    // done again from its URL by the next invocation.
    if (error instanceof TwilioDeadlineError) return { done: false, cursor, pages };
    throw error;
  } finally {
    account();
    summary.parentsFetched += parents.size;
  }
}

/** Records one page's calls; returns what it counted. */
async function recordPage(
  deps: StepDeps,
  page: TwilioCall[],
  options: ReconcileOptions,
  parents: Map<string, Promise<TwilioCall | undefined>>,
): Promise<RunSummary> {
  const tally = emptySummary({ from: new Date(0), to: new Date(0) });
  tally.listed = page.length;
  const parentOf = (sid: string): Promise<TwilioCall | undefined> => {
    let found = parents.get(sid);
    if (found === undefined) {
      found = deps.twilio.fetch(sid);
      parents.set(sid, found);
    }
    return found;
  };
  const groups = new Map<string, Group>();
  for (const call of page) {
    const root = rootCallSid(call.sid, call.parentCallSid);
    const group = groups.get(root) ?? { root, legs: new Set([root]), first: call, rootCall: undefined };
    group.legs.add(call.sid);
    if (call.sid === root) group.rootCall = call;
    groups.set(root, group);
  }
  const known = await deps.ledger.find([...groups.keys()]);
  await mapLimit([...groups.values()], options.concurrency ?? 8, async (group) => {
    const existing = known.get(group.root);
    if (existing?.hasCustomer && [...group.legs].every((leg) => existing.legSids.has(leg))) {
      tally.alreadyRecorded += 1;
      return;
    }
    // The customer is on the root call; fetch it once per root when it was not listed.
    const needsCustomer = existing === undefined || !existing.hasCustomer;
    const rootCall = group.rootCall ?? (needsCustomer ? await parentOf(group.root) : undefined);
    const listedStatus = callStatus(group.first.status);
    const missed = listedStatus === undefined ? undefined : missedStatus(listedStatus, options.includeCanceled);
    if (missed === undefined) return;
    // The customer is on the root call; a `<Dial>` child leg (outbound-dial) carries none.
    const call = missedCall(rootCall ?? group.first, {
      rootCallSid: group.root,
      legCallSids: [...group.legs],
      accountSid: options.accountSid,
      status: missed,
      source: 'reconcile',
      startedAt: (rootCall?.startTime ?? group.first.startTime)?.toISOString(),
      reportedAt: undefined,
    });
    const result = await deps.ledger.record(call);
    if (result.outcome === 'recorded') {
      tally.recovered[missed] = (tally.recovered[missed] ?? 0) + 1;
      tally.recoveredTotal += 1;
    } else if (result.merged) tally.enriched += 1;
    else tally.alreadyRecorded += 1;
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
