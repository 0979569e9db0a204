/**
 * The Lambda client, for the reconciliation's asynchronous invocations of itself (a run started
 * by `POST /reconcile`, and a run continuing in a fresh invocation). Loaded on first use, in a
 * module of its own: no other function loads it. `AWS_ENDPOINT_URL_LAMBDA` locally
 * (serverless-offline's Lambda endpoint).
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { requestHandler } from './aws.js';

let lambdaClient: Promise<LambdaClient> | undefined;

/** The shared Lambda client of this Lambda process. */
export function lambda(): Promise<LambdaClient> {
  lambdaClient ??= import('@aws-sdk/client-lambda').then(({ LambdaClient }) => new LambdaClient({ maxAttempts: 3, requestHandler }));
  return lambdaClient;
}

/**
 * Queues an invocation of `functionName` with `event` (`InvocationType: Event`): it returns once
 * Lambda has accepted it (202), not when it has run.
 */
export async function invokeAsync(functionName: string, event: unknown): Promise<void> {
  const [client, { InvokeCommand }] = await Promise.all([lambda(), import('@aws-sdk/client-lambda')]);
  const out = await client.send(
    new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
  );
  if (out.StatusCode !== 202) throw new Error(`Lambda did not queue the invocation of ${functionName} (status ${out.StatusCode})`);
}
