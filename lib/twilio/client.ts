/**
 * The Twilio REST API for the reconciliation, the health check and late misses: the Calls
 * resource over the one client layer (lib/twilio/rest.ts), with requests retried on 429 and 5xx
 * with bounded backoff, within the caller's deadline.
 */

import type { SSMClient } from '@aws-sdk/client-ssm';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type Response from 'twilio/lib/http/response.js';
import type { CallInstance } from 'twilio/lib/rest/api/v2010/account/call.js';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import type { CallStatus } from './call-status.js';
import type { TwilioRestConfig } from './credentials.js';
import { TwilioAuthError, TwilioDeadlineError, TwilioUnavailableError } from './errors.js';
import { accountApi, OriginRequestClient, restCredentials, type TwilioRestCredentials } from './rest.js';

export { TwilioAuthError, TwilioDeadlineError, TwilioUnavailableError };

export interface TwilioCallsOptions extends TwilioRestCredentials {
  /** Attempts per request for 429, 5xx and network errors (default 6). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout in ms (default 15 s). */
  timeoutMs?: number;
  /** Calls per list page (`PageSize`, at most 1000, the default). */
  pageSize?: number;
  /**
   * Milliseconds the caller can still spend on Twilio (the Lambda's remaining time less a
   * reserve). Each attempt's timeout is capped by it, and when it is spent no attempt or
   * backoff starts: TwilioDeadlineError. Unset = no limit beyond timeoutMs and maxAttempts.
   */
  deadlineMs?: () => number;
}

/** The fields of a Twilio call this project reads. */
export interface TwilioCall {
  sid: string;
  parentCallSid: string | null;
  from: string;
  to: string;
  status: string;
  direction: string;
  startTime: Date | null;
  endTime: Date | null;
  /** Seconds, for a finished call. */
  duration: number;
  /** Only with answering machine detection. */
  answeredBy: string | null;
}

export interface TwilioCalls {
  /**
   * Pages of calls with `status` that started in [from, to]; follows `next_page_uri`. Twilio
   * documents the `StartTime` filters as whole days (`YYYY-MM-DD`) while the SDK sends full
   * timestamps: this asks for the whole UTC days that cover the window, which is right under
   * either reading, and keeps only the calls whose `start_time` is inside it.
   */
  list(status: CallStatus, from: Date, to: Date, pageUrl?: string): AsyncGenerator<ListedPage>;
  fetch(callSid: string): Promise<TwilioCall | undefined>;
  /**
   * `completed` calls with a party (`to` or `from` the number, or child legs of a parent) that
   * started on or after the UTC day of `since` (one page of at most `limit`; callers filter the time).
   */
  completed(filter: { to?: string; from?: string; parentCallSid?: string; since: Date; limit?: number }): Promise<TwilioCall[]>;
  /** The SIDs of every call (any status, every page) `to` or `from` the number that started on or after the UTC day of `since`. */
  sidsWith(filter: { to?: string; from?: string; since: Date }): Promise<string[]>;
  /**
   * Proves the credentials work with a Calls list of one (`PageSize=1`): standard API keys may
   * list calls but not read `/Accounts/{Sid}`. Throws TwilioAuthError on 401/403.
   */
  checkCredentials(): Promise<void>;
  /** HTTP requests made so far, retries included. */
  requests(): number;
}

/** One page of a Calls list: its calls in the window, and the URL of the next page (none: the last). */
export interface ListedPage {
  calls: TwilioCall[];
  nextPageUrl: string | undefined;
}

/** What this module uses of the SDK's Page (the first page and the next ones differ in type only). */
interface PageOfCalls {
  instances: CallInstance[];
  /** The next page's absolute URL (Twilio's `next_page_uri` on api.twilio.com); undefined on the last. */
  nextPageUrl?: string;
}

/** Less time than this left is no time: an attempt would only time out. */
const MIN_ATTEMPT_MS = 50;

/** Attempts again on 429, 5xx and network errors, while the deadline allows. */
class RetryingRequestClient extends OriginRequestClient {
  constructor(
    baseUrl: string | undefined,
    private readonly maxAttempts: number,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly timeoutMs: number,
    private readonly deadlineMs: () => number,
  ) {
    super(baseUrl, timeoutMs);
  }

  /** The time left for this request's attempts; throws when there is none. */
  private timeLeft(target: URL, lastProblem: string): number {
    const left = this.deadlineMs();
    if (left >= MIN_ATTEMPT_MS) return left;
    throw new TwilioDeadlineError(
      `No time left for Twilio before the Lambda timeout (${lastProblem || 'not started'}) for ${target.pathname}`,
    );
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const target = this.target(opts.uri);
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const timeout = Math.min(this.timeoutMs, this.timeLeft(target, lastProblem));
      try {
        const response = await this.attempt(opts, target, timeout);
        if (response.statusCode === 401 || response.statusCode === 403) {
          throw new TwilioAuthError(
            `Twilio credentials rejected (${response.statusCode}): check TWILIO_ACCOUNT_SID and the auth token or API key`,
          );
        }
        if (response.statusCode !== 429 && response.statusCode < 500) return response;
        lastProblem = `HTTP ${response.statusCode}`;
      } catch (error) {
        if (error instanceof TwilioAuthError) throw error;
        lastProblem = error instanceof Error ? error.message : String(error);
      }
      if (attempt < this.maxAttempts) await this.sleep(Math.min(backoffMs(attempt + 2), this.timeLeft(target, lastProblem)));
    }
    this.timeLeft(target, lastProblem);
    throw new TwilioUnavailableError(`Twilio API unavailable after ${this.maxAttempts} attempts (${lastProblem}) for ${target.pathname}`);
  }
}

