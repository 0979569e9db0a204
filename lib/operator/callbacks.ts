/**
 * `GET /callbacks`: the worklist. `state=open` (default): who has waited longest first, from the
 * open callbacks on contact items; `state=resolved`: most recently resolved first, from the
 * resolution items. Both read the 8 shards of the `byCallbackState` index and merge them.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Attempt, type AttemptProgress, activeClaim, attemptProgress, failedSince } from '../callbacks/attempts.js';
import { type Calling, type KeptAttempt, parseCalling } from '../callbacks/calling.js';
import { type OpenCallback, parseOpenCallbackItem, parseResolutionSummary, type ResolutionSummary } from '../callbacks/item.js';
import type { Actor } from '../callbacks/model.js';
import { decodeCursor, encodeCursor, parseLimit, parseSince } from '../platform/paging.js';
import { HttpError, type HttpRequest, parseJsonBody } from '../platform/request.js';
import { isRecord, readable, TableUnavailableError } from '../table/items.js';
import { CALLBACK_SORT_KEY, CALLBACKS_INDEX, type CallbackIndexState, callbackShards, callingKey, textBackKey } from '../table/keys.js';
import { batchGetAll, shardedPage } from '../table/requests.js';
import { callbackTextBack, parseTextBackRecord, type TextBackSummary } from '../textback/item.js';
import { CallBackError } from './call-back.js';
import { type ServedVoicemail, withServedVoicemail } from './voicemail.js';

export interface CallbacksQuery {
  state: CallbackIndexState;
  /** resolved only: resolutions at or after this instant. */
  since: string | undefined;
  limit: number;
  /** The index sort key the page starts after (open) or below (resolved). */
  from: string | undefined;
}

export type OpenCallbackItem = Omit<OpenCallback, 'voicemail'> & {
  phone: string;
  textBack: TextBackSummary | null;
  /** The newest message left on the callback's misses, with the path of its audio. */
  voicemail?: ServedVoicemail;
  /** Its calls back through Twilio since it opened (when there were any): how many, and the last 3, newest first. */
  attempts?: { count: number; last: (Attempt & { progress?: AttemptProgress })[] };
  /** Someone is calling them through Twilio now (their claim). */
  calling?: { agent: string; until: string; person?: Actor };
  /** CALLBACK_MAX_ATTEMPTS failed calls back since it opened: it may be closed as `unreachable`. */
  canCloseUnreachable?: true;
};

/** An attempt as listed: without its facts, with its progress while it has no outcome. */
function shownAttempt(attempt: KeptAttempt): Attempt & { progress?: AttemptProgress } {
  const { facts: _facts, ...shown } = attempt;
  const progress = attemptProgress(attempt);
  return progress === undefined ? shown : { ...shown, progress };
}

/**
 * The attempts and the claim of an open callback, from its number's calling item. An attempt
 * without an outcome whose agent answered (Twilio asked for its TwiML) is `calling the customer`.
 */
export function callingOf(
  calling: Calling | undefined,
  openSince: string,
  now: Date,
  maxAttempts: number | undefined,
): Pick<OpenCallbackItem, 'attempts' | 'calling' | 'canCloseUnreachable'> {
  if (calling === undefined) return {};
  const since = calling.attempts.filter((a) => a.at >= openSince).reverse();
  const claim = activeClaim(calling.claim, now);
  const closable = maxAttempts !== undefined && failedSince(since, openSince) >= maxAttempts;
  return {
    ...(since.length === 0 ? {} : { attempts: { count: since.length, last: since.slice(0, 3).map(shownAttempt) } }),
    ...(claim === undefined
      ? {}
      : { calling: { agent: claim.agent, until: claim.until, ...(claim.person === undefined ? {} : { person: claim.person }) } }),
    ...(closable ? { canCloseUnreachable: true as const } : {}),
  };
}
export type ResolvedCallbackItem = Omit<ResolutionSummary, 'id'>;

const binding = (q: Pick<CallbacksQuery, 'state' | 'since'>) => `${q.state}|${q.since ?? ''}`;

/** Parses `state`, `since`, `limit`, `cursor`; 400 naming the parameter. */
export function parseCallbacksQuery(query: URLSearchParams): CallbacksQuery {
  const rawState = query.get('state') ?? 'open';
  if (rawState !== 'open' && rawState !== 'resolved') throw new HttpError(400, 'state must be open or resolved');
  const since = parseSince(query);
  if (since !== undefined && rawState === 'open') throw new HttpError(400, 'since applies to state=resolved only');
  const limit = parseLimit(query);
  const cursor = query.get('cursor');
  const q = { state: rawState, since, limit } as const;
  const from = cursor === null || cursor === '' ? undefined : decodeCursor(cursor, binding(q), CALLBACK_SORT_KEY, 'state or since');
  return { ...q, from };
}

