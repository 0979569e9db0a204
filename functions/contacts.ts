/** The table's stream into contacts and their callbacks: one increment per missed call with a real number. */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { reachedSince } from '../lib/callbacks/reached.js';
import { parseContactsConfig } from '../lib/contacts/config.js';
import { createContactsStore } from '../lib/contacts/store.js';
import { processContactsBatch } from '../lib/contacts/stream.js';
import { queueBridges } from '../lib/ledger/bridges.js';
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { logger } from '../lib/platform/log.js';
import type { TwilioCallsFactory } from '../lib/twilio/client.js';

const config = parseContactsConfig(process.env);
logSdkVersionAtColdStart();
// The Twilio client loads on the first late miss only: most batches never need it, and the
// function's cold start stays that of a stream consumer.
let twilioCalls: Promise<TwilioCallsFactory> | undefined;
const docs = documents();
const store = createContactsStore(docs, {
  tableName: config.tableName,
  // A late miss asks Twilio once whether the number was reached since: quickly, or not at all.
  reachedSince: async (phone, since) => {
    twilioCalls ??= import('../lib/twilio/client.js').then(({ twilioCallsFactory }) => twilioCallsFactory(config.twilio, ssm));
    const calls = await (await twilioCalls)({ maxAttempts: 2, timeoutMs: 3_000 });
    return reachedSince(calls, phone, since, config.callbackMinSeconds, (sids) => queueBridges(docs, config.tableName, sids));
  },
});

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  const { batchItemFailures } = await processContactsBatch(event.Records, store);
  return { batchItemFailures };
};
