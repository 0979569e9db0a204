/** Invokes a function that serverless-offline serves, over its Lambda-compatible endpoint. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import type { Invoke } from './stream-poller.js';

/** Reads a ReportBatchItemFailures response, checking its shape. */
export function parseBatchResponse(text: string): DynamoDBBatchResponse | undefined {
  if (text.trim() === '' || text.trim() === 'null') return undefined;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || !('batchItemFailures' in value) || !Array.isArray(value.batchItemFailures)) {
    throw new Error(`Not a batch response: ${text.slice(0, 200)}`);
  }
  return {
    batchItemFailures: value.batchItemFailures.map((failure: unknown) => {
      if (typeof failure !== 'object' || failure === null || !('itemIdentifier' in failure) || typeof failure.itemIdentifier !== 'string') {
        throw new Error(`Not a batch item failure: ${JSON.stringify(failure).slice(0, 200)}`);
      }
      return { itemIdentifier: failure.itemIdentifier };
    }),
  };
}

export function offlineInvoker(options: {
  lambdaPort: number;
  functionName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}): Invoke {
  const client = new LambdaClient({
    endpoint: `http://127.0.0.1:${options.lambdaPort}`,
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
  });
  return async (event) => {
    const out = await client.send(new InvokeCommand({ FunctionName: options.functionName, Payload: Buffer.from(JSON.stringify(event)) }));
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError !== undefined) throw new Error(`${options.functionName} failed: ${text.slice(0, 300)}`);
    return parseBatchResponse(text);
  };
}

/**
 * Lambda's asynchronous invocation, locally: the event is invoked, and a function error is
 * retried `maximumRetryAttempts` times (Lambda waits about 1 and then 2 minutes; `delayMs` here),
 * after which `onFailure` stands for the function's on-failure destination.
 */
export function asyncInvoker(options: {
  lambdaPort: number;
  functionName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  maximumRetryAttempts: number;
  delayMs?: number;
  onFailure: (event: unknown, reason: string) => void;
}): (event: unknown) => Promise<void> {
  const client = new LambdaClient({
    endpoint: `http://127.0.0.1:${options.lambdaPort}`,
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
  });
  return async (event) => {
    let reason = '';
    for (let attempt = 0; attempt <= options.maximumRetryAttempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 1_000));
      try {
        const out = await client.send(
          new InvokeCommand({ FunctionName: options.functionName, Payload: Buffer.from(JSON.stringify(event)) }),
        );
        if (out.FunctionError === undefined) return;
        reason = (out.Payload ? Buffer.from(out.Payload).toString('utf8') : '').slice(0, 300);
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
    }
    options.onFailure(event, reason);
  };
}