function toCall(instance: CallInstance): TwilioCall {
  return {
    sid: instance.sid,
    parentCallSid: instance.parentCallSid ?? null,
    from: instance.from ?? '',
    to: instance.to ?? '',
    status: String(instance.status),
    direction: instance.direction ?? '',
    startTime: instance.startTime ?? null,
    endTime: instance.endTime ?? null,
    duration: Number(instance.duration) || 0,
    answeredBy: instance.answeredBy ?? null,
  };
}

const DAY_MS = 86_400_000;

/** Midnight UTC of the day `date` falls on, plus `days` days. */
function utcDay(date: Date, days = 0): Date {
  return new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS + days * DAY_MS);
}

/** The Calls API of one account. */
export function createTwilioCalls(options: TwilioCallsOptions): TwilioCalls {
  const httpClient = new RetryingRequestClient(
    options.baseUrl,
    options.maxAttempts ?? 6,
    options.sleep ?? defaultSleep,
    options.timeoutMs ?? 15_000,
    options.deadlineMs ?? (() => Number.POSITIVE_INFINITY),
  );
  const calls = accountApi(options, httpClient).calls;
  return {
    async *list(status, from, to, pageUrl) {
      // `StartTime>` is "on or after midnight of" its day and `StartTime<` at least "before
      // midnight of" its day: the day of `from` through the day after `to` covers the window.
      // A run that continues in another invocation starts at the page URL it saved.
      const inWindow = (call: TwilioCall) =>
        call.startTime !== null && call.startTime.getTime() >= from.getTime() && call.startTime.getTime() <= to.getTime();
      let next: string | undefined = pageUrl;
      let page: PageOfCalls =
        next === undefined
          ? await calls.page({ status, startTimeAfter: utcDay(from), startTimeBefore: utcDay(to, 1), pageSize: options.pageSize ?? 1000 })
          : await calls.getPage(next);
      for (;;) {
        next = page.nextPageUrl;
        yield { calls: page.instances.map(toCall).filter(inWindow), nextPageUrl: next };
        if (next === undefined) return;
        page = await calls.getPage(next);
      }
    },
    async fetch(callSid) {
      try {
        return toCall(await calls(callSid).fetch());
      } catch (error) {
        if (typeof error === 'object' && error !== null && 'status' in error && error.status === 404) return undefined;
        throw error;
      }
    },
    async completed(filter) {
      const page: PageOfCalls = await calls.page({
        status: 'completed',
        ...(filter.to === undefined ? {} : { to: filter.to }),
        ...(filter.from === undefined ? {} : { from: filter.from }),
        ...(filter.parentCallSid === undefined ? {} : { parentCallSid: filter.parentCallSid }),
        startTimeAfter: utcDay(filter.since),
        pageSize: filter.limit ?? 50,
      });
      return page.instances.map(toCall);
    },
    async sidsWith(filter) {
      const sids: string[] = [];
      let page: PageOfCalls = await calls.page({
        ...(filter.to === undefined ? {} : { to: filter.to }),
        ...(filter.from === undefined ? {} : { from: filter.from }),
        startTimeAfter: utcDay(filter.since),
        pageSize: options.pageSize ?? 1000,
      });
      for (;;) {
        sids.push(...page.instances.map((call) => call.sid));
        if (page.nextPageUrl === undefined) return sids;
        page = await calls.getPage(page.nextPageUrl);
      }
    },
    async checkCredentials() {
      await calls.page({ pageSize: 1 });
    },
    requests: () => httpClient.count,
  };
}

/** Builds a Calls client with per-use options (retries, timeouts, deadline). */
export type TwilioCallsFactory = (
  options?: Omit<TwilioCallsOptions, 'accountSid' | 'username' | 'password' | 'baseUrl'>,
) => Promise<TwilioCalls>;

/**
 * The one way a function gets a Twilio Calls client: the secret resolved (from SSM once per cold
 * start, retried after a failure), then a client with `options` (retries, timeouts, deadline).
 */
export function twilioCallsFactory(config: TwilioRestConfig, ssm: () => SSMClient | Promise<SSMClient>): TwilioCallsFactory {
  return twilioCallsWith(restCredentials(config, ssm));
}

/** The same from a credential resolver a function already has (one SSM read for all its Twilio clients). */
export function twilioCallsWith(credentials: () => Promise<TwilioRestCredentials>): TwilioCallsFactory {
  return async (options = {}) => createTwilioCalls({ ...options, ...(await credentials()) });
}
