/** Twilio status callbacks and `<Dial action>` callbacks into the missed-call ledger. */
import { documents, logSdkVersionAtColdStart, ssm } from '../lib/aws.js';
import { parseWebhookConfig } from '../lib/config.js';
import { httpStack } from '../lib/http.js';
import { createLedger } from '../lib/ledger.js';
import { toHttpRequest } from '../lib/request.js';
import { authTokenResolver } from '../lib/secrets.js';
import { handleWebhook } from '../lib/webhook.js';

const config = parseWebhookConfig(process.env);
logSdkVersionAtColdStart();
const authTokens = authTokenResolver(config.authTokens, ssm);
const ledger = createLedger(documents(), { tableName: config.tableName, retentionDays: config.retentionDays });

export const handler = httpStack(async (event) => handleWebhook(toHttpRequest(event), { config, authTokens, ledger }));
