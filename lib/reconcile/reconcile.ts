/**
 * The nightly reconciliation: list the missed calls Twilio knows in a window, keep those the
 * ledger lacks (or lacks facts of), and send them through the SAME idempotent recording path
 * as the webhook, with source `reconcile`. The watermark advances only after the whole window.
 */
import { callStatus, type MissedStatus, missedCall, missedStatus, missedStatuses, rootCallSid } from '../ledger/calls.js';
import type { ReconcileLedger } from '../ledger/store.js';
import { mapLimit } from '../platform/pool.js';
import type { TwilioCall, TwilioCalls } from '../twilio/client.js';
import { TwilioDeadlineError } from '../twilio/errors.js';
import { ReconcileDeadlineError } from './errors.js';

export { ReconcileDeadlineError };

export interface RunSummary {
  window: { from: string; to: string };
  /** Distinct calls listed that started inside the window. */
  listed: number;
  alreadyRecorded: number;
  recovered: Partial<Record<MissedStatus, number>>;
  recoveredTotal: number;
  /** Recorded calls to which the run added a leg or the customer's number. */
  enriched: number;
  parentsFetched: number;
  twilioRequests: number;
  /** DynamoDB requests for the window (the watermark's own read and write not counted). */
  dynamoRequests: number;
  durationMs: number;
  finishedAt: string;
}

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

export interface ReconcileDeps {
  twilio: TwilioCalls;
  ledger: ReconcileLedger;
  watermark: Watermark;
  /** DynamoDB HTTP requests made so far by the client the ledger and watermark use. */
  dynamoRequests: () => number;
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

/** One reconciliation run. Throws (and leaves the watermark) if any part of the window fails. */
export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<RunSummary> {
  const now = deps.now ?? (() => new Date());
  const started = now();
  const startedMs = performance.now();
  const window = reconcileWindow(await deps.watermark.read(), started, options);
  const twilioBefore = deps.twilio.requests();
  const dynamoBefore = deps.dynamoRequests();
  const summary: RunSummary = {
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    listed: 0,
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
  const parents = new Map<string, Promise<TwilioCall | undefined>>();
  const parentOf = (sid: string): Promise<TwilioCall | undefined> => {
    let found = parents.get(sid);
    if (found === undefined) {
      summary.parentsFetched += 1;
      found = deps.twilio.fetch(sid);
      parents.set(sid, found);
    }
    return found;
  };

  const stopped = () => {
    summary.twilioRequests = deps.twilio.requests() - twilioBefore;
    summary.dynamoRequests = deps.dynamoRequests() - dynamoBefore;
    summary.durationMs = Math.round(performance.now() - startedMs);
    return new ReconcileDeadlineError(summary);
  };
  const stopIfLate = () => {
    if (options.remainingMs !== undefined && options.remainingMs() < (options.marginMs ?? 30_000)) throw stopped();
  };

  async function listAndRecord(): Promise<void> {
    // Twilio's Calls list has returned the same SID twice across pages: each call counts once.
    const seen = new Set<string>();
    for (const status of options.statuses) {
      for await (const listedPage of deps.twilio.list(status, window.from, window.to)) {
        const page = listedPage.filter((call) => !seen.has(call.sid));
        for (const call of page) seen.add(call.sid);
        summary.listed += page.length;
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
            summary.alreadyRecorded += 1;
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
            summary.recovered[missed] = (summary.recovered[missed] ?? 0) + 1;
            summary.recoveredTotal += 1;
          } else if (result.merged) summary.enriched += 1;
          else summary.alreadyRecorded += 1;
        });
        // Before asking Twilio for the next page: is there time left for it?
        stopIfLate();
      }
    }
  }

  if (window.from < window.to) {
    try {
      await listAndRecord();
    } catch (error) {
      // A single page (or parent fetch) outlasted the time left: the same clean stop.
      if (error instanceof TwilioDeadlineError) throw stopped();
      throw error;
    }
  }

  const finished = now();
  summary.twilioRequests = deps.twilio.requests() - twilioBefore;
  summary.durationMs = Math.round(performance.now() - startedMs);
  summary.finishedAt = finished.toISOString();
  summary.dynamoRequests = deps.dynamoRequests() - dynamoBefore;
  if (window.from < window.to) await deps.watermark.advance(summary.window.to, summary);
  return summary;
}
