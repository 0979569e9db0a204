/**
 * The platform's own errors as HTTP replies. Each feature maps its own errors beside them
 * (lib/table/http-errors.ts, lib/ledger/http-errors.ts, lib/reconcile/http-errors.ts,
 * lib/twilio/http-errors.ts) and each function passes the mappers of the errors it can throw to
 * {@link httpStack}: platform/ imports no domain, and no bundle carries another's errors.
 */
import type { ErrorMapper } from './http.js';
import { exposed } from './http.js';
import { SecretUnavailableError } from './secrets.js';

/** 503: a secret (SSM) could not be read; the caller retries. */
export const secretErrors: ErrorMapper = (error) =>
  error instanceof SecretUnavailableError ? exposed(503, 'Temporarily unavailable, retry later', { 'Retry-After': '1' }) : undefined;
