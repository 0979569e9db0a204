/** The recordings function's configuration: whether it deletes, and the Twilio REST credential. */
import { boolean, type Env } from '../platform/config.js';
import { readTwilioRest, type TwilioRestConfig } from '../twilio/credentials.js';

/**
 * `DELETE_RECORDINGS` (default true): delete a call's recordings at Twilio when the ledger
 * forgets the call. `false` for businesses that keep them elsewhere (the rule is then disabled).
 * @throws ConfigError when it is neither true nor false.
 */
export const readDeleteRecordings = (env: Env): boolean => boolean(env, 'DELETE_RECORDINGS', true);

export interface RecordingsConfig {
  enabled: boolean;
  twilio: TwilioRestConfig;
}

/** @throws ConfigError naming the bad variable. */
export function parseRecordingsConfig(env: Env): RecordingsConfig {
  return { enabled: readDeleteRecordings(env), twilio: readTwilioRest(env) };
}
