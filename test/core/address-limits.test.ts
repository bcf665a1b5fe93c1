import { describe, expect, it } from 'vitest';
import { ADDRESS_WINDOW_MS, addressVerdict } from '../../src/core/address-limits.js';

const T0 = Date.parse('2026-12-04T09:00:00Z');

describe('the per-address limit', () => {
  it('allows attempts up to the limit within a window', () => {
    expect(addressVerdict(30, { windowStart: T0, count: 1 }, T0)).toEqual({ allowed: true });
    expect(addressVerdict(30, { windowStart: T0, count: 30 }, T0 + 60_000)).toEqual({ allowed: true });
  });

  it('refuses the attempt past the limit until the window ends, in whole seconds rounded up', () => {
    expect(addressVerdict(30, { windowStart: T0, count: 31 }, T0)).toEqual({ allowed: false, retryAfterSeconds: ADDRESS_WINDOW_MS / 1000 });
    expect(addressVerdict(30, { windowStart: T0, count: 500 }, T0 + ADDRESS_WINDOW_MS - 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(addressVerdict(30, { windowStart: T0, count: 31 }, T0 + 1500)).toEqual({ allowed: false, retryAfterSeconds: 899 });
  });

  it('limits nothing when set to 0', () => {
    expect(addressVerdict(0, { windowStart: T0, count: 1_000_000 }, T0)).toEqual({ allowed: true });
  });
});
