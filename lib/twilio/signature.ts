/**
 * `X-Twilio-Signature` verification: base64(HMAC-SHA1(token, URL + sorted params)), compared
 * in constant time by the official `twilio` helper (the 4 KB slice, not the whole SDK).
 */
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';

/**
 * True when `signature` was made with one of `tokens` (primary or, during a rotation,
 * secondary) over `url` and `params`. An unparsable URL is a failed check, not a crash.
 */
export function verifyTwilioSignature(
  tokens: readonly string[],
  signature: string,
  url: string,
  params: Readonly<Record<string, string>>,
): boolean {
  if (signature === '') return false;
  return tokens.some((token) => {
    try {
      return validateRequest(token, signature, url, params);
    } catch {
      return false;
    }
  });
}
