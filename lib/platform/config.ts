/**
 * Configuration, read once per cold start from the environment that `serverless.yml` sets.
 * Every value is validated here, and a bad one fails fast with the variable's name.
 */
import { WINDOW_DEFAULTS } from '../reconcile/reconcile.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Where the Twilio auth token(s) come from: given directly (local stack) or SSM (AWS). */
export type AuthTokenSource = { kind: 'env'; tokens: readonly string[] } | { kind: 'ssm'; primary: string; secondary: string | undefined };

export interface WebhookConfig {
  tableName: string;
  accountSid: string;
  authTokens: AuthTokenSource;
  /** Public base URL that Twilio calls (scheme, host and stage or base path), no trailing slash. */
  publicBaseUrl: string | undefined;
  retentionDays: number;
  includeCanceled: boolean;
  /** TwiML returned to a `<Dial action>` callback. */
  dialActionTwiml: string;
  /**
   * The connection-override fragment configured on the callback URLs (without `#`), or
   * undefined. Whether Twilio signs the URL with it is not documented: signatures over the URL
   * with and without it are accepted.
   */
  urlFragment: string | undefined;
}

/** The fragment the README recommends on the callback URLs: up to 3 retries on any failure. */
export const DEFAULT_URL_FRAGMENT = 'rc=3&rp=all';

export const DEFAULT_DIAL_ACTION_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';

type Env = Readonly<Record<string, string | undefined>>;

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function required(env: Env, name: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigError(`${name} is required but not set`);
  return value;
}

/** A whole-number variable within [min, max], or `fallback` when unset. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** Reads and validates `TWILIO_ACCOUNT_SID`. */
export function readAccountSid(env: Env): string {
  const sid = required(env, 'TWILIO_ACCOUNT_SID');
  if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) {
    throw new ConfigError('TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits');
  }
  return sid;
}

/**
 * The auth token source. An explicit `TWILIO_AUTH_TOKEN` wins (the local stack sets it);
 * otherwise the SSM parameter names that `serverless.yml` sets are used.
 */
export function readAuthTokens(env: Env): AuthTokenSource {
  const primary = optional(env, 'TWILIO_AUTH_TOKEN');
  if (primary !== undefined) {
    const secondary = optional(env, 'TWILIO_AUTH_TOKEN_SECONDARY');
    return { kind: 'env', tokens: secondary === undefined ? [primary] : [primary, secondary] };
  }
  const parameter = optional(env, 'TWILIO_AUTH_TOKEN_PARAM');
  if (parameter === undefined) {
    throw new ConfigError('Set TWILIO_AUTH_TOKEN, or TWILIO_AUTH_TOKEN_PARAM naming an SSM SecureString parameter');
  }
  return { kind: 'ssm', primary: parameter, secondary: optional(env, 'TWILIO_AUTH_TOKEN_SECONDARY_PARAM') };
}

function readPublicBaseUrl(env: Env): string | undefined {
  const raw = optional(env, 'PUBLIC_BASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_BASE_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`PUBLIC_BASE_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError('PUBLIC_BASE_URL must not carry a query string or fragment');
  }
  return raw.replace(/\/+$/, '');
}

function readUrlFragment(env: Env): string | undefined {
  const raw = optional(env, 'TWILIO_URL_FRAGMENT') ?? DEFAULT_URL_FRAGMENT;
  if (raw.toLowerCase() === 'none') return undefined;
  const fragment = raw.replace(/^#/, '');
  if (!/^[\w.~%=&-]+$/.test(fragment)) {
    throw new ConfigError(`TWILIO_URL_FRAGMENT must look like rc=3&rp=all (or be none), got "${raw}"`);
  }
  return fragment;
}

/** The configuration of a function that only needs the table. */
export function parseTableConfig(env: Env): { tableName: string } {
  return { tableName: required(env, 'TABLE_NAME') };
}

/** Parses the webhook Lambda's configuration; throws {@link ConfigError} naming the bad variable. */
export function parseWebhookConfig(env: Env): WebhookConfig {
  const dialActionTwiml = optional(env, 'DIAL_ACTION_TWIML') ?? DEFAULT_DIAL_ACTION_TWIML;
  if (!dialActionTwiml.includes('<Response')) {
    throw new ConfigError('DIAL_ACTION_TWIML must be a TwiML document with a <Response> element');
  }
  return {
    tableName: required(env, 'TABLE_NAME'),
    accountSid: readAccountSid(env),
    authTokens: readAuthTokens(env),
    publicBaseUrl: readPublicBaseUrl(env),
    retentionDays: integer(env, 'RETENTION_DAYS', 90, 1, 3650),
    includeCanceled: boolean(env, 'MISSED_INCLUDE_CANCELED', false),
    dialActionTwiml,
    urlFragment: readUrlFragment(env),
  };
}

export interface ReconcileConfig {
  tableName: string;
  accountSid: string;
  /** Basic-auth user: the account SID (with the auth token) or an API key SID (with its secret). */
  twilioUsername: string;
  twilioSecret: AuthTokenSource;
  /** Another origin for api.twilio.com (the local Twilio-shaped API); unset in AWS. */
  twilioApiBaseUrl: string | undefined;
  retentionDays: number;
  includeCanceled: boolean;
  overlapMinutes: number;
  settleMinutes: number;
  lookbackHours: number;
}

/**
 * The ONE Twilio credential of the REST API (reconciliation, health check): an API key
 * (`TWILIO_API_KEY_SID` with its secret) or the account SID with its auth token. The secret is
 * given directly locally (`TWILIO_API_KEY_SECRET` or `TWILIO_AUTH_TOKEN`) or read from the one
 * SSM parameter `TWILIO_REST_SECRET_PARAM` that serverless.yml picks and the role may read.
 */
export function readRestCredential(env: Env, accountSid: string): { username: string; secret: AuthTokenSource } {
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

/** Parses the reconciliation Lambda's configuration. */
export function parseReconcileConfig(env: Env): ReconcileConfig {
  const accountSid = readAccountSid(env);
  const { username, secret: twilioSecret } = readRestCredential(env, accountSid);
  const baseUrl = optional(env, 'TWILIO_API_BASE_URL');
  if (baseUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(baseUrl)) {
    throw new ConfigError(`TWILIO_API_BASE_URL must be an origin such as http://127.0.0.1:4010, got "${baseUrl}"`);
  }
  return {
    tableName: required(env, 'TABLE_NAME'),
    accountSid,
    twilioUsername: username,
    twilioSecret,
    twilioApiBaseUrl: baseUrl,
    retentionDays: integer(env, 'RETENTION_DAYS', 90, 1, 3650),
    includeCanceled: boolean(env, 'MISSED_INCLUDE_CANCELED', false),
    overlapMinutes: integer(env, 'RECONCILE_OVERLAP_MINUTES', WINDOW_DEFAULTS.overlapMinutes, 0, 24 * 60),
    settleMinutes: integer(env, 'RECONCILE_SETTLE_MINUTES', WINDOW_DEFAULTS.settleMinutes, 0, 24 * 60),
    lookbackHours: integer(env, 'RECONCILE_LOOKBACK_HOURS', WINDOW_DEFAULTS.lookbackHours, 1, 24 * 60),
  };
}
