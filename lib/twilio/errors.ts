/**
 * The Twilio REST errors the reconciliation maps to HTTP, in a module of their own so that
 * `lib/platform/http.ts` (and so the webhook bundle) never pulls in the Twilio SDK.
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
