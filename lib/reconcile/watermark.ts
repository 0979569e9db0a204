/** The reconciliation watermark: one item, `META#reconcile`, never moved backwards. */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TableUnavailableError } from '../table/items.js';
import { WATERMARK_KEY } from '../table/keys.js';
import { conditionalUpdate } from '../table/requests.js';
import type { RunSummary, Watermark } from './reconcile.js';

/** The end of the last fully reconciled window, or undefined before the first run. */
export function parseWatermark(item: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const end = item?.windowEnd;
  return typeof end === 'string' ? end : undefined;
}

export function createWatermark(client: DynamoDBDocumentClient, tableName: string): Watermark {
  return {
    async read() {
      try {
        const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: WATERMARK_KEY }, ConsistentRead: true }));
        return parseWatermark(out.Item);
      } catch (error) {
        throw new TableUnavailableError('The reconciliation watermark could not be read', { cause: error });
      }
    },
    async advance(windowEnd, summary: RunSummary) {
      // Two runs at once (nightly and manual) must not move it backwards: a later one already did.
      await conditionalUpdate(
        client,
        {
          TableName: tableName,
          Key: { pk: WATERMARK_KEY },
          UpdateExpression: 'SET #type = :type, windowEnd = :end, lastRun = :summary, updatedAt = :now',
          ConditionExpression: 'attribute_not_exists(windowEnd) OR windowEnd < :end',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':type': 'meta', ':end': windowEnd, ':summary': summary, ':now': summary.finishedAt },
        },
        'The reconciliation watermark',
      );
    },
  };
}
