/** Twilio status callbacks and `<Dial action>` callbacks into the missed-call ledger. */
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { parseWebhookConfig } from '../lib/platform/config.js';
import { httpStack } from '../lib/platform/http.js';
import { createLedger } from '../lib/ledger/store.js';
import { toHttpRequest } from '../lib/platform/request.js';
import { authTokenResolver } from '../lib/platform/secrets.js';
import { handleWebhook } from '../lib/webhook/handle.js';

const config = parseWebhookConfig(process.env);
logSdkVersionAtColdStart();
const authTokens = authTokenResolver(config.authTokens, ssm);
const ledger = createLedger(documents(), { tableName: config.tableName, retentionDays: config.retentionDays });

export const handler = httpStack(async (event) => handleWebhook(toHttpRequest(event), { config, authTokens, ledger }));
