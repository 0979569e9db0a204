/**
 * Paged listings of the operator API: `since` and `limit` parsed strictly, and opaque cursors.
 * A cursor is the index sort key the next page starts from, bound to its query, with a checksum:
 * a cursor changed by hand or in transit, or reused with another query, is a 400. (Not a keyed
 * MAC: whoever holds the API key may list everything anyway.)
 */
import { createHash } from 'node:crypto';
import { HttpError } from './request.js';

export const MAX_LIMIT = 100;
const NOT_A_CURSOR = 'cursor is not a cursor this API returned';

/** `since` as ISO 8601 (a date or a date-time), or undefined; 400 otherwise. */
export function parseSince(query: URLSearchParams): string | undefined {
  const raw = query.get('since');
  if (raw === null || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) throw new HttpError(400, 'since must be an ISO 8601 date or date-time');
  return new Date(ms).toISOString();
}

/** `limit`, 1 to 100, default 50; 400 otherwise. */
export function parseLimit(query: URLSearchParams): number {
  const raw = query.get('limit');
  const limit = raw === null || raw === '' ? 50 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

const checksum = (payload: string): string => createHash('sha256').update(payload).digest('base64url').slice(0, 16);

export function encodeCursor(key: string, binding: string | null): string {
  const payload = Buffer.from(JSON.stringify({ b: key, s: binding })).toString('base64url');
  return `${payload}.${checksum(payload)}`;
}

/**
 * The sort key of a cursor this API returned for the query `binding`; 400 for anything else.
 * `differs` names what binds it, for the message ("since", "state or since").
 */
export function decodeCursor(cursor: string, binding: string | null, keyPattern: RegExp, differs: string): string {
  const [payload = '', sum, ...rest] = cursor.split('.');
  if (rest.length > 0 || sum === undefined || cursor.length > 512 || sum !== checksum(payload)) throw new HttpError(400, NOT_A_CURSOR);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new HttpError(400, NOT_A_CURSOR);
  }
  if (
    typeof decoded !== 'object' ||
    decoded === null ||
    !('b' in decoded) ||
    typeof decoded.b !== 'string' ||
    !keyPattern.test(decoded.b)
  ) {
    throw new HttpError(400, NOT_A_CURSOR);
  }
  if (!('s' in decoded) || decoded.s !== binding) throw new HttpError(400, `cursor belongs to another query (${differs} differs)`);
  return decoded.b;
}

/** `since`, `limit` and `cursor` of a listing newest first whose index sort keys start with their ISO time. */
export interface PageQuery {
  since: string | undefined;
  limit: number;
  /** The index sort key the next page starts below. */
  before: string | undefined;
}

/** Parses a {@link PageQuery}; 400 naming the parameter (a cursor must match `keyPattern` and its `since`). */
export function parsePageQuery(query: URLSearchParams, keyPattern: RegExp): PageQuery {
  const since = parseSince(query);
  const limit = parseLimit(query);
  const cursor = query.get('cursor');
  let before: string | undefined;
  if (cursor !== null && cursor !== '') {
    before = decodeCursor(cursor, since ?? null, keyPattern, 'since');
    if (since !== undefined && before < since) throw new HttpError(400, 'cursor belongs to another query (since differs)');
  }
  return { since, limit, before };
}
