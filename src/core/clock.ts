/** Time comes from outside the core so tests can move it; milliseconds since the epoch. */
export interface Clock {
  now(): number;
  /**
   * Milliseconds on a clock that never steps back (NTP corrections, an operator's `date`), for
   * measuring how long ago something happened: a staleness bound measured on the wall clock
   * would reset itself when the clock jumps back, and fail open.
   */
  monotonic(): number;
}

export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

export const SECOND = 1000;
