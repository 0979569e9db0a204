/**
 * The operator API as the page calls it: same origin, relative to the page's base (the stage
 * path), with a person's token (and the people's key) or an API key in `x-api-key`. Every
 * failure becomes one of three errors the page can say plainly: the sign-in or key was refused,
 * the API could not be reached (retry), or a request was refused.
 */

import type { AuditAction, AuditEntry, listAudit } from '../lib/audit/trail.js';
import type { PersonView } from '../lib/auth/people.js';
import type { ResolutionSummary } from '../lib/callbacks/item.js';
import type { listCallbacks, OpenCallbackItem, ResolvedCallbackItem } from '../lib/operator/callbacks.js';
import type { getContact } from '../lib/operator/contacts.js';
import type { HealthReport } from '../lib/operator/health.js';
import type { StatsResponse } from '../lib/operator/stats.js';

export type { AuditAction, AuditEntry, HealthReport, OpenCallbackItem, PersonView, ResolutionSummary, ResolvedCallbackItem, StatsResponse };
export type AuditPage = Awaited<ReturnType<typeof listAudit>>;
export type ContactDetail = NonNullable<Awaited<ReturnType<typeof getContact>>>;
type Page<T> = Omit<Awaited<ReturnType<typeof listCallbacks>>, 'items'> & { items: T[] };
export type OpenPage = Page<OpenCallbackItem>;
export type ResolvedPage = Page<ResolvedCallbackItem>;

/**
 * API Gateway refused the key (403), or there is none; or a person's sign-in no longer holds (a
 * 401: expired and not refreshed, signed out elsewhere, disabled). Its message is for the sign-in form.
 */
export class KeyRefusedError extends Error {
  override name = 'KeyRefusedError';
}

/** No answer, a network failure, a 5xx or a throttle: worth a retry. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

/** The API refused this request (4xx other than the key): its own message. */
export class RequestRefusedError extends Error {
  override name = 'RequestRefusedError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function messageOf(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the status says enough.
  }
  return `HTTP ${response.status}`;
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown, headers?: Record<string, string>): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  /** DELETE with a JSON body (an erasure's confirmation). */
  delete<T>(path: string, body: unknown): Promise<T>;
  /** Audio (a voicemail's MP3 through `GET /recordings/{sid}`), with the key: an `<audio>` element cannot send it. */
  audio(path: string): Promise<Blob>;
}

/** What the sign-in form says when a person's session ends under them. */
export const SESSION_ENDED = 'Your session has ended. Your sign-in has expired, or was ended on another screen: sign in again.';
export const ACCOUNT_DISABLED = 'Your account is disabled: ask an admin.';

/** `GET /health` answers 503 with its report when a check fails: that is a report, not an outage. */
const REPORTS_ON_503 = new Set(['health']);

/** How the page proves who it is: an API key, or a person's token (fresh, refreshed when due) with the people's key. */
export type Credentials = { key: string } | { apiKey: string; token: () => Promise<string> };

export function createApi(credentials: Credentials, fetcher: typeof fetch = (input, init) => fetch(input, init)): Api {
  const person = 'token' in credentials;
  async function send(path: string, init: RequestInit, accept: string): Promise<Response> {
    let response: Response;
    const auth: Record<string, string> = person
      ? { 'x-api-key': credentials.apiKey, Authorization: `Bearer ${await credentials.token()}` }
      : { 'x-api-key': credentials.key };
    try {
      response = await fetcher(path, {
        ...init,
        headers: { ...init.headers, ...auth, Accept: accept },
        cache: 'no-store',
      });
    } catch {
      throw new UnavailableError('The ledger could not be reached');
    }
    return response;
  }
  async function refusal(response: Response): Promise<Error> {
    if (response.status === 401 && person)
      return new KeyRefusedError(/disabled/i.test(await messageOf(response)) ? ACCOUNT_DISABLED : SESSION_ENDED);
    if (response.status === 401 || (response.status === 403 && !person)) return new KeyRefusedError('That key was refused');
    if (response.status === 429) return new UnavailableError('Too many requests for this key right now');
    if (response.status >= 500) return new UnavailableError(`The ledger is unavailable (${await messageOf(response)})`);
    return new RequestRefusedError(response.status, await messageOf(response));
  }
  async function call<T>(path: string, init: RequestInit): Promise<T> {
    const response = await send(path, init, 'application/json');
    if (response.ok || (response.status === 503 && REPORTS_ON_503.has(path.split('?')[0] ?? ''))) return (await response.json()) as T;
    throw await refusal(response);
  }
  return {
    get: (path) => call(path, { method: 'GET' }),
    audio: async (path) => {
      // API Gateway answers bytes only to an Accept that names the binary type.
      const response = await send(path, { method: 'GET' }, 'audio/mpeg');
      if (response.ok) return response.blob();
      throw await refusal(response);
    },
    post: (path, body, headers = {}) =>
      call(path, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: body === undefined ? '' : JSON.stringify(body),
      }),
    patch: (path, body) => call(path, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    delete: (path, body) => call(path, { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  };
}
