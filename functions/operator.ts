/** The operator API (API key): stats, contacts, the callback worklist and health. */
import { createCallbackResolver } from '../lib/callbacks/store.js';
import { parseOperatorConfig } from '../lib/operator/config.js';
import { handleOperator } from '../lib/operator/routes.js';
import { documents, dynamo, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { httpStack } from '../lib/platform/http.js';
import { secretErrors } from '../lib/platform/http-errors.js';
import { toHttpRequest } from '../lib/platform/request.js';
import { reconcileErrors } from '../lib/reconcile/http-errors.js';
import { tableErrors } from '../lib/table/http-errors.js';
import { twilioCallsFactory } from '../lib/twilio/client.js';
import { twilioErrors } from '../lib/twilio/http-errors.js';
import { createTwilioRecordings } from '../lib/twilio/recordings.js';
import { restCredentials } from '../lib/twilio/rest.js';

const config = parseOperatorConfig(process.env);
logSdkVersionAtColdStart();
const deps = {
  config,
  documents: documents(),
  dynamo: dynamo(),
  twilioCalls: twilioCallsFactory(config.twilio, ssm),
  callbacks: createCallbackResolver(documents(), { tableName: config.tableName }),
  recordings: createTwilioRecordings(restCredentials(config.twilio, ssm)),
};

export const handler = httpStack(
  async (event) => handleOperator(toHttpRequest(event), deps),
  tableErrors,
  secretErrors,
  reconcileErrors,
  twilioErrors,
);
