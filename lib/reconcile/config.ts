/** The reconciliation's configuration: its table, the Twilio REST credential, the window. */
import { readLedgerSettings } from '../ledger/settings.js';
import type { LedgerSettings } from '../ledger/store.js';
import { type Env, integer, readAuditRetentionDays, readCallbackMinSeconds, readRetentionDays, readTableName } from '../platform/config.js';
import { readTwilioRest, type TwilioRestConfig } from '../twilio/credentials.js';
import { WINDOW_DEFAULTS } from './reconcile.js';

export interface ReconcileConfig {
  tableName: string;
  twilio: TwilioRestConfig;
  retentionDays: number;
  /** AUDIT_RETENTION_DAYS: how long a run started by hand stays on the audit trail. */
  auditRetentionDays: number;
  /** The whole-call rule's settings (lib/ledger/settings.ts). */
  ledger: LedgerSettings;
  callbackMinSeconds: number;
  overlapMinutes: number;
  settleMinutes: number;
  lookbackHours: number;
  /** RECONCILE_INVOCATION_SECONDS: the most one invocation works on a run before handing on (unset: until the timeout nears). */
  invocationLimitMs: number | undefined;
}

/** Parses the reconciliation Lambda's configuration; throws ConfigError naming the bad variable. */
export function parseReconcileConfig(env: Env): ReconcileConfig {
  return {
    tableName: readTableName(env),
    twilio: readTwilioRest(env),
    retentionDays: readRetentionDays(env),
    auditRetentionDays: readAuditRetentionDays(env),
    ledger: readLedgerSettings(env),
    callbackMinSeconds: readCallbackMinSeconds(env),
    overlapMinutes: integer(env, 'RECONCILE_OVERLAP_MINUTES', WINDOW_DEFAULTS.overlapMinutes, 0, 24 * 60),
    settleMinutes: integer(env, 'RECONCILE_SETTLE_MINUTES', WINDOW_DEFAULTS.settleMinutes, 0, 24 * 60),
    lookbackHours: integer(env, 'RECONCILE_LOOKBACK_HOURS', WINDOW_DEFAULTS.lookbackHours, 1, 24 * 60),
    invocationLimitMs: env.RECONCILE_INVOCATION_SECONDS?.trim()
      ? integer(env, 'RECONCILE_INVOCATION_SECONDS', 0, 0, 900) * 1_000
      : undefined,
  };
}
