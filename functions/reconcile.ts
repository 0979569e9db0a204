/**
 * The reconciliation: nightly on a schedule, and on demand as `POST /reconcile` (a person's
 * token or a machine's API key, lib/auth/caller.ts), which answers 202 with the run's id at once; the run goes on in asynchronous invocations
 * of this function (`{ reconcileRun }` events) until its window is done. `GET /reconcile/runs`
 * and `GET /reconcile/runs/{runId}` show runs. One run at a time (409 while another runs).
 * The nightly invocation also folds the settled days' counter shards (lib/ledger/day-counters.ts).
 */
import type { Context } from 'aws-lambda';
import { recordAudit } from '../lib/audit/trail.js';
import { identify, requirePermission } from '../lib/auth/caller.js';
import { authErrors } from '../lib/auth/http-errors.js';
import { callerAuth } from '../lib/auth/standing.js';
import { createCallbackResolver, openCallbacks } from '../lib/callbacks/store.js';
import { foldDayCounters } from '../lib/ledger/day-counters.js';
import { createReconcileLedger } from '../lib/ledger/store.js';
import { countRequests, documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { httpStack } from '../lib/platform/http.js';
import { secretErrors } from '../lib/platform/http-errors.js';
import { invokeAsync } from '../lib/platform/lambda.js';
import { logger } from '../lib/platform/log.js';
import { toHttpRequest } from '../lib/platform/request.js';
import { parseReconcileConfig } from '../lib/reconcile/config.js';
import { reconcileErrors } from '../lib/reconcile/http-errors.js';
import { createRunLease, ReconcileBusyError } from '../lib/reconcile/lease.js';
import { reconcileOptions } from '../lib/reconcile/reconcile.js';
import { handleReconcileRoute } from '../lib/reconcile/routes.js';
import { type ContinueEvent, createReconcileRuns, isContinueEvent } from '../lib/reconcile/run.js';
import { createRunStore } from '../lib/reconcile/runs.js';
import { createWatermark } from '../lib/reconcile/watermark.js';
import { tableErrors } from '../lib/table/http-errors.js';
import { twilioCallsFactory } from '../lib/twilio/client.js';
import { twilioErrors } from '../lib/twilio/http-errors.js';

const config = parseReconcileConfig(process.env);
logSdkVersionAtColdStart();
const docs = documents();
const runs = createRunStore(docs, config.tableName);
/** This function's own name (set by Lambda, and by serverless-offline): runs continue in it. */
const self = process.env.AWS_LAMBDA_FUNCTION_NAME ?? '';
const invokeSelf = (event: ContinueEvent) => invokeAsync(self, event);
const reconciliation = createReconcileRuns({
  twilioCalls: twilioCallsFactory(config.twilio, ssm),
  ledger: createReconcileLedger(docs, { tableName: config.tableName, retentionDays: config.retentionDays, settings: config.ledger }),
  callbacks: {
    open: () => openCallbacks(docs, config.tableName),
    resolve: createCallbackResolver(docs, { tableName: config.tableName }).resolve,
  },
  watermark: createWatermark(docs, config.tableName),
  dynamoRequests: countRequests(docs),
  options: reconcileOptions({ ...config, outcome: config.ledger, accountSid: config.twilio.accountSid }),
  lease: createRunLease(docs, config.tableName),
  runs,
  invokeSelf,
  invocationLimitMs: config.invocationLimitMs,
});

const auth = callerAuth(process.env, docs, config.tableName);

const http = httpStack(
  async (event) => {
    const request = toHttpRequest(event);
    const caller = await identify(request, auth);
    requirePermission(caller, 'work');
    return handleReconcileRoute(request, {
      audit: (what) => recordAudit(docs, { tableName: config.tableName, retentionDays: config.auditRetentionDays }, caller, what),
      start: () => reconciliation.start('http'),
      invokeSelf,
      abandon: reconciliation.abandon,
      runs,
    });
  },
  tableErrors,
  secretErrors,
  reconcileErrors,
  twilioErrors,
  authErrors,
);

function isHttpEvent(event: unknown): event is Parameters<typeof http>[0] {
  return typeof event === 'object' && event !== null && ('httpMethod' in event || 'routeKey' in event);
}

export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const remaining = () => context.getRemainingTimeInMillis();
  if (isContinueEvent(event)) return reconciliation.continueRun(event.reconcileRun, remaining);
  if (isHttpEvent(event)) return http(event, context);
  // Nightly, first: the settled days' counter shards into their day items (GET /stats reads less).
  await foldDayCounters(docs, config.tableName, new Date()).then(
    (fold) => logger.info('Day counters folded', { ...fold }),
    (error: unknown) => logger.error('Day counters not folded; the next night tries again', { error }),
  );
  let started: Awaited<ReturnType<typeof reconciliation.start>>;
  try {
    started = await reconciliation.start('schedule');
  } catch (error) {
    // The nightly run found another run going (a manual one): that one covers the window.
    if (!(error instanceof ReconcileBusyError)) throw error;
    logger.warn('Scheduled reconciliation skipped: another run holds the lease', { runningRunId: error.runningRunId });
    return { skipped: true, runningRunId: error.runningRunId };
  }
  // The nightly run works in this invocation first, and continues in others if it must.
  const run = await reconciliation.continueRun(started.runId, remaining);
  // A failed nightly run fails its invocation too (the function's Errors metric); the run keeps why.
  if (run?.state === 'failed') throw new Error(`Reconciliation run ${run.runId} failed: ${run.error ?? 'unknown'}`);
  return run;
};
