/**
 * The AWS clients' timeouts hold whatever SDK version the Lambda runtime brings: against a
 * DynamoDB that accepts connections and never answers, a request fails with TimeoutError, with
 * the options as configured and with `throwOnRequestTimeout` dropped (older SDKs ignore it).
 */
import { createServer, type Server } from 'node:net';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSdkVersion, requestHandlerOptions } from '../../lib/platform/aws.js';

let server: Server;
let endpoint: string;
const sockets = new Set<import('node:net').Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket); // accepted, never answered: a stalled DynamoDB
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const stalledRequest = async (requestHandler: Record<string, unknown>, waitMs = 4_000) => {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler,
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  // Bounded by the test itself too: "still waiting" is the failure this file exists to catch.
  return Promise.race([
    client.send(new DescribeTableCommand({ TableName: 'stalled' })).then(
      () => 'answered',
      (error: unknown) => (error instanceof Error ? error.name : String(error)),
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve(`still waiting after ${waitMs} ms`), waitMs)),
  ]);
};

describe('AWS SDK request timeouts', () => {
  it('fail a stalled request with TimeoutError, as configured', async () => {
    expect(await stalledRequest(requestHandlerOptions(300))).toBe('TimeoutError');
  });

  it('fail it without throwOnRequestTimeout too (an SDK that does not know the option)', async () => {
    const { throwOnRequestTimeout: _ignored, ...portable } = requestHandlerOptions(300);
    expect(await stalledRequest(portable)).toBe('TimeoutError');
  });

  it('would NOT fail it with requestTimeout alone on this SDK (why socketTimeout is set)', async () => {
    expect(await stalledRequest({ connectionTimeout: 300, requestTimeout: 300 }, 1_500)).toBe('still waiting after 1500 ms');
  });

  it('reports the SDK version for the cold-start log', async () => {
    expect(await awsSdkVersion(new DynamoDBClient({ region: 'us-east-1' }))).toMatch(/^3\.\d+\.\d+$/);
  });
});
