/**
 * A local Lambda `Invoke` endpoint for the tests: asynchronous invocations (`InvocationType:
 * Event`) over the real `@aws-sdk/client-lambda`, answered 202 as Lambda answers them and queued.
 * The test decides when each queued invocation runs (`next`), so it can also lose one (a crash
 * between invocations) or run one twice (Lambda's retry). Point a function at it with
 * `AWS_ENDPOINT_URL_LAMBDA`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QueuedInvocation {
  functionName: string;
  event: unknown;
}

export interface LambdaEndpoint {
  endpoint: string;
  /** Invocations accepted and not yet taken, oldest first. */
  queue: QueuedInvocation[];
  /** Every invocation accepted, in order. */
  accepted: QueuedInvocation[];
  /** The next `Invoke` requests answer this HTTP status instead (Lambda refusing, e.g. 429 throttled). */
  refuse: { status: number; times: number } | undefined;
  stop(): Promise<void>;
}

export async function startLambdaEndpoint(): Promise<LambdaEndpoint> {
  const state: LambdaEndpoint = { endpoint: '', queue: [], accepted: [], refuse: undefined, stop: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': `local-${state.accepted.length}` });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || match === null) return reply(404, { Type: 'User', message: `not served here: ${req.url}` });
      if (req.headers['x-amz-invocation-type'] !== 'Event')
        return reply(400, { Type: 'User', message: 'only asynchronous invocations here' });
      if (state.refuse !== undefined && state.refuse.times > 0) {
        state.refuse.times -= 1;
        return reply(state.refuse.status, { Type: 'User', message: 'Rate Exceeded.', __type: 'TooManyRequestsException' });
      }
      const invocation = { functionName: decodeURIComponent(match[1] ?? ''), event: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
      state.queue.push(invocation);
      state.accepted.push(invocation);
      res.writeHead(202, { 'x-amzn-RequestId': `local-${state.accepted.length}` });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
