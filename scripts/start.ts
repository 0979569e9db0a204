/**
 * `npm start`: the whole stack on this machine, with no AWS account. DynamoDB Local, the
 * ledger table (from resources/table.yml), serverless-offline serving the Lambdas at
 * http://127.0.0.1:$PORT, pollers feeding the table's stream to the contacts and events Lambdas,
 * and a local EventBridge endpoint that prints and keeps the events.
 * Ctrl-C, SIGTERM, SIGHUP (to this process or to `npm start`) or the death of whatever started
 * it stops everything: serverless-offline's whole process group, DynamoDB Local, the local
 * Twilio API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { type LocalCognito, startLocalCognito } from '../dev/cognito.js';
import { LOCAL_DEFAULTS } from '../dev/defaults.js';
import { type DynamoDbLocal, freePort, portOpen, startDynamoDbLocal, waitForPort } from '../dev/dynamodb-local.js';
import { type LocalEventBridge, startLocalEventBridge } from '../dev/eventbridge.js';
import { asyncInvoker, offlineInvoker } from '../dev/lambda-invoke.js';
import { stopOnSignalsAndParentDeath } from '../dev/lifetime.js';
import { publicUrlWarning } from '../dev/public-url.js';
import { type LocalSchedule, startLocalSchedule } from '../dev/schedule.js';
import { readAsyncRetries, readEventRule, readStreamEvent } from '../dev/serverless-config.js';
import { StreamPoller } from '../dev/stream-poller.js';
import { createTable } from '../dev/table.js';
import { startTwilioApi, type TwilioApi } from '../dev/twilio-api.js';
import { maskedEventId } from '../lib/events/facts.js';
import { readDeleteRecordings } from '../lib/recordings/config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = (name: keyof typeof LOCAL_DEFAULTS): string => process.env[name]?.trim() || LOCAL_DEFAULTS[name];

let offline: ChildProcess | undefined;
const pollers: StreamPoller[] = [];
let sweep: LocalSchedule | undefined;
let bus: LocalEventBridge | undefined;
let twilioApi: TwilioApi | undefined;
let dynamo: Promise<DynamoDbLocal> | undefined;
let cognito: Promise<LocalCognito> | undefined;
let stopping = false;

/** Sends `signal` to serverless-offline's whole process group (osls, esbuild, Lambda workers). */
function signalOffline(signal: NodeJS.Signals): void {
  if (offline?.pid === undefined || offline.exitCode !== null || offline.signalCode !== null) return;
  try {
    process.kill(-offline.pid, signal);
  } catch {
    offline.kill(signal);
  }
}

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    // Whatever hangs, the process is gone within 5 s and takes its children with it.
    setTimeout(() => {
      signalOffline('SIGKILL');
      process.exit(code);
    }, 4_000).unref();
    const offlineGone =
      offline && offline.exitCode === null && offline.signalCode === null
        ? new Promise((resolve) => offline?.once('exit', resolve))
        : Promise.resolve();
    signalOffline('SIGTERM');
    const escalate = setTimeout(() => signalOffline('SIGKILL'), 2_500);
    await Promise.all(pollers.map((poller) => poller.stop().catch(() => {})));
    await sweep?.stop().catch(() => {});
    await bus?.stop().catch(() => {});
    await Promise.allSettled([
      offlineGone.then(() => clearTimeout(escalate)),
      twilioApi?.stop(),
      dynamo?.then((d) => d.stop()),
      cognito?.then((c) => c.stop()),
    ]);
  }
  process.exit(code);
}

stopOnSignalsAndParentDeath((reason) => {
  console.error(`Stopping the local stack (${reason}).`);
  void stop(0);
});

