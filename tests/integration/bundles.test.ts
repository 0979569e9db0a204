/**
 * What goes into each function's bundle. Each packaged bundle (`osls package`, global setup) is
 * rebuilt here with serverless.yml's own esbuild settings and a metafile; the rebuild must equal
 * the packaged file byte for byte, so the metafile's inputs are the deployed bundle's inputs.
 * Production code never imports the local tooling (`dev/`), the tests, the benchmarks or scripts.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, inject, it } from 'vitest';
import { serverlessDocument } from '../../dev/serverless-config.js';
import { isRecord } from '../../lib/table/items.js';

const root = join(import.meta.dirname, '../..');
const NOT_PRODUCTION = /^(dev|tests|bench|scripts)\//;

/** serverless.yml's functions (name → handler file) and its esbuild settings, as serverless-esbuild passes them. */
function serverlessBuild() {
  const doc = serverlessDocument();
  if (!isRecord(doc) || !isRecord(doc.functions) || !isRecord(doc.custom) || !isRecord(doc.custom.esbuild))
    throw new Error('serverless.yml: no functions or custom.esbuild');
  const {
    exclude,
    packager: _packager,
    outputFileExtension,
    plugins: pluginsFile,
    outputWorkFolder: _work,
    ...options
  } = doc.custom.esbuild;
  // The plugins file, loaded as serverless-esbuild loads it (require, relative to the service).
  const plugins = typeof pluginsFile === 'string' ? createRequire(join(root, 'package.json'))(join(root, pluginsFile)) : [];
  const functions = Object.entries(doc.functions).map(([name, fn]) => {
    const handler = isRecord(fn) && typeof fn.handler === 'string' ? fn.handler : '';
    return { name, entry: `${handler.slice(0, handler.lastIndexOf('.'))}.ts` };
  });
  return {
    functions,
    options: { ...options, plugins },
    external: Array.isArray(exclude) ? exclude.map(String) : [],
    extension: String(outputFileExtension),
  };
}

/** The bundle of `entry`: its text, every input esbuild read, and those with bytes in the output. */
async function inputsOf(entry: string): Promise<{ text: string; inputs: string[]; included: string[] }> {
  const { options, external, extension } = serverlessBuild();
  const result = await build({
    ...options,
    entryPoints: [join(root, entry)],
    outdir: join(root, '.bundle-check'),
    outExtension: { '.js': extension },
    external,
    absWorkingDir: root,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles ?? [];
  if (output === undefined) throw new Error(`no output for ${entry}`);
  const out = Object.values(result.metafile?.outputs ?? {})[0];
  const included = Object.entries(out?.inputs ?? {}).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : []));
  return { text: output.text, inputs: Object.keys(result.metafile?.inputs ?? {}), included };
}

