/** The operator API's configuration: its table, the Twilio REST credential (health), the default country. */
import { type CountryCode, isSupportedCountry } from 'libphonenumber-js';
import { twilioE164 } from '../phone/phone.js';
import {
  ConfigError,
  type Env,
  integer,
  optional,
  readAuditRetentionDays,
  readPublicBaseUrl,
  readRetentionDays,
  readTableName,
} from '../platform/config.js';
import { readTwilioRest, type TwilioRestConfig } from '../twilio/credentials.js';

export interface OperatorConfig {
  tableName: string;
  twilio: TwilioRestConfig;
  /** How `GET /contacts/{phone}` reads a number written without a country code. */
  defaultCountry: CountryCode;
  /** How long call items live (RETENTION_DAYS): how far back an erasure asks Twilio for the caller's calls. */
  retentionDays: number;
  /** PUBLIC_BASE_URL: the URL Twilio reaches this API at (unset: as the request reached it). */
  publicBaseUrl: string | undefined;
  /** CALLBACK_CALLER_ID: the number a call back shows when its callback names no line. */
  callbackCallerId: string | undefined;
  /** CLAIM_SECONDS (30–3600, default 120): how long starting a call back keeps others from calling that customer. */
  claimSeconds: number;
  /**
   * CALLBACK_MAX_ATTEMPTS (1–20, unset: off): after this many failed calls back since it opened,
   * a callback may be closed as `unreachable`.
   */
  maxAttempts: number | undefined;
  /** AUDIT_RETENTION_DAYS (1–3650, default 365): how long the audit trail keeps an operator action. */
  auditRetentionDays: number;
}

/** Parses the operator Lambda's configuration; throws ConfigError naming the bad variable. */
export function parseOperatorConfig(env: Env): OperatorConfig {
  const defaultCountry = optional(env, 'DEFAULT_COUNTRY') ?? 'US';
  if (!isSupportedCountry(defaultCountry))
    throw new ConfigError(`DEFAULT_COUNTRY must be an ISO 3166 country code, got "${defaultCountry}"`);
  const callerId = optional(env, 'CALLBACK_CALLER_ID');
  const callbackCallerId = callerId === undefined ? undefined : twilioE164(callerId);
  if (callerId !== undefined && callbackCallerId === undefined)
    throw new ConfigError(`CALLBACK_CALLER_ID must be a phone number in E.164 (+1…), got "${callerId}"`);
  return {
    tableName: readTableName(env),
    twilio: readTwilioRest(env),
    defaultCountry,
    retentionDays: readRetentionDays(env),
    publicBaseUrl: readPublicBaseUrl(env),
    callbackCallerId,
    claimSeconds: integer(env, 'CLAIM_SECONDS', 120, 30, 3600),
    auditRetentionDays: readAuditRetentionDays(env),
    maxAttempts: optional(env, 'CALLBACK_MAX_ATTEMPTS') === undefined ? undefined : integer(env, 'CALLBACK_MAX_ATTEMPTS', 0, 1, 20),
  };
}
