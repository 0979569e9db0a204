/**
 * The reconciliation's operator routes (API key): `POST /reconcile` starts a run and answers 202
 * at once; `GET /reconcile/runs` lists recent runs; `GET /reconcile/runs/{runId}` gives one.
 */
import type { AuditEvent } from '../audit/trail.js';
import { parseLimit } from '../platform/paging.js';
import { HttpError, type HttpRequest, queryParameters } from '../platform/request.js';
import { RunNotStartedError } from './errors.js';
import type { ContinueEvent } from './run.js';
import { RUN_ID, type RunRecord, type RunStore, runView } from './runs.js';

export interface RoutesDeps {
  start: () => Promise<RunRecord>;
  /** Queues the run's first invocation; a run it could not queue is ended `failed` by `abandon`. */
  invokeSelf: (event: ContinueEvent) => Promise<void>;
  abandon: (run: RunRecord, error: unknown) => Promise<void>;
  runs: RunStore;
  /** Keeps a run started by hand on the audit trail (lib/audit/trail.ts). */
  audit?: (event: AuditEvent) => Promise<void>;
  now?: () => Date;
}

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

const ROUTES: Readonly<Record<string, string>> = {
  '/reconcile': 'POST',
  '/reconcile/runs': 'GET',
  '/reconcile/runs/{runId}': 'GET',
};

export async function handleReconcileRoute(request: HttpRequest, deps: RoutesDeps) {
  const method = ROUTES[request.route];
  if (method === undefined) throw new HttpError(404, `No route ${request.route.slice(0, 60)}`);
  if (request.method !== method) throw new HttpError(405, `${request.route} accepts ${method} only`);
  const now = deps.now?.() ?? new Date();
  switch (request.route) {
    case '/reconcile': {
      const run = await deps.start();
      try {
        await deps.invokeSelf({ reconcileRun: run.runId });
      } catch (error) {
        await deps.abandon(run, error);
        throw new RunNotStartedError(`The run could not be started (run ${run.runId}); try again`, { cause: error });
      }
      await deps.audit?.({ action: 'reconcile.started', runId: run.runId });
      return json(
        202,
        { runId: run.runId, state: 'running', window: run.window, location: `/reconcile/runs/${run.runId}` },
        { Location: `/reconcile/runs/${run.runId}` },
      );
    }
    case '/reconcile/runs': {
      const limit = parseLimit(queryParameters(request.query));
      return json(200, { runs: (await deps.runs.list(limit)).map((run) => runView(run, now)) });
    }
    default: {
      const runId = request.pathParameters.runId ?? '';
      if (!RUN_ID.test(runId)) throw new HttpError(400, 'runId is not a run id (as POST /reconcile returned it)');
      const run = await deps.runs.get(runId);
      if (run === undefined) throw new HttpError(404, 'No such run (runs are kept 90 days)');
      return json(200, runView(run, now));
    }
  }
}
