/**
 * `DELETE /contacts/{phone}`: erases a caller (GDPR's right to erasure, CCPA's deletion): their
 * contact (and with it their callbacks), their call items, their resolution items, their
 * text-back record, and the recordings Twilio holds of their calls. The day counters stay (they
 * hold no personal data). What Twilio keeps of its own (call and message logs) is Twilio's to
 * delete: docs/OPERATIONS.md.
 *
 * Their calls are what the ledger knows of them (the contact's calls and callbacks) and every
 * call Twilio lists from or to the number within the retention: a call whose webhook was lost
 * is erased too. Each call item becomes a tombstone (`type: erased`, no number, the call's TTL)
 * that every evidence write refuses (lib/ledger/call-item.ts), so a late or retried Twilio
 * callback, or the nightly reconciliation, cannot bring an erased call back; a new call from
 * the number is recorded as any other.
 *
 * Order: Twilio first (the calls listed, the recordings deleted), the table last (the contact
 * the very last), so that a failure leaves the caller findable and a repeat finishes the work.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { parseContact } from '../contacts/item.js';
import { recordingSidsOf } from '../ledger/call-item.js';
import { maskPhone } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import { mapLimit } from '../platform/pool.js';
import { HttpError, type HttpRequest, parseJsonBody } from '../platform/request.js';
import { isRecord, TableUnavailableError } from '../table/items.js';
import { CALLBACKS_INDEX, callbackShard, callingKey, callKey, contactKey, resolutionKey, textBackKey } from '../table/keys.js';
import { type BatchWrite, batchGetAll, batchWriteAll } from '../table/requests.js';
import type { TwilioCalls } from '../twilio/client.js';
import type { TwilioRecordings } from '../twilio/recordings.js';

export interface Erasure {
  phone: string;
  erased: {
    contact: boolean;
    /** Call items made tombstones (the ledger's record of each call is gone). */
    calls: number;
    resolutions: number;
    textBack: boolean;
    /** Recordings deleted at Twilio now, and those Twilio no longer had. */
    recordings: { deleted: number; gone: number };
  };
  kept: string;
}

export interface ErasureDeps {
  documents: DynamoDBDocumentClient;
  tableName: string;
  calls: () => Promise<TwilioCalls>;
  recordings: TwilioRecordings;
  retentionDays: number;
  now: Date;
}

/** `{ "confirm": "<the same number>" }`: the number typed again, in any format the path accepts. */
export function parseEraseBody(
  request: Pick<HttpRequest, 'body' | 'headers'>,
  normalize: (raw: string) => string | undefined,
  phone: string,
): void {
  // An empty body is no confirmation: the same 400 as a body without one.
  const parsed = request.body.trim() === '' ? {} : parseJsonBody(request);
  if (!isRecord(parsed) || Object.keys(parsed).some((key) => key !== 'confirm') || typeof parsed.confirm !== 'string')
    throw new HttpError(400, 'body must be {"confirm": "<the number to erase, again>"}');
  if (normalize(parsed.confirm) !== phone) throw new HttpError(400, 'confirm is not the number to erase: nothing was erased');
}

const DAY_MS = 86_400_000;

