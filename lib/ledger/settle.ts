/**
 * The settle sweep: decides the calls whose final callback never came. Every call item that is
 * not decided yet sits in the settle index (`byLastMissed` under `SETTLE#<0..7>`, sorted by when
 * it settles: its last evidence + OUTCOME_SETTLE_SECONDS); the sweep reads what is due and
 * decides each from all its evidence as if it had ended (source `settle`). It runs on an
 * EventBridge schedule in AWS (every minute, in the webhook function) and on a timer locally
 * (scripts/start.ts invokes the same handler): no in-memory timer in a Lambda, and DynamoDB's
 * TTL (a day or two late) is far too late for a worklist.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { logger } from '../platform/log.js';
import { mapLimit } from '../platform/pool.js';
import { TableUnavailableError } from '../table/items.js';
import { callSidOfKey, SETTLE_INDEX, settleShards } from '../table/keys.js';
import type { Ledger } from './store.js';

export interface SettleSummary {
  /** Calls due (their settle time passed). */
  due: number;
  missed: number;
  answered: number;
  notMissed: number;
  /** Due when listed, but new evidence moved their settle time since. */
  moved: number;
  /** Due, but their decision failed (logged; tried again by the next sweep). */
  failed: number;
}

/** At most this many calls a sweep decides (the next sweep takes the rest). */
const MAX_PER_SWEEP = 2_000;

/** The root CallSids due at `now`, oldest first per shard. */
async function dueCalls(client: DynamoDBDocumentClient, tableName: string, now: Date): Promise<string[]> {
  const due: string[] = [];
  for (const shard of settleShards()) {
    let start: Record<string, unknown> | undefined;
    do {
      try {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: SETTLE_INDEX,
            KeyConditionExpression: 'gsi1pk = :shard AND gsi1sk <= :now',
            ExpressionAttributeValues: { ':shard': shard, ':now': now.toISOString() },
            ProjectionExpression: 'pk',
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) if (typeof item.pk === 'string') due.push(callSidOfKey(item.pk));
        start = out.LastEvaluatedKey;
      } catch (error) {
        throw new TableUnavailableError('The settle index could not be read', { cause: error });
      }
    } while (start !== undefined && due.length < MAX_PER_SWEEP);
    if (due.length >= MAX_PER_SWEEP) break;
  }
  return due.slice(0, MAX_PER_SWEEP);
}

/** Decides every call due at `now`. */
export async function settleDue(
  client: DynamoDBDocumentClient,
  tableName: string,
  ledger: Ledger,
  now = new Date(),
): Promise<SettleSummary> {
  const summary: SettleSummary = { due: 0, missed: 0, answered: 0, notMissed: 0, moved: 0, failed: 0 };
  const due = await dueCalls(client, tableName, now);
  summary.due = due.length;
  await mapLimit(due, 8, async (rootCallSid) => {
    let result: Awaited<ReturnType<Ledger['settle']>>;
    try {
      result = await ledger.settle(rootCallSid, now);
    } catch (error) {
      // One call that cannot be decided (unreadable, its counters failing) never holds up the others.
      summary.failed += 1;
      logger.error('Settle failed for a call; the next sweep tries it again', { rootCallSid, error });
      return;
    }
    if (!result.due) summary.moved += 1;
    else if (result.outcome === 'missed') summary.missed += 1;
    else if (result.outcome === 'answered') summary.answered += 1;
    else summary.notMissed += 1;
  });
  return summary;
}
