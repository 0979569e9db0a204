/**
 * The text-back settings (`TEXT_BACK` and friends). Read at package time by
 * resources/text-back.cjs, so that a bad value fails `osls package`/deploy with its name, and
 * again at the function's cold start. No SDK here: only Intl and the environment.
 */
import { ConfigError, type Env, integer, optional } from '../platform/config.js';
import { BusinessHoursError, checkTimeZone, type HoursRule, parseBusinessHours } from '../platform/hours.js';

export interface TextBackSettings {
  enabled: boolean;
  message: string;
  afterHoursMessage: string;
  hours: HoursRule[];
  /** The BUSINESS_HOURS text as given ('' = always open). */
  hoursText: string;
  timeZone: string;
  cooldownHours: number;
  maxAgeMinutes: number;
  /** Send through this Messaging Service instead of from the number the caller dialled. */
  messagingServiceSid: string | undefined;
}

export const DEFAULT_MESSAGE = 'Sorry we missed your call. We will call you back shortly. Reply STOP to opt out.';
export const DEFAULT_AFTER_HOURS_MESSAGE =
  'Sorry we missed your call. We are closed now and will call you back when we open. Reply STOP to opt out.';

/** One SMS segment of GSM-7 holds 160 characters; a text-back is kept within 320 (two). */
const MAX_MESSAGE = 320;

function message(env: Env, name: string, fallback: string): string {
  const value = optional(env, name) ?? fallback;
  if (value.length > MAX_MESSAGE) throw new ConfigError(`${name} must be at most ${MAX_MESSAGE} characters, got ${value.length}`);
  return value;
}

/** @throws ConfigError naming the variable. */
export function readTextBackSettings(env: Env): TextBackSettings {
  const raw = (optional(env, 'TEXT_BACK') ?? 'off').toLowerCase();
  if (raw !== 'on' && raw !== 'off') throw new ConfigError(`TEXT_BACK must be on or off, got "${raw}"`);
  const sid = optional(env, 'TEXT_BACK_MESSAGING_SERVICE_SID');
  if (sid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(sid))
    throw new ConfigError('TEXT_BACK_MESSAGING_SERVICE_SID must look like MG followed by 32 hex digits');
  const hoursText = optional(env, 'BUSINESS_HOURS') ?? '';
  let hours: HoursRule[];
  let timeZone: string;
  try {
    hours = parseBusinessHours(hoursText);
    timeZone = checkTimeZone(optional(env, 'TIME_ZONE') ?? 'UTC');
  } catch (error) {
    if (error instanceof BusinessHoursError) throw new ConfigError(error.message);
    throw error;
  }
  return {
    enabled: raw === 'on',
    message: message(env, 'TEXT_BACK_MESSAGE', DEFAULT_MESSAGE),
    afterHoursMessage: message(env, 'TEXT_BACK_AFTER_HOURS_MESSAGE', DEFAULT_AFTER_HOURS_MESSAGE),
    hours,
    hoursText,
    timeZone,
    cooldownHours: integer(env, 'TEXT_BACK_COOLDOWN_HOURS', 24, 0, 24 * 365),
    maxAgeMinutes: integer(env, 'TEXT_BACK_MAX_AGE_MINUTES', 30, 1, 24 * 60),
    messagingServiceSid: sid,
  };
}
