/**
 * The reconciliation's errors that HTTP answers with a status (./http-errors.ts), in a module of
 * their own so that mapping them pulls no reconciliation code into the operator's bundle.
 */
/** Another run holds the lease (lib/reconcile/lease.ts): `POST /reconcile` answers 409 with its id. */
export class ReconcileBusyError extends Error {
  override name = 'ReconcileBusyError';
  constructor(
    readonly runningRunId: string,
    readonly expiresAt: string,
  ) {
    super(`A reconciliation is already running (run ${runningRunId}); try again after it ends, at the latest ${expiresAt}`);
  }
}

/** A run was written but Lambda would not queue its invocation (it is ended `failed`): `POST /reconcile` answers 503. */
export class RunNotStartedError extends Error {
  override name = 'RunNotStartedError';
}
