/**
 * Placing a call through Twilio (`POST /Calls.json`, the official SDK's API 2010 slice). Calls
 * cost money: one attempt only, never retried by this client, because a request that timed out
 * may have reached Twilio and placed the call.
 */
import { TwilioUnavailableError } from './errors.js';
import { accountApi, OriginRequestClient, type TwilioRestCredentials } from './rest.js';

export interface CallToPlace {
  to: string;
  from: string;
  /** Requested (POST) when the callee answers; its TwiML runs the call. */
  url: string;
  /** The call's own end (`completed`). */
  statusCallback: string;
  /** Seconds it rings before `no-answer`. */
  timeout: number;
}

/** Twilio answered and refused the call: its status, code and message. */
export class CallRefusedError extends Error {
  override name = 'CallRefusedError';
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Twilio may have placed the call (the request timed out or the answer was lost): never placed again. */
export class CallUncertainError extends Error {
  override name = 'CallUncertainError';
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const field = (error: unknown, name: string): unknown =>
  typeof error === 'object' && error !== null && name in error ? Reflect.get(error, name) : undefined;

export type PlaceCall = (call: CallToPlace) => Promise<{ callSid: string }>;

/**
 * @throws CallRefusedError (Twilio answered 4xx/5xx), TwilioUnavailableError (nothing was sent),
 * CallUncertainError (it may have been placed).
 */
export function callPlacer(credentials: () => Promise<TwilioRestCredentials>, timeoutMs = 10_000): PlaceCall {
  return async (call) => {
    const c = await credentials();
    const calls = accountApi(c, new OriginRequestClient(c.baseUrl, timeoutMs)).calls;
    try {
      const created = await calls.create({
        to: call.to,
        from: call.from,
        url: call.url,
        method: 'POST',
        statusCallback: call.statusCallback,
        statusCallbackEvent: ['completed'],
        statusCallbackMethod: 'POST',
        timeout: call.timeout,
      });
      return { callSid: created.sid };
    } catch (error) {
      const status = field(error, 'status');
      if (typeof status === 'number') {
        const code = field(error, 'code');
        const message = error instanceof Error ? error.message : String(error);
        throw new CallRefusedError(status, typeof code === 'number' ? code : undefined, message.slice(0, 300));
      }
      if (NOT_SENT.has(String(field(error, 'code')))) throw new TwilioUnavailableError('Twilio could not be reached', { cause: error });
      throw new CallUncertainError('Twilio did not answer whether it placed the call', { cause: error });
    }
  };
}
