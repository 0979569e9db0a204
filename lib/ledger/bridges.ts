/** What the ledger knows of queue bridges, for the contacts function's late misses (lib/callbacks/reached.ts). */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TableUnavailableError } from '../table/items.js';
import { callKey } from '../table/keys.js';
import { factsOf } from './call-item.js';

/**
 * The roots among `rootCallSids` that the ledger holds as answered from a queue (`bridged`,
 * `redirected-from-bridged`), with the seconds the caller waited (0 when not said): one
 * consistent GetItem each (the contacts function asks for at most a few, for a late miss).
 */
export async function queueBridges(
  client: DynamoDBDocumentClient,
  tableName: string,
  rootCallSids: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  await Promise.all(
    rootCallSids.map(async (sid) => {
      let item: Record<string, unknown> | undefined;
      try {
        item = (await client.send(new GetCommand({ TableName: tableName, Key: { pk: callKey(sid) }, ConsistentRead: true }))).Item;
      } catch (error) {
        throw new TableUnavailableError('The ledger table could not be read', { cause: error });
      }
      if (item === undefined || item.outcome !== 'answered') return;
      for (const queue of factsOf(item).queues.values()) {
        if (queue.result === 'bridged' || queue.result === 'redirected-from-bridged') found.set(sid, queue.seconds ?? 0);
      }
    }),
  );
  return found;
}
