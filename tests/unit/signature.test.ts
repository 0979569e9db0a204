import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signLikeTwilio } from '../../dev/sign.js';
import { verifyTwilioSignature } from '../../lib/twilio/signature.js';
import { AUTH_TOKEN, SECONDARY_TOKEN, statusCallback } from '../helpers.js';

const URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/twilio/call-status';

/** Twilio's documented algorithm, written out independently of the SDK. */
function referenceSignature(token: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', token).update(Buffer.from(data, 'utf-8')).digest('base64');
}

describe('verifyTwilioSignature', () => {
  const params = statusCallback();

  it('signs exactly as Twilio documents', () => {
    expect(signLikeTwilio(AUTH_TOKEN, URL, params)).toBe(referenceSignature(AUTH_TOKEN, URL, params));
  });

  it('accepts the primary token and, during a rotation, the secondary', () => {
    expect(verifyTwilioSignature([AUTH_TOKEN, SECONDARY_TOKEN], referenceSignature(AUTH_TOKEN, URL, params), URL, params)).toBe(true);
    expect(verifyTwilioSignature([AUTH_TOKEN, SECONDARY_TOKEN], referenceSignature(SECONDARY_TOKEN, URL, params), URL, params)).toBe(true);
  });

  it('refuses a signature made with another token', () => {
    expect(verifyTwilioSignature([AUTH_TOKEN], referenceSignature(SECONDARY_TOKEN, URL, params), URL, params)).toBe(false);
  });

  it('refuses a tampered parameter', () => {
    const signature = referenceSignature(AUTH_TOKEN, URL, params);
    expect(verifyTwilioSignature([AUTH_TOKEN], signature, URL, { ...params, CallStatus: 'busy' })).toBe(false);
  });

  it('refuses a signature over another URL (stage missing)', () => {
    const signature = referenceSignature(AUTH_TOKEN, URL, params);
    expect(verifyTwilioSignature([AUTH_TOKEN], signature, URL.replace('/prod', ''), params)).toBe(false);
  });

  it('accepts the URL with or without the default port, as Twilio may sign either', () => {
    const signature = referenceSignature(AUTH_TOKEN, URL.replace('.com/', '.com:443/'), params);
    expect(verifyTwilioSignature([AUTH_TOKEN], signature, URL, params)).toBe(true);
  });

  it('treats an invalid URL or empty signature as a failed check, not a crash', () => {
    expect(verifyTwilioSignature([AUTH_TOKEN], 'abc=', 'not a url', params)).toBe(false);
    expect(verifyTwilioSignature([AUTH_TOKEN], '', URL, params)).toBe(false);
  });
});
