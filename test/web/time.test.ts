import { describe, expect, it } from 'vitest';
import { describeTime, timeAgo } from '../../src/web/public/time.js';

const NOW = Date.parse('2026-11-27T10:41:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

describe('relative times on the devices page', () => {
  it('says "just now" for the last minute, and for a clock slightly ahead', () => {
    expect(timeAgo(ago(0), NOW)).toBe('just now');
    expect(timeAgo(ago(59), NOW)).toBe('just now');
    expect(timeAgo(ago(-30), NOW)).toBe('just now');
  });

  it('counts whole minutes, hours, days, months and years', () => {
    expect(timeAgo(ago(60), NOW)).toBe('1 minute ago');
    expect(timeAgo(ago(5 * 60 + 59), NOW)).toBe('5 minutes ago');
    expect(timeAgo(ago(2 * 3600), NOW)).toBe('2 hours ago');
    expect(timeAgo(ago(3 * 86400 + 100), NOW)).toBe('3 days ago');
    expect(timeAgo(ago(45 * 86400), NOW)).toBe('1 month ago');
    expect(timeAgo(ago(800 * 86400), NOW)).toBe('2 years ago');
  });

  it('accepts ISO strings and epoch milliseconds alike', () => {
    expect(timeAgo(NOW - 3 * 86400_000, NOW)).toBe('3 days ago');
  });

  it("words the device list's times", () => {
    expect(describeTime('signed-in', ago(3 * 86400), NOW)).toBe('Signed in 3 days ago');
    expect(describeTime('active', ago(30), NOW)).toBe('Active now');
    expect(describeTime('active', ago(5 * 60), NOW)).toBe('Active 5 minutes ago');
    expect(describeTime('current', ago(3600), NOW)).toBe('Active now');
    expect(describeTime('ago', ago(2 * 3600), NOW)).toBe('2 hours ago');
  });
});
