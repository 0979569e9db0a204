/** The operator API's configuration: its table, the Twilio REST credential (health), the default country. */
import { type CountryCode, isSupportedCountry } from 'libphonenumber-js';
import { ConfigError, type Env, optional, readRetentionDays, readTableName } from '../platform/config.js';
import { readTwilioRest, type TwilioRestConfig } from '../twilio/credentials.js';

export interface OperatorConfig {
  tableName: string;
  twilio: TwilioRestConfig;
  /** How `GET /contacts/{phone}` reads a number written without a country code. */
  defaultCountry: CountryCode;
  /** How long call items live (RETENTION_DAYS): how far back an erasure asks Twilio for the caller's calls. */
  retentionDays: number;
}

/** Parses the operator Lambda's configuration; throws ConfigError naming the bad variable. */
export function parseOperatorConfig(env: Env): OperatorConfig {
  const defaultCountry = optional(env, 'DEFAULT_COUNTRY') ?? 'US';
  if (!isSupportedCountry(defaultCountry))
    throw new ConfigError(`DEFAULT_COUNTRY must be an ISO 3166 country code, got "${defaultCountry}"`);
  return { tableName: readTableName(env), twilio: readTwilioRest(env), defaultCountry, retentionDays: readRetentionDays(env) };
}
