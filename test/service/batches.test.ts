import { describe, expect, it } from 'vitest';
import { BATCH_TARGET_MS, FIRST_BATCH_SIZE, inBatches, MAX_BATCH_SIZE, MIN_BATCH_SIZE, nextBatchSize } from '../../src/service/batches.js';

describe('background work in batches', () => {
  it('halves a batch that ran over the target, down to a floor', () => {
    expect(nextBatchSize(500, BATCH_TARGET_MS + 1)).toBe(250);
    expect(nextBatchSize(MIN_BATCH_SIZE, 1000)).toBe(MIN_BATCH_SIZE);
  });

  it('grows a batch that took under half the target, up to a ceiling, and keeps one in between', () => {
    expect(nextBatchSize(500, 0)).toBe(750);
    expect(nextBatchSize(MAX_BATCH_SIZE, 0)).toBe(MAX_BATCH_SIZE);
    expect(nextBatchSize(500, BATCH_TARGET_MS * 0.75)).toBe(500);
  });

  it('runs batches until one comes back short, sizing each from how long the last took', async () => {
    let now = 0;
    const clock = { monotonic: () => now };
    const limits: number[] = [];
    let left = 1900;
    const total = await inBatches(async (limit) => {
      limits.push(limit);
      now += limit / 50; // a database where every 50 rows take 1 ms
      const done = Math.min(limit, left);
      left -= done;
      return done;
    }, clock);
    expect(total).toBe(1900);
    // 500 rows took 10 ms: over the 5 ms target, so 250 (5 ms: kept), and so on until the 150 left.
    expect(limits).toEqual([FIRST_BATCH_SIZE, 250, 250, 250, 250, 250, 250]);
  });

  it('lets other work run between batches', async () => {
    let batches = 0;
    let batchesBeforeOther: number | undefined;
    // Queued before the batches start: without a yield between them, all five would run first.
    setImmediate(() => {
      batchesBeforeOther = batches;
    });
    await inBatches(async (limit) => (++batches < 5 ? limit : 0), { monotonic: () => 0 });
    expect(batches).toBe(5);
    expect(batchesBeforeOther).toBe(1);
  });
});
