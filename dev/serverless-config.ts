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

export interface EventRuleConfig {
  /** The rule's event pattern (EventBridge's syntax: the subset dev/event-filter.ts evaluates). */
  pattern: unknown;
  /** The function its one target invokes (its key under `functions:`). */
  functionName: string;
}

/** An `AWS::Events::Rule` of serverless.yml's resources whose target is one of its functions. */
export function readEventRule(resourceName: string): EventRuleConfig {
  const doc = serverlessDocument();
  const resources = isRecord(doc) && isRecord(doc.resources) && isRecord(doc.resources.Resources) ? doc.resources.Resources : {};
  const rule = resources[resourceName];
  const props = isRecord(rule) && isRecord(rule.Properties) ? rule.Properties : undefined;
  const target = Array.isArray(props?.Targets) ? props.Targets[0] : undefined;
  const arn = isRecord(target) ? target.Arn : undefined;
  const getAtt = isRecord(arn) ? arn['Fn::GetAtt'] : undefined;
  const logical = typeof getAtt === 'string' ? getAtt.split('.')[0] : Array.isArray(getAtt) ? getAtt[0] : undefined;
  if (props === undefined || typeof logical !== 'string' || !logical.endsWith('LambdaFunction'))
    throw new Error(`serverless.yml: ${resourceName} is not a rule whose target is one of its functions`);
  const name = logical.slice(0, -'LambdaFunction'.length);
  return { pattern: props.EventPattern, functionName: name.charAt(0).toLowerCase() + name.slice(1) };
}

/** The `AWS::Lambda::EventInvokeConfig` of a function: how often Lambda retries an asynchronous invocation. */
export function readAsyncRetries(functionName: string): { maximumRetryAttempts: number; maximumEventAgeInSeconds: number } {
  const doc = serverlessDocument();
  const resources = isRecord(doc) && isRecord(doc.resources) && isRecord(doc.resources.Resources) ? doc.resources.Resources : {};
  const logical = `${functionName.charAt(0).toUpperCase()}${functionName.slice(1)}LambdaFunction`;
  for (const resource of Object.values(resources)) {
    if (!isRecord(resource) || resource.Type !== 'AWS::Lambda::EventInvokeConfig' || !isRecord(resource.Properties)) continue;
    const fn = resource.Properties.FunctionName;
    if (!isRecord(fn) || fn.Ref !== logical) continue;
    const { MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: age } = resource.Properties;
    if (typeof retries !== 'number' || typeof age !== 'number')
      throw new Error(`serverless.yml: ${functionName}'s EventInvokeConfig needs literal numbers`);
    return { maximumRetryAttempts: retries, maximumEventAgeInSeconds: age };
  }
  throw new Error(`serverless.yml: function ${functionName} has no EventInvokeConfig`);
}
