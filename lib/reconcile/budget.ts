/**
 * How much of its time one invocation of a reconciliation run may spend. A run is never bound to
 * an HTTP request (`POST /reconcile` answers 202 at once): each invocation works until the
 * Lambda's timeout nears, or until its own limit (`RECONCILE_INVOCATION_SECONDS`), and then
 * saves where it is and continues in a fresh invocation. It stops itself before the Lambda
 * would kill it mid-page.
 */

/** twilioReserveMs: kept free when a Twilio request starts, to stop cleanly if it is slow; marginMs: no next page is asked for with less than this left. */
export const INVOCATION_RESERVES = { twilioReserveMs: 10_000, marginMs: 30_000 } as const;

export interface RunBudget {
  /** Milliseconds left before this invocation must stop asking for pages, plus the margin. */
  remainingMs: () => number;
  /** Milliseconds a Twilio request may still take (its deadline): the Lambda's own time, less the reserve. */
  twilioDeadlineMs: () => number;
  marginMs: number;
}

/**
 * The budget of an invocation that starts now; `lambdaRemainingMs` is
 * `context.getRemainingTimeInMillis`. With `limitMs`, no new page is started after it has passed
 * (the page under way still finishes: every invocation records at least one page).
 */
export function invocationBudget(
  lambdaRemainingMs: () => number,
  limitMs: number = Number.POSITIVE_INFINITY,
  now: () => number = Date.now,
): RunBudget {
  const { twilioReserveMs, marginMs } = INVOCATION_RESERVES;
  const startedAt = now();
  return {
    remainingMs: () => Math.min(lambdaRemainingMs(), marginMs + limitMs - (now() - startedAt)),
    twilioDeadlineMs: () => lambdaRemainingMs() - twilioReserveMs,
    marginMs,
  };
}
