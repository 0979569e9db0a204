/**
 * The contacts Lambda's batch contract: every record is tried, each failure is reported by its
 * sequence number (ReportBatchItemFailures), and the rest are applied exactly once.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { parsePendingCall } from '../ledger/call-item.js';
import { maskPhone } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import { processStreamBatch } from '../table/stream-batch.js';
import { fromImage } from '../table/stream-image.js';
import type { ContactsStore } from './store.js';

export interface BatchSummary {
  applied: number;
  /** Misses taken back: calls first decided missed that turned out answered. */
  retracted: number;
  anonymous: number;
  /** Voicemails (or their transcripts) brought onto contacts after their miss. */
  voicemails: number;
  alreadyApplied: number;
  skipped: number;
  failed: number;
}

async function processRecord(record: DynamoDBRecord, store: ContactsStore, summary: BatchSummary): Promise<void> {
  // The event source mapping filters these out already; checked again so that a mapping
  // without filters can never let a TTL deletion or another item touch a contact.
  const image = record.dynamodb?.NewImage;
  if (record.eventName === 'REMOVE' || image === undefined) {
    summary.skipped += 1;
    return;
  }
  const work = parsePendingCall(fromImage(image));
  if (work === undefined) {
    summary.skipped += 1;
    return;
  }
  const result = await store.apply(work);
  if (result.outcome === 'applied') summary.applied += 1;
  else if (result.outcome === 'anonymous') summary.anonymous += 1;
  else if (result.outcome === 'retracted') summary.retracted += 1;
  else if (result.outcome === 'cleared') summary.skipped += 1;
  else if (result.outcome === 'voicemail') summary.voicemails += 1;
  else summary.alreadyApplied += 1;
  logger.info('Contact work done', {
    callSid: work.rootCallSid,
    action: work.action,
    ...(work.action === 'clear' ? {} : { customer: maskPhone(work.customer) }),
    ...(work.action === 'apply' || work.action === 'retract' ? { status: work.status, reason: work.reason } : {}),
    outcome: result.outcome,
    ...(result.outcome === 'applied' ? { missedCount: result.missedCount } : {}),
    ...(result.outcome === 'anonymous' ? { reason: result.reason } : {}),
  });
}

/** Processes a stream batch in order and returns the failed records' sequence numbers. */
export async function processContactsBatch(
  records: readonly DynamoDBRecord[],
  store: ContactsStore,
): Promise<DynamoDBBatchResponse & { summary: BatchSummary }> {
  const summary: BatchSummary = { applied: 0, retracted: 0, anonymous: 0, voicemails: 0, alreadyApplied: 0, skipped: 0, failed: 0 };
  const { batchItemFailures } = await processStreamBatch(records, (record) => processRecord(record, store, summary), {
    mode: 'each',
    failure: 'Stream record failed',
  });
  summary.failed = batchItemFailures.length;
  logger.info('Batch done', { records: records.length, ...summary });
  return { batchItemFailures, summary };
}
