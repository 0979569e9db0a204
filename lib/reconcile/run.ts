/**
 * A reconciliation run as the Lambda makes it, over as many invocations as its window needs.
 * `start` takes the lease and writes the run (state `running`, its window fixed); `continueRun`
 * works through the window from the run's cursor in this invocation, checkpointing after every
 * page; when its time is up it hands the run to a fresh asynchronous invocation of the function
 * (`invokeSelf`), and when the window is done it moves the watermark, ends the run `succeeded`
 * and gives the lease back. Any failure ends the run `failed` with a message the operator may see.
 */
import { randomBytes } from 'node:crypto';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ReconcileLedger } from '../ledger/store.js';
import { logger, SERVICE_NAME } from '../platform/log.js';
import { TableUnavailableError } from '../table/items.js';
import type { TwilioCallsFactory } from '../twilio/client.js';
import { TwilioAuthError, TwilioUnavailableError } from '../twilio/errors.js';
import { invocationBudget } from './budget.js';
import type { RunLease } from './lease.js';
import {
  emptySummary,
  type OpenCallbacks,
  type ReconcileOptions,
  reconcileStep,
  reconcileWindow,
  START_CURSOR,
  type Watermark,
} from './reconcile.js';
import type { RunRecord, RunStore, Trigger } from './runs.js';

/** The event of an invocation that continues a run. */
export interface ContinueEvent {
  reconcileRun: string;
}

export function isContinueEvent(event: unknown): event is ContinueEvent {
  return typeof event === 'object' && event !== null && 'reconcileRun' in event && typeof event.reconcileRun === 'string';
}

export interface RunDeps {
  twilioCalls: TwilioCallsFactory;
  ledger: ReconcileLedger;
  /** Open callbacks the run's answered calls resolve (unset: none). */
  callbacks?: OpenCallbacks;
  watermark: Watermark;
  dynamoRequests: () => number;
  options: ReconcileOptions;
  /** One run at a time (lib/reconcile/lease.ts). */
  lease: RunLease;
  runs: RunStore;
  /** Queues an asynchronous invocation of this function with `event`. */
  invokeSelf: (event: ContinueEvent) => Promise<void>;
  /** The most an invocation works before handing on (RECONCILE_INVOCATION_SECONDS); unset: until the Lambda's timeout nears. */
  invocationLimitMs?: number;
  now?: () => number;
}

/**
 * The lease a run holds between invocations: long enough for Lambda's queue to start the next one,
 * short enough that a run whose invocation was lost lets the next run in soon.
 */
export const HANDOFF_LEASE_MS = 120_000;
/** A run that records no page in this many invocations in a row has failed (Twilio too slow to answer a page). */
export const MAX_STALLS = 3;
/** No run takes more invocations than this (Lambda's recursive-loop detection counts about 16 in a chain). */
export const MAX_INVOCATIONS = 12;

/** A run's id: when it started, then 4 random bytes. */
export const newRunId = (now = new Date()): string => `${now.toISOString()}-${randomBytes(4).toString('hex')}`;

/** The failure the operator sees in the run: the message of the errors that say something, no more. */
function failureMessage(error: unknown): string {
  if (error instanceof TwilioAuthError || error instanceof TwilioUnavailableError || error instanceof TableUnavailableError) {
    return error.message;
  }
  return 'Internal error (see the reconcile function’s log for this run)';
}

