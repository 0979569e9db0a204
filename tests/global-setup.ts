/**
 * Once per test run: DynamoDB Local on a free port, and a directory where the reliability
 * scenarios leave their counters; the teardown prints the combined reliability report.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDbLocal } from '../lib/dev/dynamodb-local.js';
import { formatReport, type ScenarioReport } from './reliability/report.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    /** Where each reliability scenario leaves its counters for the combined report. */
    reliabilityDir: string;
  }
}

let dynamo: DynamoDbLocal | undefined;
let reliabilityDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dynamo = await startDynamoDbLocal();
  reliabilityDir = await mkdtemp(join(tmpdir(), 'reliability-'));
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('reliabilityDir', reliabilityDir);
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
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
