/**
 * `npm run sign`: the X-Twilio-Signature that Twilio would send for a POST of `key=value`
 * parameters to a URL, signed with the local auth token (or TWILIO_AUTH_TOKEN); `--curl` prints
 * the whole request as a curl command instead.
 */
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';

/** The signature Twilio would send (the official helper), for the local tools, tests and benchmarks. */
export function signLikeTwilio(token: string, url: string, params: Readonly<Record<string, string>>): string {
  return getExpectedTwilioSignature(token, url, params);
}

/** POSTs `params` to `url` as Twilio does: a form body, signed with `token`. */
export function postLikeTwilio(url: string, params: Readonly<Record<string, string>>, token: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signLikeTwilio(token, url, params) },
    body: new URLSearchParams(params),
  });
}

export interface SignRequest {
  url: string;
  params: Record<string, string>;
  token: string;
}

/** Parses `[--curl] <url> key=value…`; throws with a usage line on anything else. */
export function parseSignArgs(argv: readonly string[], token: string): SignRequest & { curl: boolean } {
  const curl = argv.includes('--curl');
  const [url, ...pairs] = argv.filter((a) => a !== '--curl');
  const usage = 'usage: npm run sign -- [--curl] <url> Name=value …  (e.g. CallSid=CA… CallStatus=no-answer)';
  if (url === undefined || !/^https?:\/\//.test(url)) throw new Error(usage);
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`not Name=value: ${pair}\n${usage}`);
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { url, params, token, curl };
}

/** The signature Twilio would send (the official helper: HMAC-SHA1 of the URL and sorted params). */
export const signatureFor = (request: SignRequest): string => signLikeTwilio(request.token, request.url, request.params);

const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/** The signed request as a curl command (form-encoded, as Twilio posts it). */
export function curlCommand(request: SignRequest): string {
  return [
    `curl -sS -i -X POST ${quote(request.url)}`,
    `-H ${quote(`X-Twilio-Signature: ${signatureFor(request)}`)}`,
    ...Object.entries(request.params).map(([name, value]) => `--data-urlencode ${quote(`${name}=${value}`)}`),
  ].join(' \\\n  ');
}
