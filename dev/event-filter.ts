/**
 * The subset of Lambda event-filtering patterns that `serverless.yml` uses (value lists and
 * `exists`), evaluated locally exactly as Lambda would. Any other operator throws, so the
 * local stack can never quietly filter differently from AWS.
 */
import { isRecord } from '../lib/table/items.js';

function matchRule(rule: unknown, value: unknown): boolean {
  if (isRecord(rule)) {
    const keys = Object.keys(rule);
    if (keys.length === 1 && typeof rule.exists === 'boolean') {
      const present = value !== undefined && !isRecord(value) && !Array.isArray(value);
      return present === rule.exists;
    }
    throw new Error(`Filter operator ${JSON.stringify(rule)} is not supported by the local matcher`);
  }
  if (Array.isArray(value)) return value.some((item) => item === rule);
  return value === rule;
}

/** True when `event` matches `pattern` (one of a mapping's `filterPatterns`). */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!isRecord(pattern)) throw new Error('A filter pattern must be an object');
  return Object.entries(pattern).every(([key, sub]) => {
    const value = isRecord(event) ? event[key] : undefined;
    if (Array.isArray(sub)) return sub.some((rule) => matchRule(rule, value));
    if (isRecord(sub)) return matchesPattern(sub, value);
    throw new Error(`Filter pattern at ${key} must be an object or a list`);
  });
}

/** Lambda passes a record when it matches ANY of the patterns; no patterns pass everything. */
export function passesFilters(patterns: readonly unknown[], event: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, event));
}
