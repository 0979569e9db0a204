/** Missed-call text-back (TEXT_BACK=on): one SMS to the caller when a callback opens, at most once. */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { logger, SERVICE_NAME } from '../lib/platform/log.js';
import { parseTextBackConfig } from '../lib/textback/config.js';
import { processTextBackBatch } from '../lib/textback/run.js';
import { createTextBackStore } from '../lib/textback/store.js';
import { twilioMessagesFactory } from '../lib/twilio/messages.js';

const config = parseTextBackConfig(process.env);
logSdkVersionAtColdStart();
const store = createTextBackStore(documents(), config.tableName);
const messages = twilioMessagesFactory(config.twilio, ssm);
const metrics = new Metrics({ namespace: 'MissedCallLedger', serviceName: SERVICE_NAME });

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  // The mapping is disabled when TEXT_BACK is off; a record that still arrives is left alone.
  if (!config.settings.enabled) return { batchItemFailures: [] };
  try {
    const { batchItemFailures } = await processTextBackBatch(event.Records, {
      settings: config.settings,
      store,
      call: (callSid) => store.callState(callSid),
      messages,
      count: (name, n = 1) => metrics.addMetric(name, MetricUnit.Count, n),
    });
    return { batchItemFailures };
  } finally {
    metrics.publishStoredMetrics();
  }
};
