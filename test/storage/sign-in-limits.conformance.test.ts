import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { ClientInfo } from '../../src/core/records.js';
import type { NewSession } from '../../src/storage/store.js';
import { afterFailure, type SignInClaim, type SignInCounters, type SignInLimitPolicy } from '../../src/core/sign-in-limits.js';
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
/** Limits no test here reaches: every claim is allowed, so each is one counted failure. */
const OPEN: SignInLimitPolicy = { maxConsecutiveFailures: 1_000_000, maxFailuresPerHour: 1_000_000, ipMaxFailures: 0 };
const POLICY: SignInLimitPolicy = { maxConsecutiveFailures: 10, maxFailuresPerHour: 100, ipMaxFailures: 100 };

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
const START = { replaceSameDevice: false, maxSessions: 0, passwordHash: HASH };
const CLIENT: ClientInfo = {
  ip: '203.0.113.7',
  userAgent: 'test',
  device: { browser: null, os: null, type: 'unknown', label: 'Unknown device' },
  country: null,
};

function aSession(userId: string, at: number): NewSession {
  const id = `session-${randomUUID()}`;
  return {
    id,
    userId,
    createdAt: at,
    authenticatedAt: at,
    lastActiveAt: at,
    idleExpiresAt: at + DAY,
    expiresAt: at + 30 * DAY,
    client: CLIENT,
    refresh: { hash: `sha256:${id}`, key: `key-${id}`, generation: 0, rotatedAt: null, previousRotatedAt: null, sealedSuccessor: null },
  };
}

async function fail(store: KyselyStore, email: string, ip: string, at: number, policy = OPEN): Promise<SignInClaim> {
  return store.claimSignInAttempt(email, ip, policy, at);
}

