/**
 * Reading items of the table (and of its stream images) field by field, and the two errors every
 * store shares: a table that could not be read or written, and an item this code cannot read.
 */
import { logger } from '../platform/log.js';

/** The table could not be read or written: HTTP callers answer 503, the stream retries. */
export class TableUnavailableError extends Error {
  override name = 'TableUnavailableError';
}

/** An item (in the table or in a stream image) that this code cannot read: never guessed at. */
export class InvalidItemError extends Error {
  override name = 'InvalidItemError';
}
// ---- reading items ------------------------------------------------------------------------------

/**
 * `parse()`'s item, or undefined (with a warning) when it cannot be read: a read API leaves such an
 * item out rather than failing the whole request. The message never holds the key (a full number).
 */
export function readable<T>(parse: () => T, what: string): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidItemError)) throw error;
    logger.warn(`Unreadable ${what} left out`, { reason: error.message });
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set);
}

export function requireString(item: Readonly<Record<string, unknown>>, name: string): string {
  const value = item[name];
  if (typeof value !== 'string' || value === '') throw new InvalidItemError(`${name} must be a non-empty string`);
  return value;
}

export function requireNumber(item: Readonly<Record<string, unknown>>, name: string): number {
  const value = item[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidItemError(`${name} must be a number`);
  return value;
}

/** The strings of a string set or list (anything else: none). */
export function strings(value: unknown): string[] {
  const list = value instanceof Set ? [...value] : Array.isArray(value) ? value : [];
  return list.filter((entry): entry is string => typeof entry === 'string');
}

/** Whether `value` is one of `values`. */
export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return values.some((v) => v === value);
}

/** A field that must be one of `values`. */
export function requireOneOf<T extends string>(
  item: Readonly<Record<string, unknown>>,
  name: string,
  values: readonly T[],
  what: string,
): T {
  const value = item[name];
  if (!isOneOf(values, value)) throw new InvalidItemError(`${name} is not ${what}`);
  return value;
}
