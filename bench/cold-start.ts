/**
 * Cold start: each function's minified bundle size and its module init time in a fresh Node
 * process (median of N runs), against the webhook built with the whole `twilio` package.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundle, median, root } from './build.js';

const ENV = {
  ...process.env,
  TABLE_NAME: 'bench',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(31)}1`,
  TWILIO_AUTH_TOKEN: 'bench-token',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** The module init time of `file` (its `require`) in a fresh Node process, in ms; `env` adds to the functions' settings. */
export function initMs(file: string, env: Record<string, string> = {}): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const out = spawnSync(process.execPath, ['-e', script], { cwd: root, env: { ...ENV, ...env }, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`init of ${file} failed: ${out.stderr.slice(0, 500)}`);
  return Number(out.stdout);
}

export interface ColdStartResult {
  /** As deployed (`@aws-sdk/*` external: the runtime's SDK), and with the SDK bundled in. */
  functions: { name: string; bytes: number; initMedianMs: number; sdkBundled: { bytes: number; initMedianMs: number; ratio: number } }[];
  baseline: { name: string; bytes: number; initMedianMs: number };
  webhookInitRatio: number;
  /** The DynamoDB client and one command alone, and each function's init over it (interleaved runs). */
  floor: { name: string; bytes: number; initMedianMs: number; ratios: Record<string, number> };
  goals: {
    webhookBundleAtMost64KiB: boolean;
    webhookInitAtMostAFifthOfBaseline: boolean;
    reconcileBundleAtMost1MiB: boolean;
    webhookInitAtMost1_1xFloor: boolean;
    contactsInitAtMost1_1xFloor: boolean;
  };
}

export async function coldStart(runs: number): Promise<ColdStartResult> {
  const entries = [
    ['webhook', 'functions/webhook.ts'],
    ['contacts', 'functions/contacts.ts'],
    ['reconcile', 'functions/reconcile.ts'],
    ['operator', 'functions/operator.ts'],
    ['events', 'functions/events.ts'],
    ['dashboard', 'functions/dashboard.ts'],
    ['textback', 'functions/textback.ts'],
  ] as const;
  const functions = [];
  for (const [name, entry] of entries) {
    const { file, bytes } = await bundle(entry, name);
    const withSdk = await bundle(entry, `${name}-sdk-bundled`, { bundleSdk: true });
    // Interleaved runs, so that a noisy moment hits both builds alike.
    const external: number[] = [];
    const bundled: number[] = [];
    for (let i = 0; i < runs; i++) {
      external.push(initMs(file));
      bundled.push(initMs(withSdk.file));
    }
    const initMedianMs = median(external);
    const sdkInit = median(bundled);
    functions.push({
      name,
      bytes,
      initMedianMs,
      sdkBundled: { bytes: withSdk.bytes, initMedianMs: sdkInit, ratio: sdkInit / initMedianMs },
    });
  }
  const full = await bundle('bench/fixtures/webhook-full-twilio.ts', 'webhook-full-twilio');
  const baseline = {
    name: 'webhook with the whole twilio package',
    bytes: full.bytes,
    initMedianMs: median(Array.from({ length: runs }, () => initMs(full.file))),
  };
  const webhook = functions.find((f) => f.name === 'webhook');
  const reconcile = functions.find((f) => f.name === 'reconcile');
  const ratio = (webhook?.initMedianMs ?? 0) / baseline.initMedianMs;
  // The floor, interleaved with the two functions it is the floor of, so that load hits all alike.
  const floorBuild = await bundle('bench/fixtures/dynamodb-floor.ts', 'dynamodb-floor');
  const onFloor = ['webhook', 'contacts'].map((name) => ({ name, file: join(root, 'bench/.build/functions', `${name}.cjs`) }));
  const samples = new Map<string, number[]>([['floor', []], ...onFloor.map(({ name }) => [name, []] as [string, number[]])]);
  // At least 30 each even in the quick run: with 12 the quick runs' webhook / floor swung from 0.90 to 1.49.
  for (let i = 0; i < Math.max(runs * 4, 30); i++) {
    samples.get('floor')?.push(initMs(floorBuild.file));
    for (const { name, file } of onFloor) samples.get(name)?.push(initMs(file));
  }
  const floorMs = median(samples.get('floor') ?? []);
  const ratios = Object.fromEntries(onFloor.map(({ name }) => [name, median(samples.get(name) ?? []) / floorMs]));
  return {
    functions,
    baseline,
    webhookInitRatio: ratio,
    floor: { name: 'DynamoDB client + one command', bytes: floorBuild.bytes, initMedianMs: floorMs, ratios },
    goals: {
      webhookBundleAtMost64KiB: (webhook?.bytes ?? Infinity) <= 64 * 1024,
      webhookInitAtMostAFifthOfBaseline: ratio <= 0.2,
      reconcileBundleAtMost1MiB: (reconcile?.bytes ?? Infinity) <= 1024 * 1024,
      webhookInitAtMost1_1xFloor: (ratios.webhook ?? Infinity) <= 1.1,
      contactsInitAtMost1_1xFloor: (ratios.contacts ?? Infinity) <= 1.1,
    },
  };
}
