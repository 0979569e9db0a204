/** The table's stream into contacts: one contact increment per missed call with a real number. */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createContactsStore } from '../lib/contacts/store.js';
import { processContactsBatch } from '../lib/contacts/stream.js';
import { documents, logSdkVersionAtColdStart } from '../lib/platform/aws.js';
import { readTableName } from '../lib/platform/config.js';
import { logger } from '../lib/platform/log.js';

const tableName = readTableName(process.env);
logSdkVersionAtColdStart();
const store = createContactsStore(documents(), { tableName });

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  const { batchItemFailures } = await processContactsBatch(event.Records, store);
  return { batchItemFailures };
};
