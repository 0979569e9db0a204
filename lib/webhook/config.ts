/** The webhook's configuration: its table, its account, the auth tokens it accepts, its URL. */

import { readLedgerSettings } from '../ledger/settings.js';
import type { LedgerSettings } from '../ledger/store.js';
import {
  ConfigError,
  type Env,
  optional,
  readCallbackMinSeconds,
  readPublicBaseUrl,
  readRetentionDays,
  readTableName,
} from '../platform/config.js';
import type { SecretSource } from '../platform/secrets.js';
import { readAccountSid } from '../twilio/credentials.js';

export interface WebhookConfig {
  tableName: string;
  accountSid: string;
  authTokens: SecretSource;
  /** Public base URL that Twilio calls (scheme, host and stage or base path), no trailing slash. */
  publicBaseUrl: string | undefined;
  retentionDays: number;
  /** The whole-call rule's settings (lib/ledger/settings.ts). */
  ledger: LedgerSettings;
  /** TwiML returned to a `<Dial action>` or `<Enqueue action>` callback without a `next` URL. */
  dialActionTwiml: string;
  /** Whether that TwiML ends the call (no verb that goes on): the action is then the call's end. */
  dialActionEnds: boolean;
  /**
   * The connection-override fragment configured on the callback URLs (without `#`), or
   * undefined. Whether Twilio signs the URL with it is not documented: signatures over the URL
   * with and without it are accepted.
   */
  urlFragment: string | undefined;
  /** `CALLBACK_MIN_SECONDS`: how long an answered call must last to resolve a callback. */
  callbackMinSeconds: number;
}

/** The fragment the README recommends on the callback URLs: up to 3 retries on any failure. */
export const DEFAULT_URL_FRAGMENT = 'rc=3&rp=all';

export const DEFAULT_DIAL_ACTION_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';

/** TwiML verbs after which the call goes on (anything else ends it once said). */
const CONTINUING_VERBS = /<(Dial|Enqueue|Gather|Record|Redirect|Connect|Pay|Refer|Leave)\b/;

/** Whether a TwiML document ends the call (it has no verb after which the call goes on). */
export const endsCall = (twiml: string): boolean => !CONTINUING_VERBS.test(twiml);

/**
 * The auth token source. An explicit `TWILIO_AUTH_TOKEN` wins (the local stack sets it);
 * otherwise the SSM parameter names that `serverless.yml` sets are used.
 */
export function readAuthTokens(env: Env): SecretSource {
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

function readUrlFragment(env: Env): string | undefined {
  const raw = optional(env, 'TWILIO_URL_FRAGMENT') ?? DEFAULT_URL_FRAGMENT;
  if (raw.toLowerCase() === 'none') return undefined;
  const fragment = raw.replace(/^#/, '');
  if (!/^[\w.~%=&-]+$/.test(fragment)) {
    throw new ConfigError(`TWILIO_URL_FRAGMENT must look like rc=3&rp=all (or be none), got "${raw}"`);
  }
  return fragment;
}

/** Parses the webhook Lambda's configuration; throws {@link ConfigError} naming the bad variable. */
export function parseWebhookConfig(env: Env): WebhookConfig {
  const dialActionTwiml = optional(env, 'DIAL_ACTION_TWIML') ?? DEFAULT_DIAL_ACTION_TWIML;
  if (!dialActionTwiml.includes('<Response')) {
    throw new ConfigError('DIAL_ACTION_TWIML must be a TwiML document with a <Response> element');
  }
  return {
    tableName: readTableName(env),
    accountSid: readAccountSid(env),
    authTokens: readAuthTokens(env),
    publicBaseUrl: readPublicBaseUrl(env),
    retentionDays: readRetentionDays(env),
    ledger: readLedgerSettings(env),
    dialActionTwiml,
    dialActionEnds: endsCall(dialActionTwiml),
    urlFragment: readUrlFragment(env),
    callbackMinSeconds: readCallbackMinSeconds(env),
  };
}
