/** The table's errors as HTTP replies (composed by lib/platform/http.ts `httpStack`). */
import { type ErrorMapper, exposed } from '../platform/http.js';
import { TableUnavailableError } from './items.js';

/** 503: nothing was recorded; Twilio retries per the URL's connection overrides, an operator retries. */
export const tableErrors: ErrorMapper = (error) =>
  error instanceof TableUnavailableError ? exposed(503, 'Temporarily unavailable, retry later', { 'Retry-After': '1' }) : undefined;
