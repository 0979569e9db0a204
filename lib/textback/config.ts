/** The text-back function's configuration: its settings, the table, and the Twilio REST credential. */
import { type Env, readTableName } from '../platform/config.js';
import { readTwilioRest, type TwilioRestConfig } from '../twilio/credentials.js';
import { readTextBackSettings, type TextBackSettings } from './settings.js';

export interface TextBackConfig {
  settings: TextBackSettings;
  tableName: string;
  twilio: TwilioRestConfig;
}

/** @throws ConfigError naming the bad variable. */
export function parseTextBackConfig(env: Env): TextBackConfig {
  return { settings: readTextBackSettings(env), tableName: readTableName(env), twilio: readTwilioRest(env) };
}
