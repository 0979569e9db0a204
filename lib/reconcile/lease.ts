/**
 * One reconciliation at a time: a lease item (`META#reconcile-lease`) with an expiry. A run takes
 * it with a conditional put (no lease, or an expired one), renews it for each invocation it
 * continues in, and gives it back when it ends; a run that crashed holds it only until it
 * expires, and the next run takes over (and learns whose lease it took).
 *
 * Its end is `leaseUntil` (ISO 8601). `expiresAt` is the table's TTL attribute (epoch seconds) on
 * every other item; a lease item of 0.2.0 and before kept its end there as a string, which TTL
 * ignores: such an item is taken over once that time has passed.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TableUnavailableError } from '../table/items.js';
import { RECONCILE_LEASE_KEY } from '../table/keys.js';
import { conditionalUpdate } from '../table/requests.js';
import { ReconcileBusyError } from './errors.js';

export { ReconcileBusyError };

export interface RunLease {
  /**
   * Takes the lease for `ttlMs`; returns the run whose expired lease it took over, if any.
   * @throws ReconcileBusyError while another run holds it.
   */
  acquire(runId: string, ttlMs: number): Promise<{ tookOverFrom?: string }>;
  /** Extends this run's lease to `ttlMs` from now; false when another run has taken it. */
  renew(runId: string, ttlMs: number): Promise<boolean>;
  /** Gives it back, if this run still holds it (a run that outlived its lease releases nothing). */
  release(runId: string): Promise<void>;
}

export function createRunLease(client: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now): RunLease {
  return {
    async acquire(runId, ttlMs) {
      const at = new Date(now());
      try {
        const out = await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: RECONCILE_LEASE_KEY,
              type: 'lease',
              runId,
              acquiredAt: at.toISOString(),
              leaseUntil: new Date(at.getTime() + ttlMs).toISOString(),
            },
            ConditionExpression:
              'attribute_not_exists(pk) OR leaseUntil <= :now OR (attribute_not_exists(leaseUntil) AND expiresAt <= :now)',
            ExpressionAttributeValues: { ':now': at.toISOString() },
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const previous = out.Attributes as { runId?: unknown; releasedAt?: unknown } | undefined;
        // A lease given back is no take-over; one that ran out is.
        return typeof previous?.runId === 'string' && previous.releasedAt === undefined ? { tookOverFrom: previous.runId } : {};
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          const held = error.Item as { runId?: { S?: string }; leaseUntil?: { S?: string }; expiresAt?: { S?: string } } | undefined;
          throw new ReconcileBusyError(held?.runId?.S ?? 'unknown', held?.leaseUntil?.S ?? held?.expiresAt?.S ?? 'unknown');
        }
        throw new TableUnavailableError('The reconciliation lease could not be taken', { cause: error });
      }
    },
    async renew(runId, ttlMs) {
      return conditionalUpdate(
        client,
        {
          TableName: tableName,
          Key: { pk: RECONCILE_LEASE_KEY },
          UpdateExpression: 'SET leaseUntil = :until REMOVE releasedAt, expiresAt',
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':until': new Date(now() + ttlMs).toISOString(), ':runId': runId },
        },
        'The reconciliation lease',
      );
    },
    async release(runId) {
      // A run that outlived its lease finds another run's id there: it gives back nothing.
      await conditionalUpdate(
        client,
        {
          TableName: tableName,
          Key: { pk: RECONCILE_LEASE_KEY },
          UpdateExpression: 'SET leaseUntil = :now, releasedAt = :now REMOVE expiresAt',
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':now': new Date(now()).toISOString(), ':runId': runId },
        },
        'The reconciliation lease',
      );
    },
  };
}
