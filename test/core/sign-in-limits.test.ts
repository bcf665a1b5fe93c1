import { describe, expect, it } from 'vitest';
import { addressKey, afterFailure, lockDurationMs, signInVerdict, type SignInCounters, type SignInLimitPolicy } from '../../src/core/sign-in-limits.js';

const POLICY: SignInLimitPolicy = { maxConsecutiveFailures: 10, maxFailuresPerHour: 100, ipMaxFailures: 100 };
const T0 = Date.parse('2026-11-27T09:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const NONE: SignInCounters = { account: undefined, address: undefined };

function failures(n: number, start = T0, every = SECOND): SignInCounters {
  let counters = NONE;
  for (let i = 0; i < n; i++) counters = afterFailure(counters, start + i * every);
  return counters;
}

describe('sign-in limits', () => {
  it('allows an email and address with no failures', () => {
    expect(signInVerdict(POLICY, NONE, T0)).toEqual({ allowed: true });
  });

  it('allows attempts up to the 10th consecutive failure, then locks for 30 s from the last one', () => {
    expect(signInVerdict(POLICY, failures(9), T0 + 9 * SECOND)).toEqual({ allowed: true });
    const ten = failures(10); // the last at T0 + 9 s
    expect(signInVerdict(POLICY, ten, T0 + 9 * SECOND)).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect(signInVerdict(POLICY, ten, T0 + 38 * SECOND + 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(signInVerdict(POLICY, ten, T0 + 39 * SECOND)).toEqual({ allowed: true });
  });

  it('doubles the lock with each further failure, up to 15 minutes', () => {
    expect([10, 11, 12, 13, 14, 15, 16, 50, 1000].map((n) => lockDurationMs(POLICY, n) / SECOND)).toEqual([30, 60, 120, 240, 480, 900, 900, 900, 900]);
    expect(lockDurationMs(POLICY, 9)).toBe(0);
  });

  it('forgets the lock once the consecutive count is reset by a success', () => {
    const ten = failures(10);
    const reset: SignInCounters = { ...ten, account: { ...ten.account!, consecutive: 0 } };
    expect(signInVerdict(POLICY, reset, T0 + 10 * SECOND)).toEqual({ allowed: true });
  });

  it('locks an email at 100 failures within the hour until that hour is over', () => {
    // 100 failures, one every 30 s, with the consecutive count reset in between (successes).
    let counters = NONE;
    for (let i = 0; i < 100; i++) {
      counters = afterFailure(counters, T0 + i * 30 * SECOND);
      counters = { ...counters, account: { ...counters.account!, consecutive: 0 } };
    }
    const last = T0 + 99 * 30 * SECOND;
    expect(signInVerdict(POLICY, counters, last)).toEqual({ allowed: false, retryAfterSeconds: 3600 - 99 * 30 });
    expect(signInVerdict(POLICY, counters, T0 + 60 * MINUTE)).toEqual({ allowed: true });
  });

  it('locks an address at 100 failures within 15 minutes, whatever the emails, until the window closes', () => {
    const counters: SignInCounters = { account: undefined, address: { windowStart: T0, windowCount: 100 } };
    expect(signInVerdict(POLICY, counters, T0 + 5 * MINUTE)).toEqual({ allowed: false, retryAfterSeconds: 600 });
    expect(signInVerdict(POLICY, counters, T0 + 15 * MINUTE)).toEqual({ allowed: true });
    expect(signInVerdict({ ...POLICY, ipMaxFailures: 0 }, counters, T0 + 5 * MINUTE)).toEqual({ allowed: true });
  });

  it('opens a new hourly window at the first failure after the old one ended', () => {
    const counters = afterFailure(failures(3), T0 + 61 * MINUTE);
    expect(counters.account).toEqual({ consecutive: 4, lastFailureAt: T0 + 61 * MINUTE, windowStart: T0 + 61 * MINUTE, windowCount: 1 });
    expect(counters.address).toEqual({ windowStart: T0 + 61 * MINUTE, windowCount: 1 });
  });

  it('answers the longer of two locks', () => {
    const counters: SignInCounters = { ...failures(10), address: { windowStart: T0, windowCount: 100 } };
    expect(signInVerdict(POLICY, counters, T0 + 9 * SECOND)).toEqual({ allowed: false, retryAfterSeconds: 900 - 9 });
  });

  it('keeps the latest failure time when a node with a slower clock counts after a faster one', () => {
    expect(afterFailure(failures(1, T0 + 5), T0).account).toMatchObject({ consecutive: 2, lastFailureAt: T0 + 5 });
  });
});

describe('address keys', () => {
  it('keys an IPv4 address by itself', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(addressKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys an IPv6 address by its /64, however it is written, without its zone', () => {
    const key = '2001:db8:aa:bb::/64';
    for (const ip of [
      '2001:db8:aa:bb::1',
      '2001:0DB8:00aa:00bb:ffff:ffff:ffff:ffff',
      '2001:db8:aa:bb:1:2:3:4',
      '2001:db8:aa:bb::1.2.3.4',
      '2001:db8:aa:bb::9%eth0',
    ]) {
      expect(addressKey(ip)).toBe(key);
    }
    expect(addressKey('2001:db8:aa:bc::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('leaves what does not parse as it is', () => {
    for (const ip of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '::ffff:1.2.3.300', 'unknown']) expect(addressKey(ip)).toBe(ip);
  });
});
