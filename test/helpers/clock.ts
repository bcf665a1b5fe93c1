import type { Clock } from '../../src/core/clock.js';

/** A clock the test moves by hand. Starts at a fixed, realistic instant. */
export interface TestClock extends Clock {
  advance(seconds: number): void;
  set(ms: number): void;
}

export function testClock(start = Date.parse('2026-11-27T09:00:00Z')): TestClock {
  let now = start;
  return {
    now: () => now,
    // Moved by the test alone, so it never steps back: the same numbers serve both.
    monotonic: () => now,
    advance: (seconds) => {
      now += seconds * 1000;
    },
    set: (ms) => {
      now = ms;
    },
  };
}
