/** The worker pool: bounded concurrency, every item once, the first error surfaces. */
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../lib/platform/pool.js';

describe('mapLimit', () => {
  it('runs each item once with at most `limit` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await mapLimit(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      async (item, index) => {
        expect(index).toBe(item);
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(item);
        inFlight -= 1;
      },
    );
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('handles an empty list and undefined items', async () => {
    await mapLimit([], 8, async () => {
      throw new Error('never called');
    });
    const got: unknown[] = [];
    await mapLimit([undefined, 1], 8, async (item) => {
      got.push(item);
    });
    expect(got).toEqual([undefined, 1]);
  });

  it('rejects with the first error and starts no new item after it', async () => {
    const started: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await new Promise((resolve) => setImmediate(resolve));
      if (item === 1) throw new Error('item 1 failed');
    });
    await expect(run).rejects.toThrow('item 1 failed');
    expect(started.length).toBeLessThan(6);
  });
});
