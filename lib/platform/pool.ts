/** The one worker pool: a bounded number of tasks in flight over a list. */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, taking items in list order.
 * Rejects with the first error; no item starts after it (the calls already running finish).
 */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  // One iterator shared by every worker: each takes the next item when it is free.
  const queue = items.entries();
  let failed = false;
  const worker = async () => {
    for (const [index, item] of queue) {
      if (failed) return;
      try {
        await fn(item, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