async function main(): Promise<void> {
  const port = Number(env('PORT'));
  const stage = 'local';
  const tableName = `missed-call-ledger-${stage}`;
  const lambdaPort = Number(process.env.OFFLINE_LAMBDA_PORT ?? port + 2);
  const listening = `http://127.0.0.1:${port}`;
  const publicBaseUrl = env('PUBLIC_BASE_URL') || listening;
  const warning = publicUrlWarning(publicBaseUrl, listening);

  for (const [name, p] of [
    ['PORT', port],
    ['OFFLINE_LAMBDA_PORT', lambdaPort],
  ] as const) {
    if (await portOpen(p)) throw new Error(`Port ${p} is already in use: set ${name} to a free port`);
  }
  const dynamoPort = process.env.DYNAMODB_PORT ? Number(process.env.DYNAMODB_PORT) : await freePort();
  // DynamoDB Local (about 3 s to open its port) starts while serverless-offline builds.
  dynamo = startDynamoDbLocal({ port: dynamoPort });
  dynamo.catch(() => {});
  // People sign in with a local Cognito user pool (moto's server) and its first admin.
  const admin = { email: env('LOCAL_ADMIN_EMAIL'), password: env('LOCAL_ADMIN_PASSWORD') };
  cognito = startLocalCognito({ region: LOCAL_DEFAULTS.AWS_REGION, admin });
  cognito.catch(() => {});

  // DynamoDB Local scopes data by access key and region: every process here uses the same fixed
  // pair, whatever AWS credentials the shell holds, so nothing local can reach a real account.
  const awsEnv = {
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
    AWS_REGION: LOCAL_DEFAULTS.AWS_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY,
  };
  Object.assign(process.env, awsEnv);

  // The Twilio REST API the reconciliation calls: a local Twilio-shaped one unless configured.
  let twilioApiBaseUrl = process.env.TWILIO_API_BASE_URL?.trim() ?? '';
  if (twilioApiBaseUrl === '') {
    twilioApi = await startTwilioApi({
      accountSid: env('TWILIO_ACCOUNT_SID'),
      authTokens: [env('TWILIO_AUTH_TOKEN')],
      port: process.env.TWILIO_API_PORT ? Number(process.env.TWILIO_API_PORT) : undefined,
      maxPageSize: process.env.TWILIO_API_MAX_PAGE_SIZE ? Number(process.env.TWILIO_API_MAX_PAGE_SIZE) : undefined,
    });
    twilioApiBaseUrl = twilioApi.baseUrl;
  }

  // The bus the events Lambda publishes to: one line per event here, all of them at GET /__local/events.
  // serverless.yml's rules on it hand events to their functions, retried as Lambda retries an
  // asynchronous invocation (its EventInvokeConfig): with TEXT_BACK=on each `Callback opened`
  // to the textback Lambda; unless DELETE_RECORDINGS=false each `Recording forgotten` to the
  // recordings Lambda (which deletes it at the local Twilio API).
  const rule = (resourceName: string) => {
    const { pattern, functionName } = readEventRule(resourceName);
    return {
      name: resourceName,
      pattern,
      deliver: asyncInvoker({
        lambdaPort,
        functionName: `missed-call-ledger-${stage}-${functionName}`,
        region: awsEnv.AWS_REGION,
        accessKeyId: awsEnv.AWS_ACCESS_KEY_ID,
        secretAccessKey: awsEnv.AWS_SECRET_ACCESS_KEY,
        maximumRetryAttempts: readAsyncRetries(functionName).maximumRetryAttempts,
        // The local stand-in for its on-failure destination (its failures queue).
        onFailure: (_event, reason) => console.error(`${functionName}: gave up on an event (${reason})`),
      }),
    };
  };
  const textBack = (process.env.TEXT_BACK ?? '').trim().toLowerCase() === 'on';
  const deleteRecordings = readDeleteRecordings(process.env);
  bus = await startLocalEventBridge({
    rules: [...(textBack ? [rule('TextBackRule')] : []), ...(deleteRecordings ? [rule('RecordingDeletionRule')] : [])],
    onRuleError: (rule, error) => console.error(`${rule}:`, error instanceof Error ? error.message : error),
    port: process.env.EVENTBRIDGE_PORT ? Number(process.env.EVENTBRIDGE_PORT) : undefined,
    onEvent: (event) => {
      const id = typeof event.detail === 'object' && event.detail !== null && 'id' in event.detail ? String(event.detail.id) : '';
      console.log(`event  ${event.detailType.padEnd(21)} ${maskedEventId(id)}`);
    },
  });

  const pool = await cognito;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...awsEnv,
    PORT: String(port),
    OFFLINE_LAMBDA_PORT: String(lambdaPort),
    TWILIO_ACCOUNT_SID: env('TWILIO_ACCOUNT_SID'),
    TWILIO_AUTH_TOKEN: env('TWILIO_AUTH_TOKEN'),
    TWILIO_AUTH_TOKEN_SECONDARY: process.env.TWILIO_AUTH_TOKEN_SECONDARY ?? '',
    PUBLIC_BASE_URL: publicBaseUrl,
    RETENTION_DAYS: env('RETENTION_DAYS'),
    TWILIO_API_BASE_URL: twilioApiBaseUrl,
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
    // A reconciliation run continues in asynchronous invocations of its function: serverless-offline's Lambda endpoint.
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${lambdaPort}`,
    // The operator key: OPERATOR_API_KEY when set, a random one otherwise (printed below).
    OPERATOR_API_KEY: process.env.OPERATOR_API_KEY?.trim() || `local-${randomBytes(16).toString('hex')}`,
    PEOPLE_API_KEY: env('PEOPLE_API_KEY'),
    USER_POOL_ID: pool.userPoolId,
    USER_POOL_CLIENT_ID: pool.clientId,
    COGNITO_ENDPOINT: pool.endpoint,
  };
  delete childEnv.AWS_SESSION_TOKEN;
  delete childEnv.AWS_PROFILE;
  // --localEnvironment hands this environment (the local auth token included) to the handlers;
  // in AWS the token comes from SSM and never sits in the Lambda's environment. Its own process
  // group, so that stopping reaches esbuild and the Lambda workers too.
  offline = spawn(join(root, 'node_modules/.bin/osls'), ['offline', 'start', '--stage', stage, '--localEnvironment'], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  offline.on('exit', (code) => {
    if (!stopping) {
      console.error(`serverless-offline exited (${code ?? 'signal'}); stopping.`);
      void stop(code ?? 1);
    }
  });
  offline.stdout?.pipe(process.stdout);

  const local = await dynamo;
  const table = await createTable(new DynamoDBClient({}), tableName);
  if (table.streamArn === undefined) throw new Error(`Table ${tableName} has no stream`);
  const streamArn = table.streamArn;
  await waitForPort(port, 120_000);
  await waitForPort(lambdaPort, 30_000);

  // The contacts and events Lambdas on DynamoDB Local's stream, each with its mapping's settings
  // from serverless.yml (filters, batch size, retries), as the two event source mappings do: the
  // stream's only readers (the text-back takes its events from the bus).
  for (const fn of ['contacts', 'events'] as const) {
    const poller = new StreamPoller({
      streams: new DynamoDBStreamsClient({ endpoint: local.endpoint }),
      streamArn,
      region: awsEnv.AWS_REGION,
      config: readStreamEvent(fn),
      invoke: offlineInvoker({
        lambdaPort,
        functionName: `missed-call-ledger-${stage}-${fn}`,
        region: awsEnv.AWS_REGION,
        accessKeyId: awsEnv.AWS_ACCESS_KEY_ID,
        secretAccessKey: awsEnv.AWS_SECRET_ACCESS_KEY,
      }),
      // The local stand-in for the mapping's SQS on-failure destination.
      onFailure: ({ records, reason }) =>
        console.error(`${fn}: gave up on ${records.map((r) => r.dynamodb?.SequenceNumber).join(', ')} (${reason})`),
    });
    poller.start(500, (error) => console.error(`${fn} stream poller:`, error instanceof Error ? error.message : error));
    pollers.push(poller);
  }

  // The settle sweep's schedule (every minute in AWS), every LOCAL_SETTLE_SWEEP_SECONDS here.
  const sweepSeconds = Number(process.env.LOCAL_SETTLE_SWEEP_SECONDS ?? '5') || 5;
  sweep = startLocalSchedule({
    lambdaPort,
    functionName: `missed-call-ledger-${stage}-webhook`,
    region: awsEnv.AWS_REGION,
    accessKeyId: awsEnv.AWS_ACCESS_KEY_ID,
    secretAccessKey: awsEnv.AWS_SECRET_ACCESS_KEY,
    everyMs: sweepSeconds * 1000,
    onError: (error) => console.error('settle sweep:', error instanceof Error ? error.message : error),
  });

  const signedFor = publicBaseUrl === listening ? '' : `  (signed for ${publicBaseUrl})`;
  console.log(
    [
      '',
      'Local stack ready',
      `  Status callback  POST ${listening}/twilio/call-status${signedFor}`,
      `  Dial action      POST ${listening}/twilio/dial-status${signedFor}`,
      `  Enqueue action   POST ${listening}/twilio/queue-status${signedFor}`,
      `  Settle sweep     every ${sweepSeconds} s (calls whose final callback never came; OUTCOME_SETTLE_SECONDS after their last)`,
      `  Contacts         the table stream, polled every 500 ms into the contacts and events Lambdas${textBack ? ' (the textback Lambda: its rule on the bus)' : ''}`,
      ...(textBack
        ? [
            `  Text-back        on: texts go to the Twilio API below${twilioApi ? ' (what it was asked to send: GET /__local/messages)' : ''}`,
          ]
        : []),
      `  Events           ${bus.endpoint}  (local EventBridge; one line per event below, all at GET /__local/events)`,
      `  Dashboard        ${listening}/  (open it in a browser; sign in as below, or use the operator key)`,
      `  Sign in          ${admin.email} / ${admin.password}  (the first admin: LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD)`,
      `  Cognito          ${pool.endpoint}  pool ${pool.userPoolId}  client ${pool.clientId}  (moto_server; people's key ${childEnv.PEOPLE_API_KEY})`,
      `  Operator API     x-api-key: ${childEnv.OPERATOR_API_KEY}  (machines; people: Authorization: Bearer <token>)`,
      `                   GET ${listening}/stats  GET ${listening}/callbacks  GET ${listening}/health  POST ${listening}/reconcile`,
      `  Twilio API       ${twilioApiBaseUrl}${twilioApi ? '  (local; seed calls with POST /__local/calls)' : ''}`,
      `  DynamoDB Local   ${local.endpoint}  table ${tableName}  (region ${awsEnv.AWS_REGION}, access key ${awsEnv.AWS_ACCESS_KEY_ID})`,
      `  Account SID      ${childEnv.TWILIO_ACCOUNT_SID}`,
      `  Auth token       ${childEnv.TWILIO_AUTH_TOKEN}  (local only; sign requests with it: npm run sign)`,
      ...(warning ? [`Warning: ${warning}`] : []),
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  void stop(1);
});
