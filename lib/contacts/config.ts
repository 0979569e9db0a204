/** The contacts function's configuration: its table, and the Twilio REST credential for late misses. */
import { type Env, readCallbackMinSeconds, readTableName } from '../platform/config.js';
import { readTwilioRest, type TwilioRestConfig } from '../twilio/credentials.js';

export interface ContactsConfig {
  tableName: string;
  /** Asked, for a miss applied late, whether the number was reached since (lib/callbacks/reached.ts). */
  twilio: TwilioRestConfig;
  callbackMinSeconds: number;
}

/** Parses the contacts Lambda's configuration; throws ConfigError naming the bad variable. */
export function parseContactsConfig(env: Env): ContactsConfig {
  return { tableName: readTableName(env), twilio: readTwilioRest(env), callbackMinSeconds: readCallbackMinSeconds(env) };
}
