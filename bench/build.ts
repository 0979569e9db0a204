/** Builds function bundles exactly as serverless.yml's esbuild settings do (for the benchmarks). */
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** web/build.cjs: the dashboard's build, its esbuild plugin and its budget (serverless.yml's plugins use it too). */
export const dashboardBuild: typeof import('../web/build.cjs') = createRequire(import.meta.url)('../web/build.cjs');

/**
 * Bundles `entry` (relative to the repository) into bench/.build/<name>.cjs; returns its path and
 * size. `@aws-sdk/*` stays external (the Lambda runtime's) unless `bundleSdk`.
 */
export async function bundle(entry: string, name: string, options: { bundleSdk?: boolean } = {}): Promise<{ file: string; bytes: number }> {
  const outdir = join(root, 'bench/.build');
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, `${name}.cjs`);
  await build({
    entryPoints: [join(root, entry)],
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: options.bundleSdk ? [] : ['@aws-sdk/*'],
    plugins: [dashboardBuild.dashboardAssetsPlugin()],
    logLevel: 'silent',
  });
  return { file, bytes: statSync(file).size };
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
