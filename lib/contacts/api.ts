/**
 * `GET /contacts` (most recently missed first, opaque cursor) and `GET /contacts/{phone}`.
 * The listing queries the 8 shards of the `byLastMissed` index and merges them: each shard's
 * newest `limit` below the cursor holds the global newest `limit`.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '../ledger/requests.js';
import {
  CALL_SUMMARY_PROJECTION,
  type CallSummary,
  CONTACT_SORT_KEY,
  CONTACTS_INDEX,
  type Contact,
  type ContactSummary,
  callKey,
  contactKey,
  contactShards,
  InvalidItemError,
  parseCallSummary,
  parseContact,
  parseContactSummary,
  TableUnavailableError,
} from '../ledger/schema.js';
import { logger } from '../platform/log.js';
import { HttpError } from '../platform/request.js';

export const MAX_LIMIT = 100;

/**
 * An item this API cannot read is left out (with a warning) rather than failing the whole
 * request; the message never holds its key, which is a full number.
 */
function readable<T>(parse: () => T, what: string): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidItemError)) throw error;
    logger.warn(`Unreadable ${what} left out`, { reason: error.message });
    return undefined;
  }
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
    if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(rawSince)) throw new HttpError(400, 'since must be an ISO 8601 date or date-time');
    since = new Date(ms).toISOString();
  }
  const rawLimit = query.get('limit');
  const limit = rawLimit === null || rawLimit === '' ? 50 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`);
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
    !CONTACT_SORT_KEY.test(decoded.b)
  ) {
    throw new HttpError(400, NOT_A_CURSOR);
  }
  if (!('s' in decoded) || decoded.s !== (since ?? null) || (since !== undefined && decoded.b < since)) {
    throw new HttpError(400, 'cursor belongs to another query (since differs)');
  }
  return decoded.b;
}

/** One page of contacts, newest missed first. */
export async function listContacts(
  client: DynamoDBDocumentClient,
  tableName: string,
  q: ListQuery,
): Promise<{ items: ContactSummary[]; nextCursor: string | null }> {
  const pages = await Promise.all(
    contactShards().map(async (shard) => {
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
        throw new TableUnavailableError('The contacts index could not be read', { cause: error });
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
    items: page.flatMap((item) => readable(() => parseContactSummary(item), 'contact') ?? []),
    nextCursor: merged.length > q.limit && last !== undefined ? encodeCursor(String(last.gsi1sk), q.since) : null,
  };
}

/** One contact with its missed calls still within retention, newest first; undefined if unknown. */
export async function getContact(
  client: DynamoDBDocumentClient,
  tableName: string,
  e164: string,
): Promise<(ContactSummary & { statusCounts: Contact['statusCounts']; calls: CallSummary[] }) | undefined> {
  let item: Record<string, unknown> | undefined;
  try {
    item = (await client.send(new GetCommand({ TableName: tableName, Key: { pk: contactKey(e164) } }))).Item;
  } catch (error) {
    throw new TableUnavailableError('The contact could not be read', { cause: error });
  }
  const contact = item === undefined ? undefined : readable(() => parseContact(item), 'contact');
  if (contact === undefined) return undefined;
  const items = await batchGetAll(
    client,
    tableName,
    contact.recentCallSids.map((sid) => ({ pk: callKey(sid) })),
    { what: 'The contact calls', read: CALL_SUMMARY_PROJECTION },
  );
  const calls = items.flatMap((call) => readable(() => parseCallSummary(call), 'call') ?? []);
  calls.sort((a, b) => b.occurredAt.localeCompare(a.occurredAt));
  const { phone, missedCount, firstMissedAt, lastMissedAt, lastCallSid, lastStatus, statusCounts } = contact;
  return { phone, missedCount, firstMissedAt, lastMissedAt, lastCallSid, lastStatus, statusCounts, calls };
}
