/**
 * Reading the environment that `serverless.yml` sets, once per cold start: the readers every
 * function's configuration is built from. A bad value fails fast with the variable's name.
 * Each function owns its configuration: lib/webhook/config.ts, lib/reconcile/config.ts,
 * lib/operator/config.ts, lib/twilio/credentials.ts (the Twilio REST credential).
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

/** The trimmed value, or undefined when unset or blank. */
export function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function required(env: Env, name: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigError(`${name} is required but not set`);
  return value;
}

/** A whole-number variable within [min, max], or `fallback` when unset. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** `TABLE_NAME`: every function's table. */
export const readTableName = (env: Env): string => required(env, 'TABLE_NAME');

/** `RETENTION_DAYS` (1–3650, default 90): how long a call item lives (its TTL). */
export const readRetentionDays = (env: Env): number => integer(env, 'RETENTION_DAYS', 90, 1, 3650);

/** `AUDIT_RETENTION_DAYS` (1–3650, default 365): how long the audit trail keeps an operator action. */
export const readAuditRetentionDays = (env: Env): number => integer(env, 'AUDIT_RETENTION_DAYS', 365, 1, 3650);

/** `MISSED_INCLUDE_CANCELED`: whether a call the caller hung up while ringing counts as missed. */
export const readIncludeCanceled = (env: Env): boolean => boolean(env, 'MISSED_INCLUDE_CANCELED', false);

/** `CALLBACK_MIN_SECONDS` (0–3600, default 10): how long an answered call must last to resolve a callback. */
export const readCallbackMinSeconds = (env: Env): number => integer(env, 'CALLBACK_MIN_SECONDS', 10, 0, 3600);

export function readPublicBaseUrl(env: Env): string | undefined {
  const raw = optional(env, 'PUBLIC_BASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_BASE_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`PUBLIC_BASE_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError('PUBLIC_BASE_URL must not carry a query string or fragment');
  }
  return raw.replace(/\/+$/, '');
}
