import { describe, expect, it, vi } from 'vitest';
import { BATCH_TARGET_MS, batchTarget, FIRST_BATCH_SIZE, inBatches, MAX_BATCH_SIZE, MIN_BATCH_SIZE, nextBatchSize } from '../../src/service/batches.js';

/** A database where a batch of n rows takes `fixedMs + n * perRowMs`, on a clock the batches move. */
function database(rows: number, cost: { fixedMs: number; perRowMs: number }) {
  let now = 0;
  let left = rows;
  const limits: number[] = [];
  return {
    clock: { monotonic: () => now },
    limits,
    batch: async (limit: number) => {
      limits.push(limit);
      const done = Math.min(limit, left);
      now += cost.fixedMs + done * cost.perRowMs;
      left -= done;
      return done;
    },
  };
}

describe('background work in batches', () => {
  it('has batches sized to a target only where statements run on the event loop', () => {
    expect(batchTarget({ onTheEventLoop: true })).toBe(BATCH_TARGET_MS);
    expect(batchTarget({ onTheEventLoop: false })).toBeUndefined();
  });

  it('halves a batch that ran over the target, down to a floor', () => {
    expect(nextBatchSize(500, BATCH_TARGET_MS + 1, BATCH_TARGET_MS)).toBe(250);
    expect(nextBatchSize(MIN_BATCH_SIZE, 1000, BATCH_TARGET_MS)).toBe(MIN_BATCH_SIZE);
  });

  it('grows a batch that took under half the target, up to a ceiling, and keeps one in between', () => {
    expect(nextBatchSize(500, 0, BATCH_TARGET_MS)).toBe(750);
    expect(nextBatchSize(MAX_BATCH_SIZE, 0, BATCH_TARGET_MS)).toBe(MAX_BATCH_SIZE);
    expect(nextBatchSize(500, BATCH_TARGET_MS * 0.75, BATCH_TARGET_MS)).toBe(500);
  });

  it('runs batches until one comes back short, sizing each from how long the last took', async () => {
    const db = database(1900, { fixedMs: 0, perRowMs: 1 / 50 }); // 50 rows a millisecond
    expect(await inBatches(db.batch, db.clock, BATCH_TARGET_MS)).toBe(1900);
    // 500 rows took 10 ms: over the 5 ms target, so 250 (5 ms: kept), and so on until the 150 left.
    expect(db.limits).toEqual([FIRST_BATCH_SIZE, 250, 250, 250, 250, 250, 250]);
  });

  it('stops shrinking batches whose time is the commit, not the rows', async () => {
    const db = database(3000, { fixedMs: 8, perRowMs: 1 / 500 }); // an 8 ms fsync per commit
    expect(await inBatches(db.batch, db.clock, BATCH_TARGET_MS)).toBe(3000);
    // 500 rows: 9 ms, halved; 250 rows: 8.5 ms, no better: 250 from then on, not 20 a commit.
    expect(db.limits).toEqual([500, 250, 250, 250, 250, 250, 250, 250, 250, 250, 250, 250]);
  });

  it('keeps batches of one size without a target (PostgreSQL)', async () => {
    const db = database(1200, { fixedMs: 10, perRowMs: 1 });
    expect(await inBatches(db.batch, db.clock)).toBe(1200);
    expect(db.limits).toEqual([FIRST_BATCH_SIZE, FIRST_BATCH_SIZE, FIRST_BATCH_SIZE]);
  });

  it('pauses as long as the last batch took, so another process waiting for the SQLite file gets its turn', async () => {
    vi.useFakeTimers();
    try {
      const db = database(1000, { fixedMs: 4, perRowMs: 0 });
      const run = inBatches(db.batch, db.clock, BATCH_TARGET_MS);
      await vi.advanceTimersByTimeAsync(3.9);
      expect(db.limits).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(0.1);
      expect(db.limits).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(4);
      expect(await run).toBe(1000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets other work run between batches', async () => {
    let batches = 0;
    let batchesBeforeOther: number | undefined;
    // Queued before the batches start: without a yield between them, all five would run first.
    setImmediate(() => {
      batchesBeforeOther = batches;
    });
    await inBatches(async (limit) => (++batches < 5 ? limit : 0), { monotonic: () => 0 }, BATCH_TARGET_MS);
    expect(batches).toBe(5);
    expect(batchesBeforeOther).toBe(1);
  });
});
