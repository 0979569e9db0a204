/**
 * Reconciliation cost for a window of 10,000 listed missed calls, against DynamoDB Local and
 * the local Twilio API through the real SDK: Twilio requests, DynamoDB requests and time, when
 * no webhook was lost, when 1% were lost, and when all were.
 * Run: npm run bench (figures are of this machine and DynamoDB Local, not of AWS).
 */
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { countRequests, createDocumentClient } from '../lib/aws.js';
import { startDynamoDbLocal } from '../lib/dev/dynamodb-local.js';
import { createTable } from '../lib/dev/table.js';
import { type LocalCall, newCallSid, startTwilioApi } from '../lib/dev/twilio-api.js';
import { createLedger } from '../lib/ledger.js';
import { type RunSummary, reconcile, statusesToList } from '../lib/reconcile.js';
import { createTwilioCalls } from '../lib/twilio-client.js';
import { createWatermark, WATERMARK_KEY } from '../lib/watermark.js';

const ACCOUNT_SID = `AC${'b'.repeat(32)}`;
const TOKEN = 'bench-token';
const N = 10_000;
const NOW = new Date('2026-11-24T03:00:00.000Z');

const dynamo = await startDynamoDbLocal();
const api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [TOKEN] });
const client = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});

function seed(n: number): LocalCall[] {
  const statuses: LocalCall['status'][] = [
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'no-answer',
    'busy',
    'busy',
    'failed',
  ];
  return Array.from({ length: n }, (_, i) => ({
    sid: newCallSid(),
    from: `+1415${String(5_000_000 + i).slice(-7)}`,
    to: '+14155559876',
    status: statuses[i % 10] ?? 'no-answer',
    direction: 'inbound' as const,
    startTime: new Date(NOW.getTime() - 20 * 3_600_000 + i * 5_000),
  }));
}

async function setup(tableName: string) {
  await createTable(client, tableName);
  const docs = createDocumentClient(client);
  const dynamoRequests = countRequests(docs);
  return {
    docs,
    run: (): Promise<RunSummary> =>
      reconcile(
        {
          twilio: createTwilioCalls({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: TOKEN, baseUrl: api.baseUrl }),
          ledger: createLedger(docs, { tableName, retentionDays: 90 }),
          watermark: createWatermark(docs, tableName),
          dynamoRequests,
          now: () => NOW,
        },
        {
          accountSid: ACCOUNT_SID,
          statuses: statusesToList(false),
          includeCanceled: false,
          overlapMs: 3_600_000,
          settleMs: 300_000,
          lookbackMs: 48 * 3_600_000,
        },
      ),
    resetWatermark: () => client.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: WATERMARK_KEY } } })),
  };
}

const rows: { scenario: string; s: RunSummary }[] = [];
try {
  const all = seed(N);
  api.calls.push(...all);
  const a = await setup('bench-all-lost');
  rows.push({ scenario: 'all 10,000 webhooks lost', s: await a.run() });
  await a.resetWatermark();
  rows.push({ scenario: 'no webhook lost', s: await a.run() });

  api.calls.length = 0;
  const fresh = seed(N);
  api.calls.push(...fresh.slice(100));
  const b = await setup('bench-one-percent');
  await b.run();
  api.calls.push(...fresh.slice(0, 100));
  await b.resetWatermark();
  rows.push({ scenario: '1% (100) webhooks lost', s: await b.run() });
} finally {
  await api.stop();
  await dynamo.stop();
}

console.log(
  `\nReconciliation of a window of ${N.toLocaleString('en-US')} listed missed calls (DynamoDB Local, local Twilio API, real SDK)\n`,
);
console.log('scenario                     listed  recovered  already  Twilio req  DynamoDB req  DynamoDB req/1k listed  ms');
for (const { scenario, s } of rows) {
  console.log(
    [
      scenario.padEnd(27),
      String(s.listed).padStart(7),
      String(s.recoveredTotal).padStart(10),
      String(s.alreadyRecorded).padStart(8),
      String(s.twilioRequests).padStart(11),
      String(s.dynamoRequests).padStart(13),
      (s.dynamoRequests / (s.listed / 1000)).toFixed(1).padStart(23),
      String(s.durationMs).padStart(7),
    ].join(' '),
  );
}
const none = rows.find((r) => r.scenario === 'no webhook lost')?.s;
const allLost = rows.find((r) => r.scenario.startsWith('all'))?.s;
if (none && allLost) {
  console.log(
    `\nratio, all lost / none lost: DynamoDB requests x${(allLost.dynamoRequests / none.dynamoRequests).toFixed(1)}, time x${(allLost.durationMs / none.durationMs).toFixed(1)}`,
  );
}
