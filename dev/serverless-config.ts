/**
 * Reads settings that the local stack must share with AWS straight from `serverless.yml`,
 * so that there is one source of truth (the stream mapping's filters and retry limits).
 */
import { readFileSync } from 'node:fs';
import { parse, type ScalarTag } from 'yaml';
import { isRecord } from '../lib/table/items.js';

const SERVERLESS_YML = new URL('../serverless.yml', import.meta.url);

// CloudFormation short forms, kept as their long form; the local stack never resolves them.
const cfnTags: ScalarTag[] = ['Ref', 'Sub', 'GetAtt', 'ImportValue', 'Join', 'Select', 'Split', 'If'].map((name) => ({
  tag: `!${name}`,
  resolve: (value: string) => ({ [name === 'Ref' ? 'Ref' : `Fn::${name}`]: value }),
}));

/** serverless.yml as parsed YAML (CloudFormation short forms kept as their long form). */
export function serverlessDocument(): unknown {
  return parse(readFileSync(SERVERLESS_YML, 'utf8'), { customTags: cfnTags });
}

export interface StreamEventConfig {
  batchSize: number;
  maximumRetryAttempts: number;
  filterPatterns: unknown[];
}

/** The first `stream` event of `functionName` in serverless.yml. */
export function readStreamEvent(functionName: string): StreamEventConfig {
  const doc = serverlessDocument();
  const fn = isRecord(doc) && isRecord(doc.functions) ? doc.functions[functionName] : undefined;
  const events = isRecord(fn) && Array.isArray(fn.events) ? fn.events : [];
  const stream = events.map((event) => (isRecord(event) ? event.stream : undefined)).find(isRecord);
  if (stream === undefined) throw new Error(`serverless.yml: function ${functionName} has no stream event`);
  const number = (name: string, fallback: number): number => {
    const value = stream[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number') throw new Error(`serverless.yml: ${functionName} stream ${name} must be a literal number`);
    return value;
  };
  const patterns = stream.filterPatterns ?? [];
  if (!Array.isArray(patterns)) throw new Error(`serverless.yml: ${functionName} stream filterPatterns must be a list`);
  return { batchSize: number('batchSize', 10), maximumRetryAttempts: number('maximumRetryAttempts', 3), filterPatterns: patterns };
}
