/** Twilio status callbacks and `<Dial action>` callbacks into the missed-call ledger. */
import { createCallbackResolver } from '../lib/callbacks/store.js';
import { callbackErrors } from '../lib/ledger/http-errors.js';
import { createLedger } from '../lib/ledger/store.js';
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { httpStack } from '../lib/platform/http.js';
import { secretErrors } from '../lib/platform/http-errors.js';
import { toHttpRequest } from '../lib/platform/request.js';
import { secretResolver } from '../lib/platform/secrets.js';
import { tableErrors } from '../lib/table/http-errors.js';
import { parseWebhookConfig } from '../lib/webhook/config.js';
import { handleWebhook } from '../lib/webhook/handle.js';

const config = parseWebhookConfig(process.env);
logSdkVersionAtColdStart();
const authTokens = secretResolver(config.authTokens, ssm);
const ledger = createLedger(documents(), { tableName: config.tableName, retentionDays: config.retentionDays });
const callbacks = createCallbackResolver(documents(), { tableName: config.tableName });

export const handler = httpStack(
  async (event) => handleWebhook(toHttpRequest(event), { config, authTokens, ledger, callbacks }),
  tableErrors,
  secretErrors,
  callbackErrors,
);
