/**
 * One reconciliation run as the Lambda makes it: its time budget, a Twilio client with the
 * REST credential, the run itself, its log line and metrics.
 */
import { randomBytes } from 'node:crypto';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ReconcileLedger } from '../ledger/store.js';
import { logger, SERVICE_NAME } from '../platform/log.js';
import type { TwilioCallsFactory } from '../twilio/client.js';
import { runBudget, type Trigger } from './budget.js';
import type { RunLease } from './lease.js';
import { type ReconcileOptions, type RunSummary, reconcile, type Watermark } from './reconcile.js';

export interface RunDeps {
  twilioCalls: TwilioCallsFactory;
  ledger: ReconcileLedger;
  watermark: Watermark;
  dynamoRequests: () => number;
  options: ReconcileOptions;
  /** One run at a time (lib/reconcile/lease.ts). */
  lease: RunLease;
}

/** A run's id: when it started, then 4 random bytes. */
export const newRunId = (now = new Date()): string => `${now.toISOString()}-${randomBytes(4).toString('hex')}`;

/**
 * Runs one reconciliation under the lease.
 * @throws ReconcileBusyError while another run holds the lease (POST /reconcile answers 409).
 */
export function createReconcileRun(
  deps: RunDeps,
): (trigger: Trigger, lambdaRemainingMs: () => number) => Promise<RunSummary & { runId: string }> {
  const metrics = new Metrics({ namespace: 'MissedCallLedger', serviceName: SERVICE_NAME });
  return async (trigger, lambdaRemainingMs) => {
    const budget = runBudget(trigger, lambdaRemainingMs);
    const runId = newRunId();
    // Held for the run's whole budget: a run that dies keeps others out only until then.
    await deps.lease.acquire(runId, Math.max(1_000, budget.remainingMs()) + 5_000);
    let summary: RunSummary;
    try {
      // A page still loading when its deadline passes is abandoned, leaving time to stop cleanly.
      const twilio = await deps.twilioCalls({ deadlineMs: budget.twilioDeadlineMs });
      summary = await reconcile(
        { twilio, ledger: deps.ledger, watermark: deps.watermark, dynamoRequests: deps.dynamoRequests },
        { ...deps.options, remainingMs: budget.remainingMs, marginMs: budget.marginMs },
      );
    } finally {
      await deps.lease
        .release(runId)
        .catch((error: unknown) => logger.warn('Reconciliation lease not given back; it expires', { runId, error }));
    }
    logger.info('Reconciliation done', { trigger, runId, ...summary });
    // Recovered > 0 means webhooks are being lost: alarm on this metric.
    metrics.addMetric('ReconcileRecovered', MetricUnit.Count, summary.recoveredTotal);
    metrics.addMetric('ReconcileListed', MetricUnit.Count, summary.listed);
    metrics.addMetric('ReconcileTwilioRequests', MetricUnit.Count, summary.twilioRequests);
    metrics.publishStoredMetrics();
    return { runId, ...summary };
  };
}
