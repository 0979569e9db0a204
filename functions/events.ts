/** The table's stream into Amazon EventBridge: missed calls recorded, callbacks opened and resolved. */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { readEventBusName } from '../lib/events/config.js';
import { createPublisher } from '../lib/events/publish.js';
import { processEventsBatch } from '../lib/events/stream.js';
import { logSdkVersionAtColdStart } from '../lib/platform/aws.js';
import { eventBridge } from '../lib/platform/eventbridge.js';
import { logger } from '../lib/platform/log.js';

const publish = createPublisher(eventBridge(), readEventBusName(process.env));
logSdkVersionAtColdStart();

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  const { batchItemFailures } = await processEventsBatch(event.Records, publish);
  return { batchItemFailures };
};