function resolvedItem(item: Record<string, unknown>): ResolvedCallbackItem {
  const { id: _id, ...rest } = parseResolutionSummary(item);
  return rest;
}

/** One page of the worklist. */
export async function listCallbacks(
  client: DynamoDBDocumentClient,
  tableName: string,
  q: CallbacksQuery,
  now: Date = new Date(),
  maxAttempts?: number,
): Promise<{ items: (OpenCallbackItem | ResolvedCallbackItem)[]; nextCursor: string | null }> {
  const ascending = q.state === 'open';
  const { items, continueAfter } = await shardedPage(client, tableName, {
    index: CALLBACKS_INDEX,
    keys: { pk: 'gsi2pk', sk: 'gsi2sk' },
    shards: callbackShards(q.state),
    order: ascending ? 'ascending' : 'descending',
    limit: q.limit,
    since: q.since,
    after: q.from,
    what: 'The callbacks index',
  });
  const nextCursor = continueAfter === undefined ? null : encodeCursor(continueAfter, binding(q));
  if (!ascending) return { items: items.flatMap((item) => readable(() => resolvedItem(item), 'callback item') ?? []), nextCursor };
  const open = items.flatMap((item) => readable(() => parseOpenCallbackItem(item), 'callback item') ?? []);
  // Each open callback's text-back (TEXT_BACK=on) and calls back through Twilio: one BatchGetItem for the page.
  const records = new Map<string, ReturnType<typeof parseTextBackRecord>>();
  const callings = new Map<string, Calling>();
  if (open.length > 0) {
    const found = await batchGetAll(
      client,
      tableName,
      open.flatMap((item) => [{ pk: textBackKey(item.phone) }, { pk: callingKey(item.phone) }]),
      { what: 'The text-back and calling items' },
    );
    for (const item of found) {
      if (item.type === 'calling') {
        const calling = readable(() => parseCalling(item), 'calling item');
        if (calling !== undefined) callings.set(calling.phone, calling);
        continue;
      }
      const record = readable(() => parseTextBackRecord(item), 'text-back item');
      if (record !== undefined) records.set(record.phone, record);
    }
  }
  return {
    items: open.map((item) => ({
      ...withServedVoicemail(item),
      textBack: callbackTextBack(records.get(item.phone), item.openSince),
      ...callingOf(callings.get(item.phone), item.openSince, now, maxAttempts),
    })),
    nextCursor,
  };
}

/** Open callbacks now: a COUNT query of each shard of the open index (reads what it counts, no items returned). */
export async function countOpenCallbacks(client: DynamoDBDocumentClient, tableName: string): Promise<number> {
  const counts = await Promise.all(
    callbackShards('open').map(async (shard) => {
      let count = 0;
      let start: Record<string, unknown> | undefined;
      do {
        try {
          const out = await client.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: CALLBACKS_INDEX,
              KeyConditionExpression: 'gsi2pk = :shard',
              ExpressionAttributeValues: { ':shard': shard },
              Select: 'COUNT',
              ExclusiveStartKey: start,
            }),
          );
          count += out.Count ?? 0;
          start = out.LastEvaluatedKey;
        } catch (error) {
          throw new TableUnavailableError('The callbacks index could not be counted', { cause: error });
        }
      } while (start !== undefined);
      return count;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * `{"note": "…", "unreachable": true}` (both optional; a note of at most 500 characters) of
 * `POST /callbacks/{phone}/resolve`.
 */
export function parseResolveBody(request: Pick<HttpRequest, 'body' | 'headers'>): { note: string | undefined; unreachable: boolean } {
  const parsed = parseJsonBody(request);
  if (parsed === undefined) return { note: undefined, unreachable: false };
  if (!isRecord(parsed) || Object.keys(parsed).some((key) => key !== 'note' && key !== 'unreachable'))
    throw new HttpError(400, 'body may hold only "note" and "unreachable"');
  const { note, unreachable } = parsed;
  if (unreachable !== undefined && typeof unreachable !== 'boolean') throw new HttpError(400, 'unreachable must be true or false');
  if (note !== undefined && (typeof note !== 'string' || note.length > 500))
    throw new HttpError(400, 'note must be a string of at most 500 characters');
  return { note, unreachable: unreachable === true };
}

/**
 * May this open callback be closed as `unreachable`? Only with CALLBACK_MAX_ATTEMPTS set and
 * that many failed calls back since it opened.
 * @throws CallBackError 409 saying why not.
 */
export function requireUnreachable(calling: Calling | undefined, openSince: string, maxAttempts: number | undefined): void {
  if (maxAttempts === undefined) throw new CallBackError(409, 'Closing as unreachable is off: set CALLBACK_MAX_ATTEMPTS');
  const failed = failedSince(calling?.attempts ?? [], openSince);
  if (failed < maxAttempts)
    throw new CallBackError(409, `${failed} of ${maxAttempts} failed calls back so far: it cannot be closed as unreachable yet`);
}
