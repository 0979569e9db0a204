/**
 * docs/CONFIGURATION.md's table names every environment variable the deployed code reads (the
 * TypeScript under lib/ and functions/) and every one serverless.yml gives a function. The code is
 * read as text at test time, so a variable added anywhere there fails this test until it has a row.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');

/**
 * Set by the Lambda runtime itself, never by us: the code may read them, but they are not
 * configuration, so the table need not list them
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
const SET_BY_LAMBDA_RUNTIME = new Set([
  // The function's own name: the reconciliation invokes itself by it to continue a run.
  'AWS_LAMBDA_FUNCTION_NAME',
  // The log level of the function's logging configuration: the logger's fallback.
  'AWS_LAMBDA_LOG_LEVEL',
  // Others of the runtime's reserved variables, in case the code starts reading one.
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_LOG_FORMAT',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  '_HANDLER',
  'TZ',
]);

const NAME = '[A-Z_][A-Z0-9_]*';
const QUOTED_NAME = new RegExp(`(['"\`])(${NAME})\\1`, 'g');
/** `process.env.X`, `env.X`, `process.env?.X`, `env?.X`. */
const ENV_PROPERTY = new RegExp(`\\benv\\??\\.(${NAME})\\b`, 'g');
/** `process.env['X']`, `env["X"]`, `env?.['X']`. */
const ENV_INDEX = new RegExp(`\\benv(?:\\?\\.)?\\[\\s*(['"\`])(${NAME})\\1\\s*\\]`, 'g');
/**
 * A helper given the environment first: `optional(env, 'X')`, `required(env, 'X')`,
 * `integer(process.env, 'X', 3_000, 100, 10_000)`, `message(env, 'X', DEFAULT)`, and a choice of
 * names, `optional(env, sid === undefined ? 'X' : 'Y')`. Every quoted name in its arguments counts.
 */
const ENV_HELPER_CALL = /\b[A-Za-z_$][\w$]*\s*\(\s*(?:process\.)?env\s*,([^)]*)\)/g;

/** The environment variables `source` reads, by the patterns lib/ and functions/ use. */
function envNamesIn(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(ENV_PROPERTY)) names.add(match[1] as string);
  for (const match of source.matchAll(ENV_INDEX)) names.add(match[2] as string);
  for (const call of source.matchAll(ENV_HELPER_CALL)) {
    for (const match of (call[1] as string).matchAll(QUOTED_NAME)) names.add(match[2] as string);
  }
  return names;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Each variable the code reads, with the files that read it. */
function readByCode(): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const file of [...typeScriptFiles(join(root, 'lib')), ...typeScriptFiles(join(root, 'functions'))]) {
    for (const name of envNamesIn(readFileSync(file, 'utf8'))) {
      readers.set(name, [...(readers.get(name) ?? []), relative(root, file)]);
    }
  }
  return readers;
}

/** The variables named (in backticks) in the first column of docs/CONFIGURATION.md's table. */
function documented(): Set<string> {
  const lines = readFileSync(join(root, 'docs/CONFIGURATION.md'), 'utf8').split('\n');
  const header = lines.findIndex((line) => /^\|\s*variable\s*\|/.test(line));
  expect(header, 'docs/CONFIGURATION.md has a table whose first column is "variable"').toBeGreaterThanOrEqual(0);
  const names = new Set<string>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const firstCell = line.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(new RegExp(`\`(${NAME})\``, 'g'))) names.add(match[1] as string);
  }
  return names;
}

/** Each variable serverless.yml sets under `provider.environment` or a function's `environment`, with where. */
function setByServerlessYml(): Map<string, string[]> {
  // `logLevel: 'error'`: CloudFormation's short forms (`!GetAtt`, `!Sub`) are not YAML's own tags;
  // they stay unresolved, with a warning each, and no environment uses one.
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    provider?: { environment?: Record<string, unknown> };
    functions?: Record<string, { environment?: Record<string, unknown> }>;
  };
  const setters = new Map<string, string[]>();
  const add = (where: string, environment: Record<string, unknown> | undefined) => {
    for (const name of Object.keys(environment ?? {})) setters.set(name, [...(setters.get(name) ?? []), where]);
  };
  add('provider.environment', doc.provider?.environment);
  for (const [fn, config] of Object.entries(doc.functions ?? {})) add(`functions.${fn}.environment`, config.environment);
  return setters;
}

