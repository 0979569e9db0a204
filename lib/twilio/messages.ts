/**
 * Twilio's Messages API for the text-back: the official SDK's API 2010 slice (`BaseTwilio` +
 * `rest/Api`, as the Calls client), one `Messages.create` a text. Retries are bounded and only
 * where nothing was sent: a 429 or a 5xx answer, or a connection refused before the request
 * left. A request that left without an answer (a timeout, a reset) may have been accepted by
 * Twilio: it is never repeated, and its outcome is `unknown` (at most once).
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import BaseTwilio from 'twilio/lib/base/BaseTwilio.js';
import RequestClient from 'twilio/lib/base/RequestClient.js';
import type Response from 'twilio/lib/http/response.js';
import Api from 'twilio/lib/rest/Api.js';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { secretResolver } from '../platform/secrets.js';
import { failReason, type SendOutcome } from '../textback/model.js';
import type { TwilioRestConfig } from './credentials.js';

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

/** One attempt a request, to another origin where configured; counts the requests. */
class OriginRequestClient extends RequestClient {
  count = 0;
  constructor(
    private readonly origin: URL | undefined,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true });
  }
  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const target = new URL(opts.uri);
    if (this.origin !== undefined) {
      target.protocol = this.origin.protocol;
      target.host = this.origin.host;
    }
    this.count += 1;
    return super.request({ ...opts, uri: target.href });
  }
}

const field = (error: unknown, name: string): unknown =>
  typeof error === 'object' && error !== null && name in error ? Reflect.get(error, name) : undefined;

/** Nothing left this machine: the connection was refused or the name did not resolve. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export function createTwilioMessages(
  config: { accountSid: string; username: string; password: string; baseUrl: string | undefined },
  options: TwilioMessagesOptions = {},
): TwilioMessages {
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? defaultSleep;
  const http = new OriginRequestClient(config.baseUrl ? new URL(config.baseUrl) : undefined, options.timeoutMs ?? 5_000);
  const client = new BaseTwilio.Client(config.username, config.password, { accountSid: config.accountSid, httpClient: http });
  const messages = new Api(client).v2010.account.messages;
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
            const reason = failReason(status, typeof code === 'number' ? code : undefined);
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
  const secret = secretResolver(config.secret, ssm);
  let built: TwilioMessages | undefined;
  return async () => {
    if (built !== undefined) return built;
    const [password = ''] = await secret();
    built = createTwilioMessages({ accountSid: config.accountSid, username: config.username, password, baseUrl: config.baseUrl }, options);
    return built;
  };
}
