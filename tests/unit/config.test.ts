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
      ledger: {
        includeCanceled: false,
        shortAbandonSeconds: 10,
        ivrHangupsMissed: false,
        voicemailMinSeconds: 3,
        settleSeconds: 60,
        hours: undefined,
      },
      dialActionTwiml: DEFAULT_DIAL_ACTION_TWIML,
      dialActionEnds: true,
      urlFragment: 'rc=3&rp=all',
      callbackMinSeconds: 10,
    });
  });

  it('reads the whole-call settings, refusing bad values by name', () => {
    const ledger = parseWebhookConfig({
      ...base,
      SHORT_ABANDON_SECONDS: '15',
      IVR_HANGUPS_MISSED: 'true',
      OUTCOME_SETTLE_SECONDS: '10',
      MISSED_INCLUDE_CANCELED: 'true',
      BUSINESS_HOURS: 'Mon-Fri 09:00-17:00',
      TIME_ZONE: 'America/New_York',
    }).ledger;
    expect(ledger).toMatchObject({ includeCanceled: true, shortAbandonSeconds: 15, ivrHangupsMissed: true, settleSeconds: 10 });
    expect(ledger.hours?.timeZone).toBe('America/New_York');
    expect(ledger.hours?.rules).toHaveLength(1);
    expect(() => parseWebhookConfig({ ...base, OUTCOME_SETTLE_SECONDS: '0' })).toThrow(
      'OUTCOME_SETTLE_SECONDS must be a whole number from 1 to 3600',
    );
    expect(() => parseWebhookConfig({ ...base, SHORT_ABANDON_SECONDS: 'ten' })).toThrow('SHORT_ABANDON_SECONDS');
    expect(() => parseWebhookConfig({ ...base, BUSINESS_HOURS: 'Mon 25:00-26:00' })).toThrow('BUSINESS_HOURS');
  });

  it('knows whether the TwiML answered to an action ends the call', () => {
    expect(parseWebhookConfig({ ...base, DIAL_ACTION_TWIML: '<Response><Say>Bye</Say><Hangup/></Response>' }).dialActionEnds).toBe(true);
    expect(parseWebhookConfig({ ...base, DIAL_ACTION_TWIML: '<Response><Record maxLength="60"/></Response>' }).dialActionEnds).toBe(false);
    expect(parseWebhookConfig({ ...base, DIAL_ACTION_TWIML: '<Response><Redirect>/next</Redirect></Response>' }).dialActionEnds).toBe(
      false,
    );
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
