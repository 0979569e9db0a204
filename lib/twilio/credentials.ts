/**
 * The Twilio account and the ONE credential of the REST API (reconciliation, health check, late misses): an
 * API key (`TWILIO_API_KEY_SID` with its secret) or the account SID with its auth token. No SDK
 * here: the webhook reads its account from this module. Its accepted tokens are its own
 * (lib/webhook/config.ts); `twilioCallsFactory` (client.ts) builds the REST client.
 */
import { ConfigError, type Env, optional, required } from '../platform/config.js';
import type { SecretSource } from '../platform/secrets.js';

/** Reads and validates `TWILIO_ACCOUNT_SID`. */
export function readAccountSid(env: Env): string {
  const sid = required(env, 'TWILIO_ACCOUNT_SID');
  if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) {
    throw new ConfigError('TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits');
  }
  return sid;
}

export interface TwilioRestConfig {
  accountSid: string;
  /** Basic-auth user: the account SID (with the auth token) or an API key SID (with its secret). */
  username: string;
  secret: SecretSource;
  /** Another origin for api.twilio.com (the local Twilio-shaped API); unset in AWS. */
  baseUrl: string | undefined;
}

/**
 * The ONE Twilio credential of the REST API (reconciliation, health check, late misses): an API key
 * (`TWILIO_API_KEY_SID` with its secret) or the account SID with its auth token. The secret is
 * given directly locally (`TWILIO_API_KEY_SECRET` or `TWILIO_AUTH_TOKEN`) or read from the one
 * SSM parameter `TWILIO_REST_SECRET_PARAM` that serverless.yml picks and the role may read.
 */
export function readRestCredential(env: Env, accountSid: string): { username: string; secret: SecretSource } {
  const apiKeySid = optional(env, 'TWILIO_API_KEY_SID');
  if (apiKeySid !== undefined && !/^SK[0-9a-fA-F]{32}$/.test(apiKeySid)) {
    throw new ConfigError('TWILIO_API_KEY_SID must look like SK followed by 32 hex digits');
  }
  const direct = optional(env, apiKeySid === undefined ? 'TWILIO_AUTH_TOKEN' : 'TWILIO_API_KEY_SECRET');
  const parameter = optional(env, 'TWILIO_REST_SECRET_PARAM');
  const username = apiKeySid ?? accountSid;
  if (direct !== undefined) return { username, secret: { kind: 'env', tokens: [direct] } };
  if (parameter !== undefined) return { username, secret: { kind: 'ssm', primary: parameter, secondary: undefined } };
  throw new ConfigError(
    apiKeySid === undefined
      ? 'Set TWILIO_AUTH_TOKEN, or TWILIO_REST_SECRET_PARAM naming the SSM parameter with the auth token'
      : 'TWILIO_API_KEY_SID needs TWILIO_API_KEY_SECRET, or TWILIO_REST_SECRET_PARAM naming the SSM parameter with its secret',
  );
}

/** The account, its REST credential and `TWILIO_API_BASE_URL`. */
export function readTwilioRest(env: Env): TwilioRestConfig {
  const accountSid = readAccountSid(env);
  const { username, secret } = readRestCredential(env, accountSid);
  const baseUrl = optional(env, 'TWILIO_API_BASE_URL');
  if (baseUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(baseUrl)) {
    throw new ConfigError(`TWILIO_API_BASE_URL must be an origin such as http://127.0.0.1:4010, got "${baseUrl}"`);
  }
  return { accountSid, username, secret, baseUrl };
}
