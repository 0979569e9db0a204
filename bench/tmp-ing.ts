import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../lib/dev/dynamodb-local.js';
import { ingest } from './ingest.js';

const d = await startDynamoDbLocal();
const c = new DynamoDBClient({
  endpoint: d.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});
try {
  console.log(JSON.stringify(await ingest(c, d.endpoint, 1000, 16), null, 1));
} finally {
  await d.stop();
}
