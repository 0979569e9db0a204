/**
 * What Twilio's REST answers mean here: the errors the functions map to HTTP, and Twilio's error
 * codes for a refused message. A module of its own, with no imports, so that mapping them pulls
 * no Twilio SDK into a bundle.
 */

/** Twilio refused the credentials: the run fails with this message. */
export class TwilioAuthError extends Error {
  override name = 'TwilioAuthError';
}

/** Twilio kept answering 429/5xx (or not at all) after the bounded retries. */
export class TwilioUnavailableError extends Error {
  override name = 'TwilioUnavailableError';
}

/** The run's time for Twilio requests ran out (a page slower than the Lambda's remaining time). */
export class TwilioDeadlineError extends Error {
  override name = 'TwilioDeadlineError';
}

/** Twilio error codes with a meaning here: https://www.twilio.com/docs/api/errors */
export const TWILIO_ERROR_CODES = {
  /** Authentication failed. */
  authenticate: 20003,
  /** The `To` number is not a valid phone number. */
  invalidTo: 21211,
  /** The recipient replied STOP: Twilio refuses every message to it until START. */
  unsubscribed: 21610,
  /** The `To` number is not a mobile number (a landline). */
  notMobile: 21614,
} as const;

/** What a refused message means. */
export const SEND_FAILURES = ['opted-out', 'not-mobile', 'invalid-number', 'unavailable', 'auth', 'rejected'] as const;
export type SendFailure = (typeof SEND_FAILURES)[number];

/** What Twilio's answer to a message it refused means, by its HTTP status and error code. */
export function sendFailure(status: number, code: number | undefined): SendFailure {
  if (code === TWILIO_ERROR_CODES.unsubscribed) return 'opted-out';
  if (code === TWILIO_ERROR_CODES.notMobile) return 'not-mobile';
  if (code === TWILIO_ERROR_CODES.invalidTo) return 'invalid-number';
  if (status === 401 || status === 403 || code === TWILIO_ERROR_CODES.authenticate) return 'auth';
  if (status === 429 || status >= 500) return 'unavailable';
  return 'rejected';
}
