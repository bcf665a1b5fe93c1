import type { Clock } from '../core/clock.js';

/** What one batch of background work (a purge, the expiry sweep) may take on SQLite before the next is made smaller. */
export const BATCH_TARGET_MS = 5;
export const FIRST_BATCH_SIZE = 500;
export const MIN_BATCH_SIZE = 20;
export const MAX_BATCH_SIZE = 2000;

/**
 * How long each batch may take, for a store whose statements run on the event loop (SQLite:
 * better-sqlite3 is synchronous, and a batch also holds the one write lock, so every request
 * waits for it); undefined, batches of a fixed size, for one that runs them elsewhere
 * (PostgreSQL), where a batch's time is mostly its round trip and commit, whatever its size.
 */
export function batchTarget(store: { readonly onTheEventLoop: boolean }): number | undefined {
  return store.onTheEventLoop ? BATCH_TARGET_MS : undefined;
}

/**
 * The size of the next batch, from how long the last one of `size` rows took: halved when it
 * ran over the target, grown by half while it took under half of it.
 */
export function nextBatchSize(size: number, tookMs: number, targetMs: number): number {
  if (tookMs > targetMs) return Math.max(MIN_BATCH_SIZE, Math.floor(size / 2));
  if (tookMs < targetMs / 2) return Math.min(MAX_BATCH_SIZE, Math.ceil(size * 1.5));
  return size;
}

/**
 * Runs `batch` (which deletes or records at most `limit` rows and says how many) until a batch
 * comes back short, yielding to other work between them (requests waiting on the event loop go
 * first, and with a target, other processes waiting for the database); returns the total. With a `targetMs`, each batch is sized from how long the last took;
 * when a smaller batch took about as long as a larger one, the time is the commit's (an fsync),
 * not the rows', and batches get no smaller than that: more of them would only cost more commits.
 */
export async function inBatches(batch: (limit: number) => Promise<number>, clock: Pick<Clock, 'monotonic'>, targetMs?: number): Promise<number> {
  let total = 0;
  let limit = FIRST_BATCH_SIZE;
  let floor = MIN_BATCH_SIZE;
  let previous: { size: number; tookMs: number } | undefined;
  for (;;) {
    const started = clock.monotonic();
    const done = await batch(limit);
    total += done;
    if (done < limit) return total;
    if (targetMs === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    const tookMs = clock.monotonic() - started;
    if (tookMs > targetMs && previous !== undefined && previous.size > limit && tookMs > previous.tookMs * 0.75) floor = limit;
    previous = { size: limit, tookMs };
    limit = Math.max(floor, nextBatchSize(limit, tookMs, targetMs));
    // A pause as long as the batch: another process writing to the SQLite file (the server,
    // beside a `gatehouse purge`) waits in SQLite's busy handler, which looks again at growing
    // intervals (1, 2, 5, 10, 15, 20 ms…); batches back to back would leave it almost no moment
    // to find the lock free, and a request could wait through many of them.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(tookMs, 4 * targetMs))));
  }
}
