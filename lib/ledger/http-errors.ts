/** The ledger's errors as HTTP replies (composed by lib/platform/http.ts `httpStack`). */
import { type ErrorMapper, exposed } from '../platform/http.js';
import { InvalidCallbackError } from './calls.js';

/** 400: not a valid Twilio callback; nothing is written. */
export const callbackErrors: ErrorMapper = (error) => (error instanceof InvalidCallbackError ? exposed(400, error.message) : undefined);
