/**
 * `npm run sign -- [--curl] <url> Name=value …`: signs a Twilio-style POST with the local auth
 * token (TWILIO_AUTH_TOKEN when set), so that a request can be sent to the stack by hand.
 */
import { LOCAL_DEFAULTS } from '../dev/defaults.js';
import { curlCommand, parseSignArgs, signatureFor } from '../dev/sign.js';

try {
  const request = parseSignArgs(process.argv.slice(2), process.env.TWILIO_AUTH_TOKEN?.trim() || LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN);
  console.log(request.curl ? curlCommand(request) : signatureFor(request));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
}
