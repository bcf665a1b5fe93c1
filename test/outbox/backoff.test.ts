import { describe, expect, it } from 'vitest';
import { GIVE_UP_AFTER_MS, MAX_RETRY_MS, nextAttemptAt, retryDelay } from '../../src/outbox/backoff.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const shortest = () => 0;
const longest = () => 0.999_999;

describe('the webhook retry schedule', () => {
  it('tries again within one to two seconds of the first failure', () => {
    expect(nextAttemptAt(1, T0, T0, shortest)).toBe(T0 + SECOND);
    expect(nextAttemptAt(1, T0, T0, longest)).toBe(T0 + 2 * SECOND);
  });

  it('doubles the wait after each failure, up to an hour', () => {
    expect([1, 2, 3, 4, 5, 10, 11, 12, 13, 50, 1000].map(retryDelay)).toEqual([
      2 * SECOND,
      4 * SECOND,
      8 * SECOND,
      16 * SECOND,
      32 * SECOND,
      1024 * SECOND,
      2048 * SECOND,
      HOUR,
      HOUR,
      HOUR,
      HOUR,
    ]);
    expect(retryDelay(1000)).toBe(MAX_RETRY_MS);
  });

  it('spreads each wait between half and all of it, so deliveries that failed together come back apart', () => {
    const now = T0 + 10 * HOUR;
    const waits = [0, 0.25, 0.5, 0.75, 0.999].map((r) => nextAttemptAt(20, T0, now, () => r)! - now);
    expect(waits[0]).toBe(HOUR / 2);
    expect(waits.at(-1)).toBeLessThanOrEqual(HOUR);
    expect(new Set(waits).size).toBe(5);
    expect([...waits].sort((a, b) => a - b)).toEqual(waits);
  });

  it('gives up on a failure three days after the event, and not before', () => {
    expect(nextAttemptAt(80, T0, T0 + GIVE_UP_AFTER_MS - 1, longest)).not.toBeNull();
    expect(nextAttemptAt(80, T0, T0 + GIVE_UP_AFTER_MS, shortest)).toBeNull();
    expect(GIVE_UP_AFTER_MS).toBe(3 * DAY);
  });

  it('makes a receiver that is down for three days see about one attempt an hour, and never more than two', () => {
    const attemptsAt: number[] = [T0];
    for (let now = T0, attempts = 1; ; attempts++) {
      const next = nextAttemptAt(attempts, T0, now, shortest);
      if (next === null) break;
      attemptsAt.push((now = next));
    }
    const onDayTwo = attemptsAt.filter((at) => at >= T0 + DAY && at < T0 + 2 * DAY).length;
    expect(onDayTwo).toBeGreaterThanOrEqual(24);
    expect(onDayTwo).toBeLessThanOrEqual(48);
    // The last attempt is the first one at or past three days (the shortest waits are half an hour).
    expect(attemptsAt.at(-1)! - T0).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS);
    expect(attemptsAt.at(-1)! - T0).toBeLessThan(GIVE_UP_AFTER_MS + HOUR / 2);
  });
});
