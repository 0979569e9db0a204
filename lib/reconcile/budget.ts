/**
 * How much of its time a reconciliation run may spend, by trigger. A run started by
 * `POST /reconcile` must answer within API Gateway's 29 s integration timeout; the nightly run
 * has the function's whole timeout. Each stops itself before its limit (ReconcileDeadlineError)
 * instead of being killed mid-page.
 */

export type Trigger = 'schedule' | 'http';

/** API Gateway's integration timeout (REST API): the HTTP client is cut off after it. */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

export const BUDGETS: Readonly<Record<Trigger, { limitMs: number; twilioReserveMs: number; marginMs: number }>> = {
  // limitMs: the most the run may take; twilioReserveMs: kept free when a Twilio request starts,
  // to stop cleanly if it is slow; marginMs: no next page is asked for with less than this left.
  http: { limitMs: API_GATEWAY_TIMEOUT_MS, twilioReserveMs: 2_000, marginMs: 5_000 },
  schedule: { limitMs: Number.POSITIVE_INFINITY, twilioReserveMs: 10_000, marginMs: 30_000 },
};

export interface RunBudget {
  /** Milliseconds left to the run: the Lambda's remaining time, capped by the trigger's limit. */
  remainingMs: () => number;
  /** Milliseconds a Twilio request may still take (its deadline). */
  twilioDeadlineMs: () => number;
  marginMs: number;
}

/** The budget of a run that starts now; `lambdaRemainingMs` is `context.getRemainingTimeInMillis`. */
export function runBudget(trigger: Trigger, lambdaRemainingMs: () => number, now: () => number = Date.now): RunBudget {
  const { limitMs, twilioReserveMs, marginMs } = BUDGETS[trigger];
  const startedAt = now();
  const remainingMs = () => Math.min(lambdaRemainingMs(), limitMs - (now() - startedAt));
  return { remainingMs, twilioDeadlineMs: () => remainingMs() - twilioReserveMs, marginMs };
}