describe('the function bundles', () => {
  const { functions } = serverlessBuild();

  it('are the eight functions of serverless.yml', () => {
    expect(functions.map((fn) => fn.name).sort()).toEqual([
      'contacts',
      'dashboard',
      'events',
      'operator',
      'reconcile',
      'recordings',
      'textback',
      'webhook',
    ]);
  });

  it.each(['webhook', 'contacts'])('%s: loads only the DynamoDB clients at init; SSM on first use, EventBridge never', async (name) => {
    const { text } = await inputsOf(`functions/${name}.ts`);
    const required = [...text.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]);
    expect([...new Set(required)].sort()).toEqual(expect.arrayContaining(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']));
    expect(
      required.filter((pkg) => pkg !== '@aws-sdk/client-dynamodb' && pkg !== '@aws-sdk/lib-dynamodb' && pkg !== '@aws-sdk/util-dynamodb'),
    ).toEqual([]);
    // The SSM client: a dynamic import, run when a parameter is first read (never locally, where tokens are given).
    expect(text).toContain('import("@aws-sdk/client-ssm")');
    expect(text).not.toContain('@aws-sdk/client-eventbridge');
  });

  it.each(['webhook', 'operator', 'dashboard'])(
    "%s: middy's streaming branch loads node:stream/web on first use, not at init (resources/middy-stream-web.cjs)",
    async (name) => {
      const { text, included } = await inputsOf(`functions/${name}.ts`);
      expect(included.some((input) => input.startsWith('node_modules/@middy/core/'))).toBe(true);
      expect(included).toContain('middy-stream-web:stream-web');
      // Its one require of the module is the shim's, on first `instanceof` (`web ??= require(...)`).
      const requires = [...text.matchAll(/(.{3})require\("(?:node:)?stream\/web"\)/g)].map((m) => m[1]);
      expect(requires).toEqual(['??=']);
    },
  );

  it("middy's ReadableStream on use answers instanceof as the real one does", async () => {
    const { LAZY } = createRequire(join(root, 'package.json'))(join(root, 'resources/middy-stream-web.cjs'));
    const module = { exports: {} as { ReadableStream?: unknown } };
    const loaded: string[] = [];
    const recordingRequire = (id: string) => {
      loaded.push(id);
      return createRequire(join(root, 'package.json'))(id);
    };
    new Function('require', 'module', LAZY)(recordingRequire, module);
    const Lazy = module.exports.ReadableStream as new () => unknown;
    expect(loaded).toEqual([]);
    const { ReadableStream } = await import('node:stream/web');
    const { Readable } = await import('node:stream');
    expect(new ReadableStream() instanceof Lazy).toBe(true);
    expect(loaded).toEqual(['node:stream/web']);
    expect(Readable.from('x') instanceof Lazy).toBe(false);
    expect(('a body' as unknown) instanceof Lazy).toBe(false);
    expect({} instanceof Lazy).toBe(false);
  });

  it('dashboard: carries the page built from web/, and no other function carries any of it', async () => {
    const dashboard = await inputsOf('functions/dashboard.ts');
    expect(dashboard.included).toContain('dashboard-assets:virtual:dashboard-assets');
    expect(dashboard.text).toContain('text/javascript; charset=utf-8');
    // Nothing of the AWS SDK, the Twilio SDK or the ledger's stores: it only serves files.
    expect(
      dashboard.inputs.filter((input) => /node_modules\/twilio\/|libphonenumber-js|^lib\/(ledger|twilio|reconcile)\//.test(input)),
    ).toEqual([]);
    expect(dashboard.text).not.toContain('require("@aws-sdk/');
  });

  it.each(functions)('$name: the packaged bundle imports nothing from dev/, tests/, bench/ or scripts/', async ({ name, entry }) => {
    const packaged = execFileSync('unzip', ['-p', join(inject('packageDir'), `${name}.zip`), entry.replace(/\.ts$/, '.cjs')], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const rebuilt = await inputsOf(entry);
    expect(rebuilt.text.length).toBeGreaterThan(1000);
    expect(rebuilt.text === packaged, 'the rebuild equals the packaged bundle').toBe(true);
    expect(rebuilt.inputs).toContain(entry);
    expect(rebuilt.inputs.filter((input) => NOT_PRODUCTION.test(input))).toEqual([]);
    // The dashboard's page and code are the dashboard function's alone.
    if (name !== 'dashboard') expect(rebuilt.inputs.filter((input) => /dashboard|^web\//.test(input))).toEqual([]);
  });

  it('webhook: leaves out libphonenumber-js and the Twilio REST client (its hot path checks E.164 by pattern)', async () => {
    const { included } = await inputsOf('functions/webhook.ts');
    expect(included.filter((input) => /node_modules\/(libphonenumber-js|twilio\/lib\/rest)\//.test(input))).toEqual([]);
    expect(included.some((input) => input.startsWith('node_modules/twilio/lib/webhooks/'))).toBe(true);
    // The check sees libphonenumber-js where it is used (the contacts function parses numbers with it).
    expect((await inputsOf('functions/contacts.ts')).included.some((input) => input.startsWith('node_modules/libphonenumber-js/'))).toBe(
      true,
    );
  });

  it('would see a dev/ import (the check can fail)', async () => {
    const { inputs } = await inputsOf('scripts/sign.ts');
    expect(inputs.filter((input) => NOT_PRODUCTION.test(input))).toEqual(expect.arrayContaining(['scripts/sign.ts', 'dev/sign.ts']));
  });
});
