/** The local tooling a newcomer meets first: `npm run sign` and the PUBLIC_BASE_URL warning of `npm start`. */
import { describe, expect, it } from 'vitest';
import { publicUrlWarning } from '../../dev/public-url.js';
import { curlCommand, parseSignArgs, signatureFor } from '../../dev/sign.js';
import { verifyTwilioSignature } from '../../lib/twilio/signature.js';

describe('npm run sign', () => {
  const argv = ['http://127.0.0.1:3000/twilio/call-status', 'CallSid=CA1', 'From=+14155550142', "Note=it's a=b"];

  it('signs the parameters as Twilio does, for the webhook to verify', () => {
    const request = parseSignArgs(argv, 'tok');
    expect(request.params).toEqual({ CallSid: 'CA1', From: '+14155550142', Note: "it's a=b" });
    expect(verifyTwilioSignature(['tok'], signatureFor(request), request.url, request.params)).toBe(true);
    expect(verifyTwilioSignature(['other'], signatureFor(request), request.url, request.params)).toBe(false);
  });

  it('prints a curl command with the signature and every parameter form-encoded, quoted for sh', () => {
    const command = curlCommand(parseSignArgs(['--curl', ...argv], 'tok'));
    expect(command).toContain(`-H 'X-Twilio-Signature: ${signatureFor(parseSignArgs(argv, 'tok'))}'`);
    expect(command).toContain("--data-urlencode 'Note=it'\\''s a=b'");
    expect(command).toContain("--data-urlencode 'From=+14155550142'");
  });

  it.each([[[]], [['not-a-url']], [['http://x/y', 'novalue']]])('refuses %o with its usage', (args) => {
    expect(() => parseSignArgs(args, 'tok')).toThrow(/usage: npm run sign/);
  });
});

describe('npm start: PUBLIC_BASE_URL against where the stack listens', () => {
  it('says nothing when they agree', () => {
    expect(publicUrlWarning('http://127.0.0.1:3000', 'http://127.0.0.1:3000')).toBeUndefined();
    expect(publicUrlWarning('http://localhost:3000', 'http://127.0.0.1:3000')).toBeUndefined();
  });

  it('warns about a local URL on another port', () => {
    expect(publicUrlWarning('http://127.0.0.1:4000', 'http://127.0.0.1:3000')).toContain(
      'names port 4000, but the stack listens on http://127.0.0.1:3000',
    );
  });

  it('reminds that a public URL must forward to the local port', () => {
    expect(publicUrlWarning('https://abc.ngrok.app', 'http://127.0.0.1:3000')).toContain('Make sure it forwards to http://127.0.0.1:3000');
  });
});
