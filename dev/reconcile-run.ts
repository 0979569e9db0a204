/**
 * `POST /reconcile` as an operator (or a script) uses it: start a run, then follow
 * `GET /reconcile/runs/{runId}` until it has ended. The demo and the end-to-end tests use it.
 */

export interface RunView {
  runId: string;
  state: 'running' | 'succeeded' | 'failed';
  invocations: number;
  progress: { pages: number; listed: number; recoveredTotal: number; alreadyRecorded: number; recovered: Record<string, number> };
  summary?: Record<string, unknown> & { listed: number; recoveredTotal: number; alreadyRecorded: number };
  error?: string;
}

export interface Target {
  target: string;
  key: string;
}

async function json(response: Response, what: string): Promise<unknown> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Starts a run (202); returns its id. */
export async function startRun(stack: Target): Promise<string> {
  const response = await fetch(`${stack.target}/reconcile`, { method: 'POST', headers: { 'x-api-key': stack.key } });
  if (response.status !== 202) throw new Error(`POST /reconcile: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { runId: string }).runId;
}

export async function getRun(stack: Target, runId: string): Promise<RunView> {
  const response = await fetch(`${stack.target}/reconcile/runs/${runId}`, { headers: { 'x-api-key': stack.key } });
  return (await json(response, `GET /reconcile/runs/${runId}`)) as RunView;
}

/** Follows a run until it is no longer `running` (every `pollMs`), or throws after `timeoutMs`. */
export async function waitForRun(stack: Target, runId: string, { timeoutMs = 60_000, pollMs = 100 } = {}): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(stack, runId);
    if (run.state !== 'running') return run;
    if (Date.now() > deadline) throw new Error(`Run ${runId} still running after ${timeoutMs} ms: ${JSON.stringify(run.progress)}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Starts a run and waits for its end. */
export async function reconcileAndWait(stack: Target, options?: { timeoutMs?: number }): Promise<RunView> {
  return waitForRun(stack, await startRun(stack), options);
}
