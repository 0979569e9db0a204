import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/platform/config.js';
import { readRestCredential } from '../../lib/twilio/credentials.js';
import { DEFAULT_DIAL_ACTION_TWIML, parseWebhookConfig } from '../../lib/webhook/config.js';
import { ACCOUNT_SID } from '../helpers.js';

const base = { TABLE_NAME: 't', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'tok' };

describe('parseWebhookConfig', () => {
  it('applies the defaults', () => {
    expect(parseWebhookConfig(base)).toEqual({
      tableName: 't',
      accountSid: ACCOUNT_SID,
      authTokens: { kind: 'env', tokens: ['tok'] },
      publicBaseUrl: undefined,
      retentionDays: 90,
      includeCanceled: false,
      dialActionTwiml: DEFAULT_DIAL_ACTION_TWIML,
      urlFragment: 'rc=3&rp=all',
      callbackMinSeconds: 10,
    });
  });

  it('reads TWILIO_URL_FRAGMENT with or without #, and none turns the second URL off', () => {
    expect(parseWebhookConfig({ ...base, TWILIO_URL_FRAGMENT: '#rc=5&rp=all' }).urlFragment).toBe('rc=5&rp=all');
    expect(parseWebhookConfig({ ...base, TWILIO_URL_FRAGMENT: 'none' }).urlFragment).toBeUndefined();
  });

  it('uses SSM parameters when no token is in the environment', () => {
    const config = parseWebhookConfig({
      ...base,
      TWILIO_AUTH_TOKEN: '',
      TWILIO_AUTH_TOKEN_PARAM: '/p',
      TWILIO_AUTH_TOKEN_SECONDARY_PARAM: '/s',
    });
    expect(config.authTokens).toEqual({ kind: 'ssm', primary: '/p', secondary: '/s' });
  });

  it('strips a trailing slash from PUBLIC_BASE_URL', () => {
    expect(parseWebhookConfig({ ...base, PUBLIC_BASE_URL: 'https://x.example/prod/' }).publicBaseUrl).toBe('https://x.example/prod');
  });

  it.each([
    [{ TABLE_NAME: '' }, 'TABLE_NAME is required but not set'],
    [{ TWILIO_ACCOUNT_SID: 'AC123' }, 'TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits'],
    [{ RETENTION_DAYS: '0' }, 'RETENTION_DAYS must be a whole number from 1 to 3650, got "0"'],
    [{ MISSED_INCLUDE_CANCELED: 'yes' }, 'MISSED_INCLUDE_CANCELED must be true or false, got "yes"'],
    [{ PUBLIC_BASE_URL: 'hooks.example.com' }, 'PUBLIC_BASE_URL must be an absolute http(s) URL, got "hooks.example.com"'],
    [{ DIAL_ACTION_TWIML: 'hello' }, 'DIAL_ACTION_TWIML must be a TwiML document with a <Response> element'],
    [{ TWILIO_AUTH_TOKEN: '' }, 'Set TWILIO_AUTH_TOKEN, or TWILIO_AUTH_TOKEN_PARAM naming an SSM SecureString parameter'],
    [{ TWILIO_URL_FRAGMENT: 'rc=3 rp=all' }, 'TWILIO_URL_FRAGMENT must look like rc=3&rp=all (or be none), got "rc=3 rp=all"'],
  ])('fails fast on %o', (overrides, message) => {
    expect(() => parseWebhookConfig({ ...base, ...overrides })).toThrow(new ConfigError(message));
  });
});

describe('readRestCredential: ONE Twilio credential for the REST API', () => {
  const key = `SK${'a'.repeat(32)}`;
  it.each([
    [{ TWILIO_AUTH_TOKEN: 'tok' }, { username: ACCOUNT_SID, secret: { kind: 'env', tokens: ['tok'] } }],
    [{ TWILIO_REST_SECRET_PARAM: '/p' }, { username: ACCOUNT_SID, secret: { kind: 'ssm', primary: '/p', secondary: undefined } }],
    [
      { TWILIO_API_KEY_SID: key, TWILIO_API_KEY_SECRET: 's' },
      { username: key, secret: { kind: 'env', tokens: ['s'] } },
    ],
    [
      { TWILIO_API_KEY_SID: key, TWILIO_REST_SECRET_PARAM: '/k', TWILIO_AUTH_TOKEN: 'ignored' },
      { username: key, secret: { kind: 'ssm', primary: '/k', secondary: undefined } },
    ],
  ])('%o', (env, expected) => {
    // A secondary token parameter in the environment is never read here (the webhook's alone).
    expect(readRestCredential({ ...env, TWILIO_AUTH_TOKEN_SECONDARY_PARAM: '/s' }, ACCOUNT_SID)).toEqual(expected);
  });

  it.each([
    [{}, 'Set TWILIO_AUTH_TOKEN, or TWILIO_REST_SECRET_PARAM naming the SSM parameter with the auth token'],
    [
      { TWILIO_API_KEY_SID: key },
      'TWILIO_API_KEY_SID needs TWILIO_API_KEY_SECRET, or TWILIO_REST_SECRET_PARAM naming the SSM parameter with its secret',
    ],
    [{ TWILIO_API_KEY_SID: 'SK1' }, 'TWILIO_API_KEY_SID must look like SK followed by 32 hex digits'],
  ])('fails fast on %o', (env, message) => {
    expect(() => readRestCredential(env, ACCOUNT_SID)).toThrow(new ConfigError(message));
  });
});
