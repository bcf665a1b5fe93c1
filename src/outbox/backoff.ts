import { SECOND } from '../core/clock.js';

/**
 * When a failed delivery is tried again. The first retry comes within a second or two (most
 * failures are a receiver restarting), then the wait doubles up to an hour, so a receiver that
 * is down for a day gets about one attempt an hour, not a flood when it returns. Each wait is
 * drawn between half and all of its nominal length ("equal jitter"): deliveries that failed
 * together do not all come back in the same second.
 */
export const FIRST_RETRY_MS = 2 * SECOND;
export const MAX_RETRY_MS = 3600 * SECOND;
/** After this long since the event, a failure is the last: the news is stale, and the outbox must not grow forever. */
export const GIVE_UP_AFTER_MS = 3 * 86_400 * SECOND;

/** The nominal wait after `attempts` failed attempts (1 for the first failure), before jitter. */
export function retryDelay(attempts: number): number {
  // 2^20 is already far past the cap; the bound keeps the power finite.
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(Math.max(attempts - 1, 0), 20));
}

/**
 * The time of the next attempt after a failure at `now`, the `attempts`-th for an event that
 * happened at `createdAt`; null when it is time to give up. `random` is in [0, 1).
 */
export function nextAttemptAt(attempts: number, createdAt: number, now: number, random: () => number = Math.random): number | null {
  if (now - createdAt >= GIVE_UP_AFTER_MS) return null;
  const delay = retryDelay(attempts);
  return now + Math.ceil(delay / 2 + (random() * delay) / 2);
}
