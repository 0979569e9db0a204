/**
 * Deletes a call's recordings at Twilio when the ledger forgets the call (DELETE_RECORDINGS,
 * default true). Its rule on the event bus delivers each `Recording forgotten` event the events
 * function publishes from a call item's removal (the table's stream keeps two readers); Lambda's
 * asynchronous retries and on-failure queue are set in serverless.yml.
 */
import type { Context } from 'aws-lambda';
import { logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { logger } from '../lib/platform/log.js';
import { parseRecordingsConfig } from '../lib/recordings/config.js';
import { type Forgotten, type ForgottenEvent, handleForgottenRecording } from '../lib/recordings/forget.js';
import { createTwilioRecordings } from '../lib/twilio/recordings.js';
import { restCredentials } from '../lib/twilio/rest.js';

const config = parseRecordingsConfig(process.env);
logSdkVersionAtColdStart();
const recordings = createTwilioRecordings(restCredentials(config.twilio, ssm));

export const handler = async (event: ForgottenEvent, context: Context): Promise<{ outcome: Forgotten }> => {
  logger.addContext(context);
  return { outcome: await handleForgottenRecording(event, { enabled: config.enabled, recordings }) };
};
