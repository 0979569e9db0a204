/** Twilio status callbacks and `<Dial action>` callbacks into the missed-call ledger. */
import { createCallbackResolver } from '../lib/callbacks/store.js';
import { createLedger } from '../lib/ledger/store.js';
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { ledgerHttpStack } from '../lib/platform/http-errors.js';
import { toHttpRequest } from '../lib/platform/request.js';
import { secretResolver } from '../lib/platform/secrets.js';
import { parseWebhookConfig } from '../lib/webhook/config.js';
import { handleWebhook } from '../lib/webhook/handle.js';

const config = parseWebhookConfig(process.env);
logSdkVersionAtColdStart();
const authTokens = secretResolver(config.authTokens, ssm);
const ledger = createLedger(documents(), { tableName: config.tableName, retentionDays: config.retentionDays });
const callbacks = createCallbackResolver(documents(), { tableName: config.tableName });

export const handler = ledgerHttpStack(async (event) => handleWebhook(toHttpRequest(event), { config, authTokens, ledger, callbacks }));
