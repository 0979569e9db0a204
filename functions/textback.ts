/**
 * Missed-call text-back (TEXT_BACK=on): one SMS to the caller when a callback opens, at most
 * once. Its rule on the event bus delivers each `Callback opened` event the events function
 * publishes (the table's stream keeps two readers: contacts and events); Lambda's asynchronous
 * retries and on-failure queue are set in serverless.yml.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { logger, SERVICE_NAME } from '../lib/platform/log.js';
import { parseTextBackConfig } from '../lib/textback/config.js';
import { handleOpenedEvent, type OpenedEvent, type Settled } from '../lib/textback/run.js';
import { createTextBackStore } from '../lib/textback/store.js';
import { twilioMessagesFactory } from '../lib/twilio/messages.js';

const config = parseTextBackConfig(process.env);
logSdkVersionAtColdStart();
const store = createTextBackStore(documents(), config.tableName);
const messages = twilioMessagesFactory(config.twilio, ssm);
const metrics = new Metrics({ namespace: 'MissedCallLedger', serviceName: SERVICE_NAME });

export const handler = async (event: OpenedEvent, context: Context): Promise<{ settled: Settled | 'invalid' | 'off' }> => {
  logger.addContext(context);
  // The rule is disabled when TEXT_BACK is off; an event that still arrives is left alone.
  if (!config.settings.enabled) return { settled: 'off' };
  try {
    const settled = await handleOpenedEvent(event, {
      settings: config.settings,
      store,
      call: (callSid) => store.callState(callSid),
      messages,
      count: (name, n = 1) => metrics.addMetric(name, MetricUnit.Count, n),
    });
    return { settled };
  } finally {
    metrics.publishStoredMetrics();
  }
};
