/** The local stack's PUBLIC_BASE_URL against where it really listens. */

/** Where the stack listens vs what PUBLIC_BASE_URL says Twilio calls: warn when they differ. */
export function publicUrlWarning(publicBaseUrl: string, listening: string): string | undefined {
  const configured = new URL(publicBaseUrl);
  const local = new URL(listening);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(configured.hostname);
  if (loopback && configured.port === local.port) return undefined;
  return loopback
    ? `PUBLIC_BASE_URL ${publicBaseUrl} names port ${configured.port || '(default)'}, but the stack listens on ${listening}: signatures are checked against PUBLIC_BASE_URL, so requests to ${listening} must be signed for it.`
    : `PUBLIC_BASE_URL is ${publicBaseUrl}: signatures are checked against it. Make sure it forwards to ${listening} (a tunnel such as ngrok), where the stack listens.`;
}
