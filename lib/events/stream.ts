/**
 * The events function's batch contract: records in stream order, each record's events published
 * before the next record; at the first failure the batch stops and reports that record, so the
 * retry starts there and no later fact is published twice by this function.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { logger } from '../platform/log.js';
import { processStreamBatch } from '../table/stream-batch.js';
import { fromImage } from '../table/stream-image.js';
import { eventsOf, maskedEventId } from './facts.js';
import type { Publish } from './publish.js';

export async function processEventsBatch(
  records: readonly DynamoDBRecord[],
  publish: Publish,
): Promise<DynamoDBBatchResponse & { published: number }> {
  let published = 0;
  const { batchItemFailures } = await processStreamBatch(
    records,
    async (record) => {
      const image = record.dynamodb;
      const events = eventsOf(
        record.eventName,
        image?.OldImage === undefined ? undefined : fromImage(image.OldImage),
        image?.NewImage === undefined ? undefined : fromImage(image.NewImage),
      );
      if (events.length === 0) return;
      await publish(events);
      published += events.length;
      for (const event of events) logger.info('Event published', { detailType: event.detailType, id: maskedEventId(event.id) });
    },
    { mode: 'ordered', failure: 'Events of a stream record not published; retried from it' },
  );
  return { batchItemFailures, published };
}
