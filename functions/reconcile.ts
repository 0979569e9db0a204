/**
 * The reconciliation: nightly on a schedule, and on demand as `POST /reconcile` (operator API
 * key), which answers with the run's summary; one run at a time (409 while another runs).
 */
import type { Context } from 'aws-lambda';
import { createReconcileLedger } from '../lib/ledger/store.js';
import { countRequests, documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { ledgerHttpStack } from '../lib/platform/http-errors.js';
import { logger } from '../lib/platform/log.js';
import { parseReconcileConfig } from '../lib/reconcile/config.js';
import { createRunLease, ReconcileBusyError } from '../lib/reconcile/lease.js';
import { reconcileOptions } from '../lib/reconcile/reconcile.js';
import { createReconcileRun } from '../lib/reconcile/run.js';
import { createWatermark } from '../lib/reconcile/watermark.js';
import { twilioCallsFactory } from '../lib/twilio/client.js';

const config = parseReconcileConfig(process.env);
logSdkVersionAtColdStart();
const docs = documents();
const run = createReconcileRun({
  twilioCalls: twilioCallsFactory(config.twilio, ssm),
  ledger: createReconcileLedger(docs, { tableName: config.tableName, retentionDays: config.retentionDays }),
  watermark: createWatermark(docs, config.tableName),
  dynamoRequests: countRequests(docs),
  options: reconcileOptions({ ...config, accountSid: config.twilio.accountSid }),
  lease: createRunLease(docs, config.tableName),
});

const http = ledgerHttpStack(async (_event, context) => ({
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
  try {
    return await run('schedule', () => context.getRemainingTimeInMillis());
  } catch (error) {
    // The nightly run found another run going (a manual one): that one covers the window.
    if (!(error instanceof ReconcileBusyError)) throw error;
    logger.warn('Scheduled reconciliation skipped: another run holds the lease', { runningRunId: error.runningRunId });
    return { skipped: true, runningRunId: error.runningRunId };
  }
};