describe.each(DATABASES)('sign-in failure counters on %s', (kind) => {
  let store: KyselyStore;
  let database: TestDatabase;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, database, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  async function aUserWithEmail(emailKey: string): Promise<string> {
    const user = await store.createUser({ id: `user-${emailKey}`, email: emailKey, emailKey, name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
    return user.id;
  }

  it('has no counters for an email or address that never failed', async () => {
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual(NONE);
  });

  it('counts a failure for the email key and for the address', async () => {
    await fail(store, 'ann@example.com', '203.0.113.7', T0);
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
      await fail(store, 'ann@example.com', '2001:db8::1', at);
      expected = afterFailure(expected, at);
      expect(await store.signInLimits('ann@example.com', '2001:db8::1')).toEqual(expected);
    }
    expect(expected.account).toMatchObject({ consecutive: 6, windowStart: T0 + 3 * HOUR, windowCount: 1 });
  });

  it('on success resets the consecutive count and takes the attempt back off the hourly and address windows', async () => {
    for (let i = 0; i < 3; i++) await fail(store, 'ann@example.com', '203.0.113.7', T0 + i * SECOND);
    const claim = await fail(store, 'ann@example.com', '203.0.113.7', T0 + 3 * SECOND);
    expect(claim).toMatchObject({ allowed: true, accountWindowStart: T0, addressWindowStart: T0 });
    if (!claim.allowed) return;
    await store.recordSignInSuccess('ann@example.com', '203.0.113.7', claim);
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual({
      account: { consecutive: 0, lastFailureAt: T0 + 3 * SECOND, windowStart: T0, windowCount: 3 },
      address: { windowStart: T0, windowCount: 3 },
    });
  });

  it('counts a sign-in a success with its session, in startSession', async () => {
    const ann = await aUserWithEmail('ann@example.com');
    for (let i = 0; i < 3; i++) await fail(store, 'ann@example.com', '203.0.113.7', T0 + i * SECOND);
    const claim = await fail(store, 'ann@example.com', '203.0.113.7', T0 + 3 * SECOND);
    if (!claim.allowed) throw new Error('claim refused');
    const signInSuccess = { emailKey: 'ann@example.com', ip: '203.0.113.7', claim };
    await store.startSession(aSession(ann, T0 + 3 * SECOND), { ...START, signInSuccess });
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual({
      account: { consecutive: 0, lastFailureAt: T0 + 3 * SECOND, windowStart: T0, windowCount: 3 },
      address: { windowStart: T0, windowCount: 3 },
    });
  });

  it('keeps the attempt counted as a failure when startSession refuses the sign-in (the password changed meanwhile)', async () => {
    const ann = await aUserWithEmail('ann@example.com');
    const claim = await fail(store, 'ann@example.com', '203.0.113.7', T0);
    if (!claim.allowed) throw new Error('claim refused');
    const counted = await store.signInLimits('ann@example.com', '203.0.113.7');
    const signInSuccess = { emailKey: 'ann@example.com', ip: '203.0.113.7', claim };
    await expect(store.startSession(aSession(ann, T0), { ...START, passwordHash: 'the old hash', signInSuccess })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual(counted);
  });

  it('refuses a claim inside a lock without changing any counter', async () => {
    for (let i = 0; i < 10; i++) expect(await fail(store, 'ann@example.com', `198.51.100.${i}`, T0 + i * SECOND, POLICY)).toMatchObject({ allowed: true });
    const before = await store.signInLimits('ann@example.com', '203.0.113.7');
    expect(await fail(store, 'ann@example.com', '203.0.113.7', T0 + 20 * SECOND, POLICY)).toEqual({ allowed: false, retryAfterSeconds: 19 });
    expect(await store.signInLimits('ann@example.com', '203.0.113.7')).toEqual(before);
  });

  it('of 30 parallel claims for one email on two nodes allows exactly 10, and counts exactly those', async () => {
    const other = await openStore(database.location);
    let claims: SignInClaim[];
    try {
      claims = await Promise.all(Array.from({ length: 30 }, (_, i) => fail(i % 2 ? store : other, 'ann@example.com', `198.51.100.${i}`, T0, POLICY)));
    } finally {
      await other.close();
    }
    expect(claims.filter((c) => c.allowed)).toHaveLength(10);
    expect(claims.filter((c) => !c.allowed)).toHaveLength(20);
    expect((await store.signInLimits('ann@example.com', '198.51.100.0')).account).toEqual({
      consecutive: 10,
      lastFailureAt: T0,
      windowStart: T0,
      windowCount: 10,
    });
  });

  it('of 30 parallel claims from one address for many emails on two nodes allows exactly the address limit', async () => {
    const other = await openStore(database.location);
    const policy = { ...POLICY, ipMaxFailures: 12 };
    let claims: SignInClaim[];
    try {
      claims = await Promise.all(Array.from({ length: 30 }, (_, i) => fail(i % 2 ? store : other, `u${i}@example.com`, '192.0.2.66', T0, policy)));
    } finally {
      await other.close();
    }
    expect(claims.filter((c) => c.allowed)).toHaveLength(12);
    // The refused ones gave their places back: exactly the allowed ones are counted.
    expect((await store.signInLimits('nobody@example.com', '192.0.2.66')).address).toEqual({ windowStart: T0, windowCount: 12 });
  });

  it('loses no count when two nodes record failures for one email and address at the same moment', async () => {
    const other = await openStore(database.location);
    try {
      await Promise.all(Array.from({ length: 60 }, (_, i) => fail(i % 2 === 0 ? store : other, 'ann@example.com', '203.0.113.7', T0 + (i % 3))));
    } finally {
      await other.close();
    }
    const counters = await store.signInLimits('ann@example.com', '203.0.113.7');
    expect(counters.account).toMatchObject({ consecutive: 60, windowCount: 60, lastFailureAt: T0 + 2 });
    expect(counters.address).toMatchObject({ windowCount: 60 });
  });

  it('purges emails with no failure for a day and addresses whose window has closed, keeping the rest', async () => {
    await fail(store, 'old@example.com', '198.51.100.1', T0);
    await fail(store, 'recent@example.com', '198.51.100.2', T0 + DAY);
    const now = T0 + DAY + 10 * MINUTE;
    expect(await store.purgeSignInFailures(now - DAY, now - 15 * MINUTE, 500)).toBe(2);
    expect(await store.signInLimits('old@example.com', '198.51.100.1')).toEqual(NONE);
    expect(await store.signInLimits('recent@example.com', '198.51.100.2')).toEqual({
      account: { consecutive: 1, lastFailureAt: T0 + DAY, windowStart: T0 + DAY, windowCount: 1 },
      address: { windowStart: T0 + DAY, windowCount: 1 },
    });
  });

  it('purges at most `limit` rows of each kind at a time', async () => {
    for (let i = 0; i < 5; i++) await fail(store, `u${i}@example.com`, `198.51.100.${i}`, T0);
    expect(await store.purgeSignInFailures(T0 + 1, T0 + 1, 3)).toBe(6);
    expect(await store.purgeSignInFailures(T0 + 1, T0 + 1, 3)).toBe(4);
    expect(await store.purgeSignInFailures(T0 + 1, T0 + 1, 3)).toBe(0);
  });
});
