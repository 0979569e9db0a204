/**
 * One reconciliation run as the Lambda makes it: its time budget, a Twilio client with the
 * REST credential, the run itself, its log line and metrics.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ReconcileLedger } from '../ledger/store.js';
import { logger, SERVICE_NAME } from '../platform/log.js';
import type { TwilioCallsFactory } from '../twilio/client.js';
import { runBudget, type Trigger } from './budget.js';
import { type ReconcileOptions, type RunSummary, reconcile, type Watermark } from './reconcile.js';

export interface RunDeps {
  twilioCalls: TwilioCallsFactory;
  ledger: ReconcileLedger;
  watermark: Watermark;
  dynamoRequests: () => number;
  options: ReconcileOptions;
}

export function createReconcileRun(deps: RunDeps): (trigger: Trigger, lambdaRemainingMs: () => number) => Promise<RunSummary> {
  const metrics = new Metrics({ namespace: 'MissedCallLedger', serviceName: SERVICE_NAME });
  return async (trigger, lambdaRemainingMs) => {
    const budget = runBudget(trigger, lambdaRemainingMs);
    // A page still loading when its deadline passes is abandoned, leaving time to stop cleanly.
    const twilio = await deps.twilioCalls({ deadlineMs: budget.twilioDeadlineMs });
    const summary = await reconcile(
      { twilio, ledger: deps.ledger, watermark: deps.watermark, dynamoRequests: deps.dynamoRequests },
      { ...deps.options, remainingMs: budget.remainingMs, marginMs: budget.marginMs },
    );
    logger.info('Reconciliation done', { trigger, ...summary });
    // Recovered > 0 means webhooks are being lost: alarm on this metric.
    metrics.addMetric('ReconcileRecovered', MetricUnit.Count, summary.recoveredTotal);
    metrics.addMetric('ReconcileListed', MetricUnit.Count, summary.listed);
    metrics.addMetric('ReconcileTwilioRequests', MetricUnit.Count, summary.twilioRequests);
    metrics.publishStoredMetrics();
    return summary;
  };
}
