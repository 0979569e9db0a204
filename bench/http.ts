/**
 * Ingestion over HTTP: signed webhooks, each a distinct missed call, through `npm start`'s
 * serverless-offline (the real bundle and HTTP path) for a fixed time at a fixed concurrency.
 * Afterwards the call items must equal the distinct calls sent (asserted: the run throws otherwise).
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_DEFAULTS } from '../dev/defaults.js';
import { postLikeTwilio } from '../dev/sign.js';
import { startLocalStack } from '../dev/stack.js';
import { createDocumentClient } from '../lib/platform/aws.js';
import { percentile } from './build.js';

export interface HttpBench {
  seconds: number;
  concurrency: number;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  statuses: Record<string, number>;
  callItems: number;
}

export async function httpBench(seconds: number, concurrency: number): Promise<HttpBench> {
  // The stack's own defaults, whatever earlier benchmarks put in this process's environment.
  const stack = await startLocalStack({
    TWILIO_ACCOUNT_SID: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN,
    PUBLIC_BASE_URL: '',
  });
  try {
    const url = `${stack.target}/twilio/call-status`;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    let errors = 0;
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const params = {
            AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
            ApiVersion: '2010-04-01',
            CallSid: `CA${randomBytes(16).toString('hex')}`,
            CallStatus: 'no-answer',
            Direction: 'inbound',
            From: `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`,
            To: '+14155559876',
            Timestamp: new Date().toUTCString(),
          };
          const t = performance.now();
          try {
            const response = await postLikeTwilio(url, params, LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN);
            await response.arrayBuffer();
            statuses[response.status] = (statuses[response.status] ?? 0) + 1;
            if (response.status !== 204) errors += 1;
          } catch {
            errors += 1;
          }
          latencies.push(performance.now() - t);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    // Count what landed: call items only.
    // The stack's data is scoped to its fixed local credentials.
    const docs = createDocumentClient(
      new DynamoDBClient({
        endpoint: stack.dynamoEndpoint,
        region: LOCAL_DEFAULTS.AWS_REGION,
        credentials: { accessKeyId: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY },
      }),
    );
    let callItems = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await docs.send(
        new ScanCommand({
          TableName: 'missed-call-ledger-local',
          ExclusiveStartKey: start,
          Select: 'COUNT',
          FilterExpression: '#t = :call',
          ExpressionAttributeNames: { '#t': 'type' },
          ExpressionAttributeValues: { ':call': 'call' },
        }),
      );
      callItems += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    const requests = latencies.length;
    if (callItems !== (statuses[204] ?? 0)) throw new Error(`${statuses[204] ?? 0} calls acknowledged but ${callItems} call items stored`);
    return {
      seconds: Number(elapsed.toFixed(1)),
      concurrency,
      requests,
      perSecond: Math.round(requests / elapsed),
      p50Ms: Number(percentile(latencies, 50).toFixed(1)),
      p99Ms: Number(percentile(latencies, 99).toFixed(1)),
      errors,
      statuses,
      callItems,
    };
  } finally {
    await stack.stop();
  }
}