export async function eraseCaller(phone: string, deps: ErasureDeps): Promise<Erasure> {
  const { documents, tableName } = deps;
  let read: Record<string, unknown> | undefined;
  try {
    read = (await documents.send(new GetCommand({ TableName: tableName, Key: { pk: contactKey(phone) }, ConsistentRead: true }))).Item;
  } catch (error) {
    throw new TableUnavailableError('The contact could not be read', { cause: error });
  }
  const contact = read === undefined ? undefined : parseContact(read);
  const resolving = contact?.callbacks.calls.map((c) => c.id) ?? [];
  // Every call of the number: what the ledger knows, and what Twilio lists within the retention.
  const twilio = await deps.calls();
  const since = new Date(deps.now.getTime() - (deps.retentionDays + 1) * DAY_MS);
  const [from, to] = await Promise.all([twilio.sidsWith({ from: phone, since }), twilio.sidsWith({ to: phone, since })]);
  const sids = new Set([
    ...(contact?.recentCallSids ?? []),
    ...(contact?.callbacks.misses.map((m) => m.callSid) ?? []),
    ...resolving.filter((id) => id.startsWith('CA')),
    ...from,
    ...to,
  ]);
  const items = await batchGetAll(
    documents,
    tableName,
    [...sids].map((sid) => ({ pk: callKey(sid) })),
    { what: 'The calls to erase', read: { ConsistentRead: true } },
  );
  // The recordings at Twilio, before any of the ledger goes (a failure here erases nothing).
  const recordingSids = items.filter((item) => item.type === 'call').flatMap((item) => recordingSidsOf(item));
  const outcomes: ('deleted' | 'gone')[] = [];
  await mapLimit(recordingSids, 4, async (sid) => {
    outcomes.push(await deps.recordings.remove(sid));
  });
  // Resolutions: those in the resolved index (the caller's shard), and any tombstone of one.
  const indexed: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    let page: QueryCommandOutput;
    try {
      page = await documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: CALLBACKS_INDEX,
          KeyConditionExpression: 'gsi2pk = :shard',
          FilterExpression: 'phone = :phone',
          ProjectionExpression: 'pk',
          ExpressionAttributeValues: { ':shard': callbackShard('resolved', phone), ':phone': phone },
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
    } catch (error) {
      throw new TableUnavailableError('The resolutions could not be read', { cause: error });
    }
    indexed.push(...(page.Items ?? []).map((item) => String(item.pk)));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  const resolutionKeys = new Set([...indexed, ...[...sids, ...resolving].map((id) => resolutionKey(phone, id))]);
  const found = await batchGetAll(
    documents,
    tableName,
    [...resolutionKeys].map((pk) => ({ pk })),
    { what: 'The resolutions to erase', read: { ProjectionExpression: 'pk' } },
  );
  const byPk = new Map(items.map((item) => [String(item.pk), item]));
  const expiresIn = Math.floor(deps.now.getTime() / 1000) + deps.retentionDays * 86_400;
  const tombstones: BatchWrite[] = [...sids].map((sid) => {
    const expiresAt = byPk.get(callKey(sid))?.expiresAt;
    return {
      put: {
        pk: callKey(sid),
        type: 'erased',
        erasedAt: deps.now.toISOString(),
        expiresAt: typeof expiresAt === 'number' ? expiresAt : expiresIn,
      },
    };
  });
  // The text-back record, and the calls back through Twilio (their attempts).
  const records = await batchGetAll(documents, tableName, [{ pk: textBackKey(phone) }, { pk: callingKey(phone) }], {
    what: 'The text-back and calling records',
    read: { ProjectionExpression: 'pk' },
  });
  const textBack = records.filter((item) => item.pk === textBackKey(phone));
  await batchWriteAll(
    documents,
    tableName,
    [...tombstones, ...found.map((item) => ({ delete: { pk: item.pk } })), ...records.map((item) => ({ delete: { pk: item.pk } }))],
    { what: 'The erasure' },
  );
  if (read !== undefined) await batchWriteAll(documents, tableName, [{ delete: { pk: contactKey(phone) } }], { what: 'The contact' });
  const erasure: Erasure = {
    phone,
    erased: {
      contact: read !== undefined,
      calls: items.filter((item) => item.type === 'call').length,
      resolutions: found.length,
      textBack: textBack.length > 0,
      recordings: { deleted: outcomes.filter((o) => o === 'deleted').length, gone: outcomes.filter((o) => o === 'gone').length },
    },
    kept: 'the day counters (no personal data); what Twilio keeps of its own (call and message logs): docs/OPERATIONS.md',
  };
  logger.info('Caller erased', { phone: maskPhone(phone), ...erasure.erased });
  return erasure;
}
