/**
 * What the ledger and the contacts store share about cancelled DynamoDB transactions:
 * reading the per-action reasons, which of them are worth retrying, and the backoff.
 */
import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/** Cancellation reasons that say "try again", not "your condition is false". */
export const RETRYABLE_REASONS: ReadonlySet<string> = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** One code per action of the transaction, in order (`None` for an action that was fine). */
export function cancellationCodes(error: TransactionCanceledException): string[] {
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential backoff for attempt `n` (1-based), capped at 1 s. */
export const backoffMs = (n: number): number => Math.random() * Math.min(1_000, 25 * 2 ** n);
