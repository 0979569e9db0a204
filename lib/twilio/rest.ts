/**
 * The one Twilio client layer under the Calls and Messages clients: the official SDK's API 2010
 * slice (`BaseTwilio` + `rest/Api`, not the whole `twilio` package), a RequestClient that sends
 * every request (next-page URIs included) to another origin where TWILIO_API_BASE_URL says so
 * and counts them, and the REST secret resolved once per cold start.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import BaseTwilio from 'twilio/lib/base/BaseTwilio.js';
import RequestClient from 'twilio/lib/base/RequestClient.js';
import type Response from 'twilio/lib/http/response.js';
import Api from 'twilio/lib/rest/Api.js';
import { secretResolver } from '../platform/secrets.js';
import type { TwilioRestConfig } from './credentials.js';

/** An account's REST credential, resolved. */
export interface TwilioRestCredentials {
  accountSid: string;
  /** Account SID with the auth token, or an API key SID with its secret. */
  username: string;
  password: string;
  /** Another origin for api.twilio.com (the local Twilio-shaped API); unset in AWS. */
  baseUrl?: string | undefined;
}

/** One attempt a request, to another origin where configured; counts the requests. */
export class OriginRequestClient extends RequestClient {
  count = 0;
  private readonly origin: URL | undefined;

  constructor(baseUrl: string | undefined, timeoutMs: number) {
    super({ timeout: timeoutMs, keepAlive: true });
    this.origin = baseUrl ? new URL(baseUrl) : undefined;
  }

  /** Where a request to `uri` goes. */
  protected target(uri: string): URL {
    const target = new URL(uri);
    if (this.origin !== undefined) {
      target.protocol = this.origin.protocol;
      target.host = this.origin.host;
    }
    return target;
  }

  /** One attempt to `target`, counted; `timeoutMs` overrides the client's timeout. */
  protected attempt<TData>(opts: RequestClient.RequestOptions<TData>, target: URL, timeoutMs?: number): Promise<Response<TData>> {
    this.count += 1;
    return super.request({ ...opts, uri: target.href, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    return this.attempt(opts, this.target(opts.uri));
  }
}

/** The API 2010 account resource of `credentials`, over `http`. */
export function accountApi(credentials: TwilioRestCredentials, http: RequestClient) {
  const client = new BaseTwilio.Client(credentials.username, credentials.password, {
    accountSid: credentials.accountSid,
    httpClient: http,
  });
  return new Api(client).v2010.account;
}

/**
 * The REST credential with its secret resolved (from SSM once per cold start, retried after a
 * failure): what every Twilio client of a function is built from.
 */
export function restCredentials(config: TwilioRestConfig, ssm: () => SSMClient | Promise<SSMClient>): () => Promise<TwilioRestCredentials> {
  const secret = secretResolver(config.secret, ssm);
  return async () => {
    const [password = ''] = await secret();
    return { accountSid: config.accountSid, username: config.username, password, baseUrl: config.baseUrl };
  };
}