export function createReconcileRuns(deps: RunDeps) {
  const metrics = new Metrics({ namespace: 'MissedCallLedger', serviceName: SERVICE_NAME });
  const now = deps.now ?? Date.now;
  const iso = (ms = now()) => new Date(ms).toISOString();

  async function fail(run: RunRecord, error: unknown, message = failureMessage(error)): Promise<void> {
    logger.error('Reconciliation failed', { runId: run.runId, error });
    await deps.runs.finish(run.runId, { state: 'failed', error: message });
    metrics.addMetric('ReconcileFailed', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    await deps.lease
      .release(run.runId)
      .catch((releaseError: unknown) =>
        logger.warn('Reconciliation lease not given back; it expires', { runId: run.runId, error: releaseError }),
      );
  }

  /**
   * Takes the lease and writes a new run; returns it. The window is fixed here, from the watermark.
   * @throws ReconcileBusyError while another run holds the lease.
   */
  async function start(trigger: Trigger): Promise<RunRecord> {
    const startedAt = now();
    const runId = newRunId(new Date(startedAt));
    const window = reconcileWindow(await deps.watermark.read(), new Date(startedAt), deps.options);
    const { tookOverFrom } = await deps.lease.acquire(runId, HANDOFF_LEASE_MS);
    if (tookOverFrom !== undefined) {
      // Its invocation died and its lease ran out: it ends here, and this run covers its window again.
      const ended = await deps.runs.finish(tookOverFrom, {
        state: 'failed',
        error: `Stopped without finishing; run ${runId} took over after its lease ran out`,
      });
      if (ended) logger.warn('Took over from a reconciliation that stopped without finishing', { runId, tookOverFrom });
    }
    const run: RunRecord = {
      runId,
      trigger,
      state: 'running',
      startedAt: iso(startedAt),
      updatedAt: iso(startedAt),
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      cursor: START_CURSOR,
      summary: emptySummary(window),
      invocations: 0,
      stalls: 0,
      leaseExpiresAt: iso(startedAt + HANDOFF_LEASE_MS),
    };
    try {
      await deps.runs.create(run);
    } catch (error) {
      await deps.lease.release(runId).catch(() => {});
      throw error;
    }
    logger.info('Reconciliation started', { trigger, runId, window: run.window });
    return run;
  }

  /**
   * Works on a run in this invocation: to its end, or until the time is up and a fresh invocation
   * has been queued to go on. Does nothing for a run that is not `running` (a duplicate event).
   * Never throws for the run's own failures: they end the run `failed`.
   */
  async function continueRun(runId: string, lambdaRemainingMs: () => number): Promise<RunRecord | undefined> {
    const run = await deps.runs.get(runId);
    if (run === undefined || run.state !== 'running') {
      logger.warn('Reconciliation continuation for a run that is not running: nothing to do', { runId, state: run?.state });
      return run;
    }
    const budget = invocationBudget(lambdaRemainingMs, deps.invocationLimitMs, now);
    const leaseMs = Math.max(1_000, lambdaRemainingMs()) + 5_000;
    if (!(await deps.lease.renew(runId, leaseMs))) {
      await fail(run, undefined, 'Stopped without finishing: another run took the lease over');
      return deps.runs.get(runId);
    }
    const invocations = run.invocations + 1;
    const summary = run.summary;
    const window = { from: new Date(run.window.from), to: new Date(run.window.to) };
    try {
      await deps.runs.checkpoint(runId, { invocations, leaseExpiresAt: iso(now() + leaseMs) });
      // A page still loading when its deadline passes is abandoned, leaving time to stop cleanly.
      const twilio = await deps.twilioCalls({ deadlineMs: budget.twilioDeadlineMs });
      const step = await reconcileStep(
        {
          twilio,
          ledger: deps.ledger,
          dynamoRequests: deps.dynamoRequests,
          ...(deps.callbacks === undefined ? {} : { callbacks: deps.callbacks }),
        },
        { window, cursor: run.cursor, summary },
        { ...deps.options, remainingMs: budget.remainingMs, marginMs: budget.marginMs },
        async (cursor, counted) => {
          await deps.runs.checkpoint(runId, { cursor, summary: counted });
        },
      );
      if (step.done) {
        summary.finishedAt = iso();
        if (window.from < window.to) await deps.watermark.advance(run.window.to, summary);
        await deps.runs.finish(runId, { state: 'succeeded', summary });
        await deps.lease
          .release(runId)
          .catch((error: unknown) => logger.warn('Reconciliation lease not given back; it expires', { runId, error }));
        logger.info('Reconciliation done', { trigger: run.trigger, runId, invocations, ...summary });
        // Recovered > 0 means webhooks are being lost: alarm on this metric.
        metrics.addMetric('ReconcileRecovered', MetricUnit.Count, summary.recoveredTotal);
        metrics.addMetric('ReconcileListed', MetricUnit.Count, summary.listed);
        metrics.addMetric('ReconcileTwilioRequests', MetricUnit.Count, summary.twilioRequests);
        metrics.publishStoredMetrics();
        return deps.runs.get(runId);
      }
      const stalls = step.pages === 0 ? run.stalls + 1 : 0;
      if (stalls >= MAX_STALLS) {
        await fail(run, undefined, `No Twilio page could be recorded in ${stalls} invocations in a row; the watermark did not move`);
        return deps.runs.get(runId);
      }
      if (invocations >= MAX_INVOCATIONS) {
        await fail(run, undefined, `The window was not done after ${invocations} invocations; the watermark did not move`);
        return deps.runs.get(runId);
      }
      await deps.runs.checkpoint(runId, { cursor: step.cursor, summary, stalls, leaseExpiresAt: iso(now() + HANDOFF_LEASE_MS) });
      await deps.lease.renew(runId, HANDOFF_LEASE_MS);
      await deps.invokeSelf({ reconcileRun: runId });
      logger.info('Reconciliation continues in a fresh invocation', { runId, invocations, pages: summary.pages, listed: summary.listed });
      return deps.runs.get(runId);
    } catch (error) {
      await fail(run, error).catch((failError: unknown) =>
        logger.error('Reconciliation failure not recorded', { runId, error: failError }),
      );
      return deps.runs.get(runId).catch(() => undefined);
    }
  }

  /** Ends a run that will not go on (its first invocation could not be queued). */
  const abandon = (run: RunRecord, error: unknown) => fail(run, error, 'Lambda did not queue the run’s invocation');
  return { start, continueRun, abandon };
}