describe('docs/CONFIGURATION.md', () => {
  it('finds every way lib/ and functions/ read a variable (the extractor itself)', () => {
    const sample = [
      'const a = process.env.ALPHA_ONE ?? process.env?.ALPHA_TWO;',
      'const b = env.BRAVO?.trim(); const b2 = env?.BRAVO_TWO;',
      "const c = process.env['CHARLIE'] ?? env[\"CHARLIE_TWO\"] ?? env?.['CHARLIE_THREE'];",
      "const d = required(env, 'DELTA'); const d2 = optional(process.env, 'DELTA_TWO');",
      "const e = integer(\n  env,\n  'ECHO',\n  WINDOW_DEFAULTS.overlapMinutes,\n  0,\n  24 * 60,\n);",
      "const f = optional(env, sid === undefined ? 'FOXTROT' : 'FOXTROT_TWO');",
      "const g = message(env, 'GOLF', DEFAULT_MESSAGE);",
      // Not reads: a name in an error message, a dynamic name, an unrelated object.
      "throw new ConfigError('NOT_READ must look like AC'); optional(env, name); other.NOT_ENV;",
    ].join('\n');
    expect([...envNamesIn(sample)].sort()).toEqual(
      [
        'ALPHA_ONE',
        'ALPHA_TWO',
        'BRAVO',
        'BRAVO_TWO',
        'CHARLIE',
        'CHARLIE_THREE',
        'CHARLIE_TWO',
        'DELTA',
        'DELTA_TWO',
        'ECHO',
        'FOXTROT',
        'FOXTROT_TWO',
        'GOLF',
      ].sort(),
    );
  });

  it('lists every variable the code under lib/ and functions/ reads', () => {
    const readers = readByCode();
    // The extractor must really find the code's reads, or this test would pass on nothing: known
    // names read each way (a helper, a choice of names in a helper, `process.env.X`, `env.X`).
    for (const known of [
      'TABLE_NAME',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_API_KEY_SID',
      'TWILIO_API_KEY_SECRET',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_REST_SECRET_PARAM',
      'AWS_REQUEST_TIMEOUT_MS',
      'POWERTOOLS_SERVICE_NAME',
      'POWERTOOLS_LOG_LEVEL',
      'RECONCILE_INVOCATION_SECONDS',
      'TEXT_BACK_MESSAGE',
      'EVENT_BUS_NAME',
      'DEFAULT_COUNTRY',
    ]) {
      expect(readers.has(known), `the extractor finds ${known}`).toBe(true);
    }
    expect(readers.size).toBeGreaterThanOrEqual(30);

    const table = documented();
    const missing = [...readers]
      .filter(([name]) => !table.has(name) && !SET_BY_LAMBDA_RUNTIME.has(name))
      .map(([name, files]) => `${name} (read in ${files.join(', ')})`);
    expect(missing, 'variables the code reads that docs/CONFIGURATION.md does not list').toEqual([]);
  });

  it('lists every variable serverless.yml gives the functions', () => {
    const setters = setByServerlessYml();
    expect(setters.has('TABLE_NAME') && setters.has('TWILIO_REST_SECRET_PARAM') && setters.has('TEXT_BACK')).toBe(true);
    const table = documented();
    const missing = [...setters].filter(([name]) => !table.has(name)).map(([name, where]) => `${name} (${where.join(', ')})`);
    expect(missing, 'variables serverless.yml sets that docs/CONFIGURATION.md does not list').toEqual([]);
  });
});
