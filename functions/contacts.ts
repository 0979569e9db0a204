/** The table's stream into contacts: one contact increment per missed call with a real number. */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { documents, logSdkVersionAtColdStart } from '../lib/platform/aws.js';
import { parseTableConfig } from '../lib/platform/config.js';
import { createContactsStore } from '../lib/contacts/store.js';
import { processContactsBatch } from '../lib/contacts/stream.js';
import { logger } from '../lib/platform/log.js';

const config = parseTableConfig(process.env);
logSdkVersionAtColdStart();
const store = createContactsStore(documents(), { tableName: config.tableName });

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  const { batchItemFailures } = await processContactsBatch(event.Records, store);
  return { batchItemFailures };
};
