/**
 * The one loop over a batch of the table's stream, for every stream consumer: records in stream
 * order, each failure reported by its sequence number (ReportBatchItemFailures) and logged.
 *
 * - `each`: every record is tried; the failed ones are reported and retried alone (each record's
 *   work is idempotent and independent of the others: contacts, text-back).
 * - `ordered`: the batch stops at the first failure and reports that record, so the retry starts
 *   there and nothing after it is done twice (events, published in stream order).
 *
 * A failed record without a sequence number cannot be reported alone: the whole batch fails.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { logger } from '../platform/log.js';

export interface StreamBatchOptions {
  mode: 'each' | 'ordered';
  /** The log message of a failed record (logged as an error with its event id and sequence number). */
  failure: string;
}

export async function processStreamBatch(
  records: readonly DynamoDBRecord[],
  handle: (record: DynamoDBRecord) => Promise<void>,
  options: StreamBatchOptions,
): Promise<DynamoDBBatchResponse> {
  const batchItemFailures: DynamoDBBatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    try {
      await handle(record);
    } catch (error) {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      if (sequenceNumber === undefined) throw error;
      logger.error(options.failure, { eventID: record.eventID, sequenceNumber, error });
      batchItemFailures.push({ itemIdentifier: sequenceNumber });
      if (options.mode === 'ordered') break;
    }
  }
  return { batchItemFailures };
}
