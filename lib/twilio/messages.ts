/**
 * Twilio's Messages API for the text-back, over the one client layer (lib/twilio/rest.ts): one
 * `Messages.create` a text. Retries are bounded and only
 * where nothing was sent: a 429 or a 5xx answer, or a connection refused before the request
 * left. A request that left without an answer (a timeout, a reset) may have been accepted by
 * Twilio: it is never repeated, and its outcome is `unknown` (at most once).
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import type { TwilioRestConfig } from './credentials.js';
import { type SendFailure, sendFailure } from './errors.js';
import { accountApi, OriginRequestClient, restCredentials, type TwilioRestCredentials } from './rest.js';

/** Twilio's answer to a send, as this project reads it. */
export type SendOutcome =
  | { kind: 'sent'; messageSid: string }
  | { kind: 'failed'; reason: SendFailure; errorCode?: number }
  /** No answer after the request left (a timeout, a reset): it may have been sent. */
  | { kind: 'unknown'; detail: string };

export interface TextMessage {
  to: string;
  /** The sender: a number of this account, or a Messaging Service (one of the two). */
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
}

export interface TwilioMessages {
  send(message: TextMessage): Promise<SendOutcome>;
  /** HTTP requests made so far. */
  requests(): number;
}

export interface TwilioMessagesOptions {
  maxAttempts?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const field = (error: unknown, name: string): unknown =>
  typeof error === 'object' && error !== null && name in error ? Reflect.get(error, name) : undefined;

/** Nothing left this machine: the connection was refused or the name did not resolve. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export function createTwilioMessages(config: TwilioRestCredentials, options: TwilioMessagesOptions = {}): TwilioMessages {
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? defaultSleep;
  const http = new OriginRequestClient(config.baseUrl, options.timeoutMs ?? 5_000);
  const messages = accountApi(config, http).messages;
  return {
    async send(message) {
      let last: SendOutcome = { kind: 'failed', reason: 'unavailable' };
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        try {
          const created = await messages.create({
            to: message.to,
            body: message.body,
            ...(message.messagingServiceSid === undefined
              ? { from: message.from ?? '' }
              : { messagingServiceSid: message.messagingServiceSid }),
          });
          return { kind: 'sent', messageSid: created.sid };
        } catch (error) {
          const status = field(error, 'status');
          if (typeof status === 'number') {
            // Twilio answered: its status and error code say what happened.
            const code = field(error, 'code');
            const reason = sendFailure(status, typeof code === 'number' ? code : undefined);
            last = { kind: 'failed', reason, ...(typeof code === 'number' ? { errorCode: code } : {}) };
            if (reason !== 'unavailable') return last;
          } else if (!NOT_SENT_CODES.has(String(field(error, 'code')))) {
            // The request may have reached Twilio: never sent again.
            return { kind: 'unknown', detail: error instanceof Error ? error.message.slice(0, 200) : String(error) };
          }
        }
        if (attempt < maxAttempts) await sleep(backoffMs(attempt + 1));
      }
      return last;
    },
    requests: () => http.count,
  };
}

/** Builds the Messages client once the REST secret is resolved (SSM, once per cold start). */
export function twilioMessagesFactory(
  config: TwilioRestConfig,
  ssm: () => SSMClient | Promise<SSMClient>,
  options: TwilioMessagesOptions = {},
): () => Promise<TwilioMessages> {
  const credentials = restCredentials(config, ssm);
  let built: TwilioMessages | undefined;
  return async () => {
    built ??= createTwilioMessages(await credentials(), options);
    return built;
  };
}
