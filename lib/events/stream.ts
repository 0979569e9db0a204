/**
 * The events function's batch contract: records in stream order, each record's events published
 * before the next record; at the first failure the batch stops and reports that record, so the
 * retry starts there and no later fact is published twice by this function.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { fromImage } from '../ledger/stream-image.js';
import { logger } from '../platform/log.js';
import { eventsOf, maskedEventId } from './facts.js';
import type { Publish } from './publish.js';

export async function processEventsBatch(
  records: readonly DynamoDBRecord[],
  publish: Publish,
): Promise<DynamoDBBatchResponse & { published: number }> {
  let published = 0;
  for (const record of records) {
    try {
      const image = record.dynamodb;
      const events = eventsOf(
        record.eventName,
        image?.OldImage === undefined ? undefined : fromImage(image.OldImage),
        image?.NewImage === undefined ? undefined : fromImage(image.NewImage),
      );
      if (events.length === 0) continue;
      await publish(events);
      published += events.length;
      for (const event of events) logger.info('Event published', { detailType: event.detailType, id: maskedEventId(event.id) });
    } catch (error) {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      if (sequenceNumber === undefined) throw error;
      logger.error('Events of a stream record not published; retried from it', { eventID: record.eventID, sequenceNumber, error });
      return { batchItemFailures: [{ itemIdentifier: sequenceNumber }], published };
    }
  }
  return { batchItemFailures: [], published };
}
