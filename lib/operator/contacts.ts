/**
 * `GET /contacts` (most recently missed first, opaque cursor) and `GET /contacts/{phone}`.
 * The listing queries the 8 shards of the `byLastMissed` index and merges them: each shard's
 * newest `limit` below the cursor holds the global newest `limit`.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { parseCalling } from '../callbacks/calling.js';
import { type ResolutionSummary, resolutionSummary } from '../callbacks/item.js';
import { episodes } from '../callbacks/model.js';
import { type Contact, type ContactSummary, parseContact, parseContactSummary } from '../contacts/item.js';
import { CALL_SUMMARY_PROJECTION, type CallSummary, parseCallSummary } from '../ledger/call-item.js';
import { encodeCursor, type PageQuery, parsePageQuery } from '../platform/paging.js';
import { readable, TableUnavailableError } from '../table/items.js';
import { CONTACT_SORT_KEY, CONTACTS_INDEX, callingKey, callKey, contactKey, contactShards, textBackKey } from '../table/keys.js';
import { batchGetAll, shardedPage } from '../table/requests.js';
import { type ContactTextBack, callbackTextBack, contactTextBack, parseTextBackRecord } from '../textback/item.js';
import { callingOf, type OpenCallbackItem } from './callbacks.js';
import { type ServedVoicemail, withServedVoicemail } from './voicemail.js';

/** A missed call of a contact as `GET /contacts/{phone}` shows it: its voicemail with the URL of its audio. */
export type ContactCall = Omit<CallSummary, 'voicemail'> & { voicemail?: ServedVoicemail };
export type ListQuery = PageQuery;

/** Parses `since`, `limit` and `cursor`; 400 naming the parameter. */
export const parseListQuery = (query: URLSearchParams): ListQuery => parsePageQuery(query, CONTACT_SORT_KEY);

/** A cursor of this listing: the sort key the next page starts below, bound to `since`. */
export const encodeContactsCursor = (before: string, since: string | undefined): string => encodeCursor(before, since ?? null);

/** One page of contacts, newest missed first. */
export async function listContacts(
  client: DynamoDBDocumentClient,
  tableName: string,
  q: ListQuery,
): Promise<{ items: ContactSummary[]; nextCursor: string | null }> {
  const { items, continueAfter } = await shardedPage(client, tableName, {
    index: CONTACTS_INDEX,
    keys: { pk: 'gsi1pk', sk: 'gsi1sk' },
    shards: contactShards(),
    order: 'descending',
    limit: q.limit,
    since: q.since,
    after: q.before,
    what: 'The contacts index',
  });
  return {
    items: items.flatMap((item) => readable(() => parseContactSummary(item), 'contact') ?? []),
    nextCursor: continueAfter === undefined ? null : encodeContactsCursor(continueAfter, q.since),
  };
}

/** One contact with its missed calls still within retention, newest first; undefined if unknown. */
export async function getContact(
  client: DynamoDBDocumentClient,
  tableName: string,
  e164: string,
  now: Date = new Date(),
  maxAttempts?: number,
): Promise<
  | (ContactSummary & {
      statusCounts: Contact['statusCounts'];
      calls: ContactCall[];
      callback: Omit<OpenCallbackItem, 'phone'> | null;
      resolutions: ResolutionSummary[];
      textBack: ContactTextBack | null;
    })
  | undefined
> {
  let item: Record<string, unknown> | undefined;
  let textBackItem: Record<string, unknown> | undefined;
  let callingItem: Record<string, unknown> | undefined;
  try {
    [item, textBackItem, callingItem] = await Promise.all(
      [contactKey(e164), textBackKey(e164), callingKey(e164)].map(
        async (pk) => (await client.send(new GetCommand({ TableName: tableName, Key: { pk } }))).Item,
      ),
    );
  } catch (error) {
    throw new TableUnavailableError('The contact could not be read', { cause: error });
  }
  const textBack = readable(() => parseTextBackRecord(textBackItem), 'text-back item');
  const calling = callingItem === undefined ? undefined : readable(() => parseCalling(callingItem), 'calling item');
  const contact = item === undefined ? undefined : readable(() => parseContact(item), 'contact');
  if (contact === undefined) return undefined;
  const items = await batchGetAll(
    client,
    tableName,
    contact.recentCallSids.map((sid) => ({ pk: callKey(sid) })),
    { what: 'The contact calls', read: CALL_SUMMARY_PROJECTION },
  );
  const calls: ContactCall[] = items.flatMap((call) => readable(() => parseCallSummary(call), 'call') ?? []).map(withServedVoicemail);
  calls.sort((a, b) => b.occurredAt.localeCompare(a.occurredAt));
  const { phone, missedCount, firstMissedAt, lastMissedAt, lastCallSid, lastStatus, statusCounts } = contact;
  // The open callback, and the resolutions still kept on the contact, newest first.
  const resolutions = episodes(contact.callbacks)
    .resolutions.reverse()
    .map((r) => resolutionSummary(phone, r));
  return {
    phone,
    missedCount,
    firstMissedAt,
    lastMissedAt,
    lastCallSid,
    lastStatus,
    statusCounts,
    calls,
    callback:
      contact.callback === undefined
        ? null
        : {
            ...withServedVoicemail(contact.callback),
            textBack: callbackTextBack(textBack, contact.callback.openSince),
            ...callingOf(calling, contact.callback.openSince, now, maxAttempts),
          },
    resolutions,
    textBack: contactTextBack(textBack),
  };
}
