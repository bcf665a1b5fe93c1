import type { Clock } from '../core/clock.js';

/** What one batch of background work (a purge, the expiry sweep) may take before the next is made smaller. */
export const BATCH_TARGET_MS = 5;
export const FIRST_BATCH_SIZE = 500;
export const MIN_BATCH_SIZE = 20;
export const MAX_BATCH_SIZE = 2000;

/**
 * The size of the next batch, from how long the last one of `size` rows took: halved when it
 * ran over the target, grown by half while it took under half of it. On SQLite a batch holds
 * the event loop (better-sqlite3 is synchronous) and the one write lock, so every request
 * waits for it; the target keeps that wait to milliseconds however big or cold the database.
 */
export function nextBatchSize(size: number, tookMs: number): number {
  if (tookMs > BATCH_TARGET_MS) return Math.max(MIN_BATCH_SIZE, Math.floor(size / 2));
  if (tookMs < BATCH_TARGET_MS / 2) return Math.min(MAX_BATCH_SIZE, Math.ceil(size * 1.5));
  return size;
}

/**
 * Runs `batch` (which deletes or records at most `limit` rows and says how many) until a batch
 * comes back short, sizing each from the last and yielding to other work between them (requests
 * waiting on the event loop go first); returns the total.
 */
export async function inBatches(batch: (limit: number) => Promise<number>, clock: Pick<Clock, 'monotonic'>): Promise<number> {
  let total = 0;
  let limit = FIRST_BATCH_SIZE;
  for (;;) {
    const started = clock.monotonic();
    const done = await batch(limit);
    total += done;
    if (done < limit) return total;
    limit = nextBatchSize(limit, clock.monotonic() - started);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
