import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { afterFailure, type SignInCounters } from '../../src/core/sign-in-limits.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { createTestStore, DATABASES, type TestDatabase } from '../helpers/databases.js';

/**
 * The Store contract of the brute-force counters (src/storage/store.ts), on every database: the
 * SQL counts exactly what core's `afterFailure` says, and loses no count to parallel writers.
 */

const T0 = Date.parse('2026-11-27T09:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NONE: SignInCounters = { account: undefined, address: undefined };

describe.each(DATABASES)('sign-in failure counters on %s', (kind) => {
  let store: KyselyStore;
  let database: TestDatabase;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, database, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  it('has no counters for an email or address that never failed', async () => {
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual(NONE);
  });

  it('counts a failure for the email key and for the address', async () => {
    await store.recordSignInFailure('ann@example.com', '203.0.113.7', T0);
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual({
      account: { consecutive: 1, lastFailureAt: T0, windowStart: T0, windowCount: 1 },
      address: { windowStart: T0, windowCount: 1 },
    });
    // Another email from that address sees the address's count, not Ann's.
    expect(await store.signInLimits('bob@example.com', '203.0.113.7')).toEqual({ account: undefined, address: { windowStart: T0, windowCount: 1 } });
  });

  it('counts exactly as the core rule says, opening a new window when the old one is over', async () => {
    let expected = NONE;
    // Failures 40 minutes apart: the hour window and the 15-minute address window both roll over.
    for (const at of [T0, T0 + 5 * MINUTE, T0 + 40 * MINUTE, T0 + 80 * MINUTE, T0 + 81 * MINUTE, T0 + 3 * HOUR]) {
      await store.recordSignInFailure('ann@example.com', '2001:db8::1', at);
      expected = afterFailure(expected, at);
      expect(await store.signInLimits('ann@example.com', '2001:db8::1')).toEqual(expected);
    }
    expect(expected.account).toMatchObject({ consecutive: 6, windowStart: T0 + 3 * HOUR, windowCount: 1 });
  });

  it('resets only the consecutive count on success: the hourly and address counts stay', async () => {
    for (let i = 0; i < 3; i++) await store.recordSignInFailure('ann@example.com', '203.0.113.7', T0 + i * SECOND);
    await store.recordSignInSuccess('ann@example.com');
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual({
      account: { consecutive: 0, lastFailureAt: T0 + 2 * SECOND, windowStart: T0, windowCount: 3 },
      address: { windowStart: T0, windowCount: 3 },
    });
  });

  it('loses no count when two nodes record failures for one email and address at the same moment', async () => {
    const other = await openStore(database.location);
    try {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? store : other).recordSignInFailure('ann@example.com', '203.0.113.7', T0 + (i % 3))),
      );
    } finally {
      await other.close();
    }
    const counters = await store.signInLimits('ann@example.com', '203.0.113.7');
    expect(counters.account).toMatchObject({ consecutive: 60, windowCount: 60, lastFailureAt: T0 + 2 });
    expect(counters.address).toMatchObject({ windowCount: 60 });
  });

  it('purges emails with no failure for a day and addresses whose window has closed, keeping the rest', async () => {
    await store.recordSignInFailure('old@example.com', '198.51.100.1', T0);
    await store.recordSignInFailure('recent@example.com', '198.51.100.2', T0 + DAY);
    const now = T0 + DAY + 10 * MINUTE;
    expect(await store.purgeSignInFailures(now - DAY, now - 15 * MINUTE, 500)).toBe(2);
    expect(await store.signInLimits('old@example.com', '198.51.100.1')).toEqual(NONE);
    expect(await store.signInLimits('recent@example.com', '198.51.100.2')).toEqual({
      account: { consecutive: 1, lastFailureAt: T0 + DAY, windowStart: T0 + DAY, windowCount: 1 },
      address: { windowStart: T0 + DAY, windowCount: 1 },
    });
  });

  it('purges at most `limit` rows of each kind at a time', async () => {
    for (let i = 0; i < 5; i++) await store.recordSignInFailure(`u${i}@example.com`, `198.51.100.${i}`, T0);
    expect(await store.purgeSignInFailures(T0 + 1, T0 + 1, 3)).toBe(6);
    expect(await store.purgeSignInFailures(T0 + 1, T0 + 1, 3)).toBe(4);
    expect(await store.purgeSignInFailures(T0 + 1, T0 + 1, 3)).toBe(0);
  });
});
