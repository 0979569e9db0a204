/** The one worker pool: a bounded number of tasks in flight over a list, in list order. */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first error
 * (the calls already running finish first). `fn` gets each item and its index.
 */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  // One iterator shared by every worker: each takes the next item when it is free.
  const queue = items.entries();
  const worker = async () => {
    for (const [index, item] of queue) await fn(item, index);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
