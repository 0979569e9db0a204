/** The operator API (a person's Cognito token, or a machine's API key): stats, contacts, the callback worklist, calls back, erasure and health. */
import { authErrors } from '../lib/auth/http-errors.js';
import { createPeople } from '../lib/auth/people.js';
import { callerAuth } from '../lib/auth/standing.js';
import { createCallingStore } from '../lib/callbacks/calling.js';
import { createCallbackResolver } from '../lib/callbacks/store.js';
import { callBackErrors } from '../lib/operator/call-back.js';
import { parseOperatorConfig } from '../lib/operator/config.js';
import { handleOperator } from '../lib/operator/routes.js';
import { cognito, documents, dynamo, logSdkVersionAtColdStart, ssm } from '../lib/platform/aws.js';
import { httpStack } from '../lib/platform/http.js';
import { secretErrors } from '../lib/platform/http-errors.js';
import { toHttpRequest } from '../lib/platform/request.js';
import { reconcileErrors } from '../lib/reconcile/http-errors.js';
import { tableErrors } from '../lib/table/http-errors.js';
import { twilioCallsWith } from '../lib/twilio/client.js';
import { twilioErrors } from '../lib/twilio/http-errors.js';
import { callPlacer } from '../lib/twilio/place-call.js';
import { createTwilioRecordings } from '../lib/twilio/recordings.js';
import { restCredentials } from '../lib/twilio/rest.js';

const config = parseOperatorConfig(process.env);
const auth = callerAuth(process.env, documents(), config.tableName);
const authConfig = auth.config;
logSdkVersionAtColdStart();
// One REST credential resolver (one SSM read a cold start) for the Calls client and the recordings.
const twilioCredentials = restCredentials(config.twilio, ssm);
const deps = {
  config,
  auth,
  documents: documents(),
  dynamo: dynamo(),
  twilioCalls: twilioCallsWith(twilioCredentials),
  callbacks: createCallbackResolver(documents(), { tableName: config.tableName }),
  recordings: createTwilioRecordings(twilioCredentials),
  calling: createCallingStore(documents(), config.tableName),
  placeCall: callPlacer(twilioCredentials),
  people: authConfig === undefined ? undefined : async () => createPeople(await cognito(), authConfig.userPoolId),
};

export const handler = httpStack(
  async (event) => handleOperator(toHttpRequest(event), deps),
  tableErrors,
  secretErrors,
  reconcileErrors,
  twilioErrors,
  callBackErrors,
  authErrors,
);
