/**
 * Twilio's callbacks (status callbacks, `<Dial action>`, `<Enqueue action>`) into the ledger,
 * and, on its EventBridge schedule, the settle sweep of calls whose final callback never came.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createCallingStore } from '../lib/callbacks/calling.js';
import { createCallbackResolver } from '../lib/callbacks/store.js';
import { callbackErrors } from '../lib/ledger/http-errors.js';
import { settleDue } from '../lib/ledger/settle.js';
import { createLedger } from '../lib/ledger/store.js';
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { httpStack } from '../lib/platform/http.js';
import { secretErrors } from '../lib/platform/http-errors.js';
import { logger } from '../lib/platform/log.js';
import { type HttpEvent, toHttpRequest } from '../lib/platform/request.js';
import { secretResolver } from '../lib/platform/secrets.js';
import { tableErrors } from '../lib/table/http-errors.js';
import { parseWebhookConfig } from '../lib/webhook/config.js';
import { handleWebhook } from '../lib/webhook/handle.js';

const config = parseWebhookConfig(process.env);
logSdkVersionAtColdStart();
const authTokens = secretResolver(config.authTokens, ssm);
const ledger = createLedger(documents(), { tableName: config.tableName, retentionDays: config.retentionDays, settings: config.ledger });
const callbacks = createCallbackResolver(documents(), { tableName: config.tableName });
const calling = createCallingStore(documents(), config.tableName);

const http = httpStack(
  async (event) => handleWebhook(toHttpRequest(event), { config, authTokens, ledger, callbacks, calling }),
  tableErrors,
  secretErrors,
  callbackErrors,
);

const isScheduled = (event: unknown): event is ScheduledEvent =>
  typeof event === 'object' && event !== null && 'detail-type' in event && event['detail-type'] === 'Scheduled Event';

export const handler = async (event: HttpEvent | ScheduledEvent, context: Context) => {
  if (!isScheduled(event)) return http(event, context);
  logger.addContext(context);
  const summary = await settleDue(documents(), config.tableName, ledger);
  logger.info('Settle sweep done', { ...summary });
  return summary;
};
