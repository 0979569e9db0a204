/** Builds function bundles exactly as serverless.yml's esbuild settings do, and seeds tables (for the benchmarks). */
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { build, type Plugin } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** web/build.cjs: the dashboard's build, its esbuild plugin and its budget (serverless.yml's plugins use it too). */
export const dashboardBuild: typeof import('../web/build.cjs') = createRequire(import.meta.url)('../web/build.cjs');
/** resources/esbuild-plugins.cjs: serverless.yml's esbuild plugins (the dashboard's assets, the contacts function's Twilio client apart, middy's `node:stream/web` on use). */
const slsPlugins: readonly Plugin[] = createRequire(import.meta.url)('../resources/esbuild-plugins.cjs');

/**
 * Bundles `entry` (relative to the repository) into bench/.build/<name>.cjs; returns its path and
 * size. `@aws-sdk/*` stays external (the Lambda runtime's) unless `bundleSdk`; `plugins` run after
 * serverless.yml's (a benchmark's variant of a function, e.g. a module stubbed out).
 */
export async function bundle(
  entry: string,
  name: string,
  options: { bundleSdk?: boolean; plugins?: readonly Plugin[] } = {},
): Promise<{ file: string; bytes: number }> {
  const outdir = join(root, 'bench/.build');
  mkdirSync(outdir, { recursive: true });
  // Under functions/, as serverless-esbuild lays them out (the contacts client lands in __only_contacts/ beside it).
  const file = join(outdir, 'functions', `${name}.cjs`);
  await build({
    entryPoints: [join(root, entry)],
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: options.bundleSdk ? [] : ['@aws-sdk/*'],
    plugins: [...slsPlugins, ...(options.plugins ?? [])],
    logLevel: 'silent',
  });
  return { file, bytes: statSync(file).size };
}

/**
 * Requires a bundle afresh, so that its module init runs again with the environment as it is
 * now; returns its `handler`.
 */
export function loadHandler<H>(file: string): H {
  const require = createRequire(import.meta.url);
  delete require.cache[require.resolve(file)];
  const mod: { handler: H } = require(file);
  return mod.handler;
}

/**
 * Settings a benchmark puts into `process.env` for the bundles it loads (their init reads them,
 * the SDK its endpoint at the first request, so they stay), and `restore`, which puts back what
 * each had before its first `set` (later benchmarks start stacks of their own).
 */
export function benchEnv(): { set(env: Record<string, string>): void; restore(): void } {
  const saved = new Map<string, string | undefined>();
  return {
    set(env) {
      for (const name of Object.keys(env)) if (!saved.has(name)) saved.set(name, process.env[name]);
      Object.assign(process.env, env);
    },
    restore() {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      saved.clear();
    },
  };
}

/** A fresh DynamoDB client for DynamoDB Local: each measured client gets its own middleware stack. */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
}

/** The median of some samples. */
export const median = (xs: readonly number[]): number => percentile(xs, 50);

/** The p-th percentile (nearest rank) of some samples. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Writes `items` into `tableName` directly (25 a `BatchWriteItem`, unprocessed ones again): a benchmark's seed. */
export async function writeAll(docs: DynamoDBDocumentClient, tableName: string, items: readonly Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let batch = items.slice(i, i + 25);
    while (batch.length > 0) {
      const out = await docs.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: batch.map((Item) => ({ PutRequest: { Item } })) } }),
      );
      batch = (out.UnprocessedItems?.[tableName] ?? []).flatMap((r) => (r.PutRequest?.Item ? [r.PutRequest.Item] : []));
    }
  }
}
