/**
 * Once per test run: DynamoDB Local on a free port, the deployment packaged once with
 * `osls package` (its CloudFormation is what the IAM checks and the template tests read), and a
 * directory where the reliability scenarios leave their counters; the teardown prints the
 * combined reliability report.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDbLocal } from '../dev/dynamodb-local.js';
import { formatReport, type ScenarioReport } from './reliability/report.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    /** `osls package --stage prod`'s output directory (zips and CloudFormation). */
    packageDir: string;
    /** Its `cloudformation-template-update-stack.json`. */
    templatePath: string;
    /** `cfn-lint --format parseable` of that template: one finding a line; `error` if it could not run. */
    cfnLint: { findings: string[]; error?: string };
    /** The same package with every optional feature on (ALL_FEATURES): its template and its cfn-lint. */
    allFeatures: { templatePath: string; cfnLint: { findings: string[]; error?: string } };
    /** `osls print --format json` with TWILIO_API_KEY_SID set (status 0), and with a malformed one. */
    printed: {
      apiKey: { status: number; output: string };
      badApiKey: { status: number; output: string };
      /** With TABLE_DELETION_PROTECTION=false. */
      unprotected: { status: number; output: string };
    };
    /** Where each reliability scenario leaves its counters for the combined report. */
    reliabilityDir: string;
  }
}

let dynamo: DynamoDbLocal | undefined;
let reliabilityDir: string | undefined;
let packageDir: string | undefined;
let allFeaturesDir: string | undefined;

/** The account the packaged template is built for (tests/helpers.ts ACCOUNT_SID). */
export const PACKAGE_ACCOUNT_SID = `AC${'1'.repeat(32)}`;

const root = join(import.meta.dirname, '..');

/** The environment of a deploy: the test account, and the template's defaults for everything else. */
function deployEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TWILIO_ACCOUNT_SID: PACKAGE_ACCOUNT_SID };
  for (const name of ['TWILIO_API_KEY_SID', 'TWILIO_URL_FRAGMENT', 'PUBLIC_BASE_URL', 'OPERATOR_API_KEY', 'TWILIO_API_BASE_URL'])
    delete env[name];
  return { ...env, ...extra };
}

/** Every optional feature on: text-back, a bus of another stack given by its ARN, an alarm topic. */
export const ALL_FEATURES: Record<string, string> = {
  TEXT_BACK: 'on',
  EVENT_BUS_NAME: 'arn:aws:events:us-east-1:123456789012:event-bus/crm-events',
  ALARM_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ops-alerts',
};

async function packageStack(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcl-package-'));
  // Its own build folder, gone afterwards.
  const workFolder = join(root, `.esbuild-package-${dir.split('-').at(-1)}`);
  try {
    await promisify(execFile)(join(root, 'node_modules/.bin/osls'), ['package', '--stage', 'prod', '--package', dir], {
      cwd: root,
      env: deployEnv({ ...extra, ESBUILD_WORK_FOLDER: workFolder }),
      timeout: 180_000,
    });
  } finally {
    await rm(workFolder, { recursive: true, force: true });
  }
  return dir;
}

/** `osls print` of the resolved configuration under `extra` variables: its exit status and output. */
async function print(extra: Record<string, string>): Promise<{ status: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/osls'), ['print', '--stage', 'prod', '--format', 'json'], {
      cwd: root,
      env: deployEnv(extra),
      timeout: 180_000,
      maxBuffer: 16 << 20,
    });
    return { status: 0, output: stdout };
  } catch (error) {
    const text = (key: string) => (typeof error === 'object' && error !== null && key in error ? String(Reflect.get(error, key)) : '');
    return { status: Number(text('code')) || 1, output: `${text('stdout')}${text('stderr')}` };
  }
}

/** AWS's CloudFormation linter on the packaged template (it exits non-zero when it finds anything). */
async function lint(template: string): Promise<{ findings: string[]; error?: string }> {
  try {
    const { stdout } = await promisify(execFile)('cfn-lint', ['--format', 'parseable', template], { timeout: 120_000 });
    return { findings: stdout.split('\n').filter(Boolean) };
  } catch (error) {
    const out = typeof error === 'object' && error !== null && 'stdout' in error ? String(error.stdout) : '';
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (typeof code === 'number') return { findings: out.split('\n').filter(Boolean) };
    return {
      findings: [],
      error: `cfn-lint could not run (${String(code ?? error)}): it is AWS's CloudFormation linter, installed on these machines`,
    };
  }
}

export async function setup(project: TestProject): Promise<void> {
  // One deployment packaged (and linted), and the configuration printed under two more
  // environments: what the template tests read. Building them here keeps each test short.
  const [local, [dir, allDir], apiKey, badApiKey, unprotected] = await Promise.all([
    startDynamoDbLocal(),
    // One after the other: serverless-esbuild builds in .serverless/, which two packages cannot share.
    packageStack().then(async (first) => [first, await packageStack(ALL_FEATURES)] as const),
    print({ TWILIO_API_KEY_SID: `SK${'2'.repeat(32)}` }),
    print({ TWILIO_API_KEY_SID: 'SKnot-a-key' }),
    print({ TABLE_DELETION_PROTECTION: 'false' }),
  ]);
  allFeaturesDir = allDir;
  dynamo = local;
  packageDir = dir;
  const templatePath = join(packageDir, 'cloudformation-template-update-stack.json');
  reliabilityDir = await mkdtemp(join(tmpdir(), 'reliability-'));
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('packageDir', packageDir);
  project.provide('templatePath', templatePath);
  const allTemplate = join(allDir, 'cloudformation-template-update-stack.json');
  const [lintDefault, lintAll] = await Promise.all([lint(templatePath), lint(allTemplate)]);
  project.provide('cfnLint', lintDefault);
  project.provide('allFeatures', { templatePath: allTemplate, cfnLint: lintAll });
  project.provide('printed', { apiKey, badApiKey, unprotected });
  project.provide('reliabilityDir', reliabilityDir);
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
  if (packageDir !== undefined) await rm(packageDir, { recursive: true, force: true });
  if (allFeaturesDir !== undefined) await rm(allFeaturesDir, { recursive: true, force: true });
  if (reliabilityDir === undefined) return;
  const files = (await readdir(reliabilityDir)).filter((name) => name.endsWith('.json')).sort();
  const scenarios: ScenarioReport[] = [];
  for (const name of files) scenarios.push(JSON.parse(await readFile(join(reliabilityDir, name), 'utf8')) as ScenarioReport);
  await rm(reliabilityDir, { recursive: true, force: true });
  if (scenarios.length === 0) return;
  const { text, failed } = formatReport(scenarios, process.env.RELIABILITY_SCALE === 'full' ? 'large' : 'small');
  console.log(text);
  // The report's zeros are the ledger's promise: a non-zero fails the run even if no test did.
  if (failed) throw new Error('Reliability report: a must-be-zero counter is not zero (see above)');
}
