/**
 * The whole-call rule's settings, read by every function that records or decides calls (the
 * webhook, the settle sweep, the reconciliation): MISSED_INCLUDE_CANCELED, SHORT_ABANDON_SECONDS,
 * IVR_HANGUPS_MISSED, VOICEMAIL_MIN_SECONDS, OUTCOME_SETTLE_SECONDS, and BUSINESS_HOURS in
 * TIME_ZONE for `afterHours`.
 */
import { boolean, ConfigError, type Env, integer, optional, readIncludeCanceled } from '../platform/config.js';
import { BusinessHoursError, checkTimeZone, parseBusinessHours } from '../platform/hours.js';
import { VOICEMAIL_MIN_SECONDS } from './outcome.js';
import type { LedgerSettings } from './store.js';

/**
 * `SHORT_ABANDON_SECONDS` default: a hang-up within 10 s is a misdial or a change of mind, not a
 * customer to call back (Aircall's cut-off is 10 s, CallRail's 15 s).
 */
export const DEFAULT_SHORT_ABANDON_SECONDS = 10;

/**
 * `OUTCOME_SETTLE_SECONDS` default: Twilio's own retries of a callback end within 15 s
 * (connection overrides `#tt` ≤ 15 s), and a call's callbacks are sent together at its end, so a
 * call with no more evidence 60 s after its last is not getting its final callback.
 */
export const DEFAULT_SETTLE_SECONDS = 60;

/** @throws ConfigError naming the variable. */
export function readLedgerSettings(env: Env): LedgerSettings {
  const hoursText = optional(env, 'BUSINESS_HOURS');
  let hours: LedgerSettings['hours'];
  try {
    hours =
      hoursText === undefined
        ? undefined
        : { rules: parseBusinessHours(hoursText), timeZone: checkTimeZone(optional(env, 'TIME_ZONE') ?? 'UTC') };
  } catch (error) {
    if (error instanceof BusinessHoursError) throw new ConfigError(error.message);
    throw error;
  }
  return {
    includeCanceled: readIncludeCanceled(env),
    shortAbandonSeconds: integer(env, 'SHORT_ABANDON_SECONDS', DEFAULT_SHORT_ABANDON_SECONDS, 0, 600),
    ivrHangupsMissed: boolean(env, 'IVR_HANGUPS_MISSED', false),
    voicemailMinSeconds: integer(env, 'VOICEMAIL_MIN_SECONDS', VOICEMAIL_MIN_SECONDS, 0, 600),
    settleSeconds: integer(env, 'OUTCOME_SETTLE_SECONDS', DEFAULT_SETTLE_SECONDS, 1, 3_600),
    hours,
  };
}
