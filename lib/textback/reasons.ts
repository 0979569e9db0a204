/**
 * The text-back's states and reasons, and the shapes of its item: no imports, so that the table's
 * schema (read by every function, the webhook included) can name them without pulling in more.
 */

/** Why an opened callback got no text. */
export const SKIP_REASONS = [
  'outbound', // the miss was a call we placed (outbound-api)
  'invalid-number', // not a number that can receive a text
  'too-old', // the miss is older than TEXT_BACK_MAX_AGE_MINUTES (e.g. recovered at night)
  'cooldown', // texted within TEXT_BACK_COOLDOWN_HOURS
  'opted-out', // the number replied STOP before (Twilio 21610)
  'not-textable', // Twilio said before: not a mobile number, or invalid (21614, 21211)
  'no-sender', // no Messaging Service and no line to send from
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Why a send failed. */
export const FAIL_REASONS = ['opted-out', 'not-mobile', 'invalid-number', 'unavailable', 'auth', 'rejected'] as const;
export type FailReason = (typeof FAIL_REASONS)[number];

export type EpisodeState = 'claimed' | 'sent' | 'skipped' | 'failed' | 'unknown';

/** The text-back of one opened callback, as the contact and the callback show it. */
export interface TextBackEpisode {
  openSince: string;
  state: EpisodeState;
  claimedAt?: string;
  messageSid?: string;
  sentAt?: string;
  reason?: SkipReason | FailReason | 'crashed-after-claim';
  /** Twilio's error code of a failed send. */
  errorCode?: number;
}

/** The `TEXTBACK#<E.164>` item. */
export interface TextBackRecord {
  phone: string;
  version: number;
  episode?: TextBackEpisode;
  lastSentAt?: string;
  /** STOP (21610): never texted again. */
  optedOutAt?: string;
  /** Not a mobile number or invalid (21614, 21211): never texted again. */
  notTextable?: { reason: 'not-mobile' | 'invalid-number'; at: string };
}
