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
import { type DynamoDbLocal, startDynamoDbLocal } from '../lib/dev/dynamodb-local.js';
import { formatReport, type ScenarioReport } from './reliability/report.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    /** `osls package --stage prod`'s output directory (zips and CloudFormation). */
    packageDir: string;
    /** Its `cloudformation-template-update-stack.json`. */
    templatePath: string;
    /** Where each reliability scenario leaves its counters for the combined report. */
    reliabilityDir: string;
  }
}

let dynamo: DynamoDbLocal | undefined;
let reliabilityDir: string | undefined;
let packageDir: string | undefined;

/** The account the packaged template is built for (tests/helpers.ts ACCOUNT_SID). */
export const PACKAGE_ACCOUNT_SID = `AC${'1'.repeat(32)}`;

async function packageStack(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcl-package-'));
  const root = join(import.meta.dirname, '..');
  const env: NodeJS.ProcessEnv = { ...process.env, TWILIO_ACCOUNT_SID: PACKAGE_ACCOUNT_SID };
  // The template's defaults, whatever this shell sets for a deploy or for npm start.
  for (const name of ['TWILIO_API_KEY_SID', 'TWILIO_URL_FRAGMENT', 'PUBLIC_BASE_URL', 'OPERATOR_API_KEY', 'TWILIO_API_BASE_URL'])
    delete env[name];
  await promisify(execFile)(join(root, 'node_modules/.bin/osls'), ['package', '--stage', 'prod', '--package', dir], {
    cwd: root,
    env,
    timeout: 180_000,
  });
  return dir;
}

export async function setup(project: TestProject): Promise<void> {
  [dynamo, packageDir] = await Promise.all([startDynamoDbLocal(), packageStack()]);
  reliabilityDir = await mkdtemp(join(tmpdir(), 'reliability-'));
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('packageDir', packageDir);
  project.provide('templatePath', join(packageDir, 'cloudformation-template-update-stack.json'));
  project.provide('reliabilityDir', reliabilityDir);
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
  if (packageDir !== undefined) await rm(packageDir, { recursive: true, force: true });
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
