/**
 * Cold-starts a Lambda handler as AWS would run it: the function's environment from the
 * packaged template (with the test's table, endpoints and overrides on top), its secrets from
 * a local SSM endpoint, and its AWS SDK clients guarded by its role from the same template
 * (tests/iam.ts), so that a command the role does not allow fails the test.
 */
import { inject, vi } from 'vitest';
import { ACCOUNT_SID, AUTH_TOKEN, SECONDARY_TOKEN } from './helpers.js';
import { deployedFunctionName, type FunctionName, functionEnvironment, guardClient } from './iam.js';
import { type SsmServer, startSsmServer } from './ssm-server.js';

const modules = {
  webhook: () => import('../functions/webhook.js'),
  contacts: () => import('../functions/contacts.js'),
  reconcile: () => import('../functions/reconcile.js'),
  operator: () => import('../functions/operator.js'),
  events: () => import('../functions/events.js'),
  textback: () => import('../functions/textback.js'),
  recordings: () => import('../functions/recordings.js'),
} as const;

let ssm: SsmServer | undefined;

/**
 * The local SSM endpoint of this test file, holding every parameter the template names with the
 * test tokens: the auth token (primary), the secondary, and an API key secret.
 */
export async function localSsm(): Promise<SsmServer> {
  if (ssm === undefined) {
    const webhook = functionEnvironment('webhook');
    ssm = await startSsmServer({
      [webhook.TWILIO_AUTH_TOKEN_PARAM ?? '']: AUTH_TOKEN,
      [webhook.TWILIO_AUTH_TOKEN_SECONDARY_PARAM ?? '']: SECONDARY_TOKEN,
    });
  }
  return ssm;
}

export interface LoadOptions {
  tableName: string;
  /** Variables set on top of the template's (e.g. TWILIO_API_BASE_URL, PUBLIC_BASE_URL). */
  env?: Record<string, string>;
}

/**
 * `functions/<fn>.ts` loaded afresh (a cold start). Returns its handler, typed by the caller.
 * Secrets come from SSM as in AWS unless `env` gives them directly (the local stack's way).
 */
export async function loadHandler<H>(fn: FunctionName, options: LoadOptions): Promise<H> {
  vi.unstubAllEnvs();
  vi.resetModules();
  const parameters = await localSsm();
  const env: Record<string, string> = {
    ...functionEnvironment(fn),
    TABLE_NAME: options.tableName,
    AWS_LAMBDA_FUNCTION_NAME: deployedFunctionName(fn),
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    AWS_ENDPOINT_URL_SSM: parameters.endpoint,
    // Quiet tests: the template says INFO; a test that reads logs sets it again.
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  // The handler module builds its clients through lib/platform/aws.ts; in this fresh module graph they
  // are these same instances, guarded before the handler's first command.
  const aws = await import('../lib/platform/aws.js');
  guardClient(aws.dynamo(), fn, { tableName: options.tableName });
  guardClient(await aws.ssm(), fn, { tableName: options.tableName });
  guardClient((await import('../lib/platform/eventbridge.js')).eventBridge(), fn, { tableName: options.tableName });
  guardClient(await (await import('../lib/platform/lambda.js')).lambda(), fn, { tableName: options.tableName });
  guardClient(await aws.cognito(), fn, { tableName: options.tableName, userPoolId: env.USER_POOL_ID ?? 'none' });
  const mod: { handler: unknown } = await modules[fn]();
  return mod.handler as H;
}
