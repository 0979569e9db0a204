/** Twilio's REST errors as HTTP replies (composed by lib/platform/http.ts `httpStack`). */
import { type ErrorMapper, exposed } from '../platform/http.js';
import { TwilioAuthError, TwilioUnavailableError } from './errors.js';

export const twilioErrors: ErrorMapper = (error) => {
  if (error instanceof TwilioAuthError) return exposed(502, error.message);
  if (error instanceof TwilioUnavailableError) return exposed(503, error.message, { 'Retry-After': '60' });
  return undefined;
};
