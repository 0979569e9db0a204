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
