/**
 * The ledger's domain errors as HTTP replies: the one place they meet HTTP statuses. The
 * webhook, the operator API and the manual reconciliation pass {@link ledgerErrors} to httpStack.
 */
import { InvalidCallbackError } from '../ledger/calls.js';
import { TableUnavailableError } from '../ledger/schema.js';
import { ReconcileBusyError, RunNotStartedError } from '../reconcile/errors.js';
import { TwilioAuthError, TwilioUnavailableError } from '../twilio/errors.js';
import { type ExposedError, exposed, type HttpHandler, httpStack } from './http.js';
import { SecretUnavailableError } from './secrets.js';

export function ledgerErrors(error: unknown): ExposedError | undefined {
  if (error instanceof InvalidCallbackError) return exposed(400, error.message);
  // 503: the delivery was not recorded; Twilio retries per the URL's connection overrides.
  if (error instanceof TableUnavailableError || error instanceof SecretUnavailableError)
    return exposed(503, 'Temporarily unavailable, retry later', { 'Retry-After': '1' });
  if (error instanceof RunNotStartedError) return exposed(503, error.message, { 'Retry-After': '5' });
  if (error instanceof ReconcileBusyError) return exposed(409, error.message, undefined, { runId: error.runningRunId });
  if (error instanceof TwilioAuthError) return exposed(502, error.message);
  if (error instanceof TwilioUnavailableError) return exposed(503, error.message, { 'Retry-After': '60' });
  return undefined;
}

/** httpStack with the ledger's errors mapped. */
export const ledgerHttpStack = (handler: HttpHandler) => httpStack(handler, ledgerErrors);
