/** The reconciliation's errors as HTTP replies (composed by lib/platform/http.ts `httpStack`). */
import { type ErrorMapper, exposed } from '../platform/http.js';
import { ReconcileBusyError, RunNotStartedError } from './errors.js';

export const reconcileErrors: ErrorMapper = (error) => {
  if (error instanceof RunNotStartedError) return exposed(503, error.message, { 'Retry-After': '5' });
  if (error instanceof ReconcileBusyError) return exposed(409, error.message, undefined, { runId: error.runningRunId });
  return undefined;
};
