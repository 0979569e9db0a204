/**
 * The reconciliation: nightly on a schedule, and on demand as `POST /reconcile` (operator API
 * key), which answers with the run's summary.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { countRequests, documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { parseReconcileConfig } from '../lib/platform/config.js';
import { httpStack } from '../lib/platform/http.js';
import { createLedger } from '../lib/ledger/store.js';
import { logger } from '../lib/platform/log.js';
import { type RunSummary, reconcile, reconcileOptions } from '../lib/reconcile/reconcile.js';
import { authTokenResolver } from '../lib/platform/secrets.js';
import { createTwilioCalls } from '../lib/twilio/client.js';
import { createWatermark } from '../lib/reconcile/watermark.js';

const config = parseReconcileConfig(process.env);
logSdkVersionAtColdStart();
const secret = authTokenResolver(config.twilioSecret, ssm);
const docs = documents();
const dynamoRequests = countRequests(docs);
const ledger = createLedger(docs, { tableName: config.tableName, retentionDays: config.retentionDays });
const watermark = createWatermark(docs, config.tableName);
const metrics = new Metrics({ namespace: 'MissedCallLedger', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'missed-call-ledger' });

async function run(trigger: 'schedule' | 'http', remainingMs: () => number): Promise<RunSummary> {
  const startedAt = Date.now();
  // API Gateway cuts HTTP at 29 s; the schedule has the function's whole timeout.
  const timeLeft = trigger === 'http' ? () => Math.min(remainingMs(), 29_000 - (Date.now() - startedAt)) : remainingMs;
  const [password = ''] = await secret();
  const twilio = createTwilioCalls({
    accountSid: config.accountSid,
    username: config.twilioUsername,
    password,
    baseUrl: config.twilioApiBaseUrl,
    // A page still loading when this runs out is abandoned, leaving time to stop cleanly.
    deadlineMs: () => timeLeft() - (trigger === 'http' ? 2_000 : 10_000),
  });
  const summary = await reconcile(
    { twilio, ledger, watermark, dynamoRequests },
    {
      ...reconcileOptions(config),
      remainingMs: timeLeft,
      marginMs: trigger === 'http' ? 5_000 : 30_000,
    },
  );
  logger.info('Reconciliation done', { trigger, ...summary });
  // Recovered > 0 means webhooks are being lost: alarm on this metric.
  metrics.addMetric('ReconcileRecovered', MetricUnit.Count, summary.recoveredTotal);
  metrics.addMetric('ReconcileListed', MetricUnit.Count, summary.listed);
  metrics.addMetric('ReconcileTwilioRequests', MetricUnit.Count, summary.twilioRequests);
  metrics.publishStoredMetrics();
  return summary;
}

const http = httpStack(async (_event, context) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(await run('http', () => context.getRemainingTimeInMillis())),
}));

function isHttpEvent(event: unknown): event is Parameters<typeof http>[0] {
  return typeof event === 'object' && event !== null && ('httpMethod' in event || 'routeKey' in event);
}

export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  if (isHttpEvent(event)) return http(event, context);
  return run('schedule', () => context.getRemainingTimeInMillis());
};
