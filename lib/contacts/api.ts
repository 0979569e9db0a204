/**
 * `GET /contacts` (most recently missed first, opaque cursor) and `GET /contacts/{phone}`.
 * The listing queries the 8 shards of the `byLastMissed` index and merges them: each shard's
 * newest `limit` below the cursor holds the global newest `limit`.
 */
import { createHash } from 'node:crypto';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { CONTACT_SHARDS, contactKey } from './store.js';
import { callKey, LedgerUnavailableError } from '../ledger/store.js';
import { BadRequestError } from '../platform/request.js';

export const CONTACTS_INDEX = 'byLastMissed';
export const MAX_LIMIT = 100;

export interface ContactSummary {
  phone: string;
  missedCount: number;
  firstMissedAt: string;
  lastMissedAt: string;
  lastCallSid: string;
  lastStatus: string;
}

function summary(item: Record<string, unknown>): ContactSummary | undefined {
  const { phone, missedCount, firstMissedAt, lastMissedAt, lastCallSid, lastStatus } = item;
  if (typeof phone !== 'string' || typeof missedCount !== 'number' || typeof firstMissedAt !== 'string' || typeof lastMissedAt !== 'string')
    return undefined;
  if (typeof lastCallSid !== 'string' || typeof lastStatus !== 'string') return undefined;
  return { phone, missedCount, firstMissedAt, lastMissedAt, lastCallSid, lastStatus };
}

export interface ListQuery {
  since: string | undefined;
  limit: number;
  /** The index sort key the next page starts below. */
  before: string | undefined;
}

/** Parses `since`, `limit` and `cursor`; 400 naming the parameter. */
export function parseListQuery(query: URLSearchParams): ListQuery {
  const rawSince = query.get('since');
  let since: string | undefined;
  if (rawSince !== null && rawSince !== '') {
    const ms = Date.parse(rawSince);
    if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(rawSince))
      throw new BadRequestError(400, 'since must be an ISO 8601 date or date-time');
    since = new Date(ms).toISOString();
  }
  const rawLimit = query.get('limit');
  const limit = rawLimit === null || rawLimit === '' ? 50 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new BadRequestError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  const cursor = query.get('cursor');
  const before = cursor === null || cursor === '' ? undefined : decodeCursor(cursor, since);
  return { since, limit, before };
}

const NOT_A_CURSOR = 'cursor is not a cursor this API returned';
const checksum = (payload: string): string => createHash('sha256').update(payload).digest('base64url').slice(0, 16);

/**
 * A cursor is the sort key the next page starts below, bound to the query's `since`, with a
 * checksum: a cursor changed by hand or in transit, or reused with another `since`, is a 400.
 * (Not a keyed MAC: whoever holds the API key may list every contact anyway.)
 */
export function encodeCursor(before: string, since: string | undefined): string {
  const payload = Buffer.from(JSON.stringify({ b: before, s: since ?? null })).toString('base64url');
  return `${payload}.${checksum(payload)}`;
}

function decodeCursor(cursor: string, since: string | undefined): string {
  const [payload = '', sum, ...rest] = cursor.split('.');
  if (rest.length > 0 || sum === undefined || cursor.length > 512 || sum !== checksum(payload))
    throw new BadRequestError(400, NOT_A_CURSOR);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequestError(400, NOT_A_CURSOR);
  }
  if (
    typeof decoded !== 'object' ||
    decoded === null ||
    !('b' in decoded) ||
    typeof decoded.b !== 'string' ||
    !/^\d{4}-.+#\+\d+$/.test(decoded.b)
  ) {
    throw new BadRequestError(400, NOT_A_CURSOR);
  }
  if (!('s' in decoded) || decoded.s !== (since ?? null) || (since !== undefined && decoded.b < since)) {
    throw new BadRequestError(400, 'cursor belongs to another query (since differs)');
  }
  return decoded.b;
}

/** One page of contacts, newest missed first. */
export async function listContacts(
  client: DynamoDBDocumentClient,
  tableName: string,
  q: ListQuery,
): Promise<{ items: ContactSummary[]; nextCursor: string | null }> {
  const shards = Array.from({ length: CONTACT_SHARDS }, (_, i) => `CONTACTS#${i}`);
  const pages = await Promise.all(
    shards.map(async (shard) => {
      const values: Record<string, unknown> = { ':shard': shard };
      let condition = 'gsi1pk = :shard';
      if (q.before !== undefined && q.since !== undefined) {
        condition += ' AND gsi1sk BETWEEN :since AND :before';
        values[':since'] = q.since;
        values[':before'] = q.before;
      } else if (q.before !== undefined) {
        condition += ' AND gsi1sk < :before';
        values[':before'] = q.before;
      } else if (q.since !== undefined) {
        condition += ' AND gsi1sk >= :since';
        values[':since'] = q.since;
      }
      try {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: CONTACTS_INDEX,
            KeyConditionExpression: condition,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: q.limit + 1,
          }),
        );
        return out.Items ?? [];
      } catch (error) {
        throw new LedgerUnavailableError('The contacts index could not be read', { cause: error });
      }
    }),
  );
  const merged = pages
    .flat()
    .filter((item) => typeof item.gsi1sk === 'string' && item.gsi1sk !== q.before)
    .sort((a, b) => String(b.gsi1sk).localeCompare(String(a.gsi1sk)));
  const page = merged.slice(0, q.limit);
  const last = page.at(-1);
  return {
    items: page.map(summary).filter((s): s is ContactSummary => s !== undefined),
    nextCursor: merged.length > q.limit && last !== undefined ? encodeCursor(String(last.gsi1sk), q.since) : null,
  };
}

/** A phone number in any common format as E.164; 400 when it is none. */
export function normalizePhone(raw: string, defaultCountry: CountryCode): string {
  // Only what a written number holds: libphonenumber would also find one inside other text.
  if (!/^[+\d\s().-]{3,32}$/.test(raw.trim())) throw new BadRequestError(400, 'phone is not a valid phone number');
  const parsed = parsePhoneNumberFromString(raw.trim(), { defaultCountry });
  if (parsed === undefined || !parsed.isValid()) throw new BadRequestError(400, 'phone is not a valid phone number');
  return parsed.number;
}

/** One contact with its missed calls still within retention, newest first; undefined if unknown. */
export async function getContact(client: DynamoDBDocumentClient, tableName: string, e164: string) {
  let item: Record<string, unknown> | undefined;
  try {
    item = (await client.send(new GetCommand({ TableName: tableName, Key: { pk: contactKey(e164) } }))).Item;
  } catch (error) {
    throw new LedgerUnavailableError('The contact could not be read', { cause: error });
  }
  const contact = item === undefined ? undefined : summary(item);
  if (item === undefined || contact === undefined) return undefined;
  const sids = Array.isArray(item.recentCallSids) ? item.recentCallSids.filter((s): s is string => typeof s === 'string') : [];
  const calls: Record<string, unknown>[] = [];
  for (let i = 0; i < sids.length; i += 100) {
    try {
      const out = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: sids.slice(i, i + 100).map((sid) => ({ pk: callKey(sid) })),
              ProjectionExpression: 'callSid, #status, occurredAt, #source, direction',
              ExpressionAttributeNames: { '#status': 'status', '#source': 'source' },
            },
          },
        }),
      );
      calls.push(...(out.Responses?.[tableName] ?? []));
    } catch (error) {
      throw new LedgerUnavailableError('The contact calls could not be read', { cause: error });
    }
  }
  calls.sort((a, b) => String(b.occurredAt).localeCompare(String(a.occurredAt)));
  return { ...contact, statusCounts: item.statusCounts ?? {}, calls };
}
