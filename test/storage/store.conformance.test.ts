import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/core/errors.js';
import {
  isSessionActive,
  type ClientInfo,
  type Revocation,
  type RevocationReason,
  type RevokedSession,
  type SessionRecord,
  type SigningKeyRecord,
  type UserRecord,
} from '../../src/core/records.js';
import { connect } from '../../src/storage/kysely/connect.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import type { NewSession, NewUser, RefreshRotation } from '../../src/storage/store.js';
import { createTestDatabase, createTestStore, DATABASES, type TestDatabase } from '../helpers/databases.js';

/**
 * The Store contract (src/storage/store.ts), held to the letter on every database Gatehouse
 * supports. Each test gets a fresh, migrated database, so no test depends on another's rows.
 */

const T0 = Date.parse('2026-11-27T09:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const HOME_FIREFOX: ClientInfo = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
  country: 'NL',
};
/** The same browser as HOME_FIREFOX, from another address. */
const OFFICE_FIREFOX: ClientInfo = { ...HOME_FIREFOX, ip: '198.51.100.20', country: 'DE' };
/** Another browser from the same address as HOME_FIREFOX. */
const HOME_IPHONE: ClientInfo = {
  ip: HOME_FIREFOX.ip,
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  device: { browser: 'Mobile Safari 17.1', os: 'iOS 17.1', type: 'mobile', label: 'Mobile Safari 17.1 on iOS 17.1' },
  country: 'NL',
};
/** A client nothing could be learned about: every optional field is null. */
const BARE_CLIENT: ClientInfo = {
  ip: '2001:db8::1',
  userAgent: '',
  device: { browser: null, os: null, type: 'unknown', label: 'Unknown device' },
  country: null,
};

/** Every test user's password hash, unless a test says otherwise; sign-ins are verified against it. */
const PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${String(++counter).padStart(5, '0')}`;

function aUser(overrides: Partial<NewUser> = {}): NewUser {
  const id = nextId('user');
  return {
    id,
    email: `${id}@Example.COM`,
    emailKey: `${id}@example.com`,
    name: 'Zoë Lee 🔑',
    passwordHash: PASSWORD_HASH,
    role: 'user',
    createdAt: T0,
    ...overrides,
  };
}

function aSession(userId: string, overrides: Partial<NewSession> = {}): NewSession {
  const id = nextId('session');
  return {
    id,
    userId,
    createdAt: T0,
    authenticatedAt: T0,
    lastActiveAt: T0,
    idleExpiresAt: T0 + 7 * DAY,
    expiresAt: T0 + 30 * DAY,
    client: HOME_FIREFOX,
    refresh: { hash: `sha256:${id}`, key: `key-${id}`, generation: 0, rotatedAt: null, previousRotatedAt: null, sealedSuccessor: null },
    ...overrides,
  };
}

function aSigningKey(createdAt: number, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = nextId('kid');
  return {
    kid,
    alg: 'EdDSA',
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: `public-${kid}`, kid }),
    privateJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: `public-${kid}`, d: `private-${kid}`, kid }),
    createdAt,
    activatesAt: createdAt,
    retiredAt: null,
    ...overrides,
  };
}

/** startSession options: end nothing, or replace same-device sessions (no cap in either). */
const NOTHING_ENDS = { replaceSameDevice: false, maxSessions: 0, passwordHash: PASSWORD_HASH };
const REPLACE = { replaceSameDevice: true, maxSessions: 0, passwordHash: PASSWORD_HASH };
/** startSession options that keep at most `maxSessions` active sessions per user. */
const capAt = (maxSessions: number, replaceSameDevice = false) => ({ replaceSameDevice, maxSessions, passwordHash: PASSWORD_HASH });

/** The same browser as HOME_FIREFOX from the n-th of many addresses: a device of its own. */
const fromAddress = (n: number): ClientInfo => ({ ...HOME_FIREFOX, ip: `192.0.2.${n}` });

const revocation = (reason: RevocationReason, by: string, at: number): Revocation => ({ reason, by, at });

/** Revocation results carry no promised order; compare them as sets. */
const sorted = (revoked: RevokedSession[]) => [...revoked].sort((a, b) => a.id.localeCompare(b.id));

/** What findSession must return for a session started with `session` and never revoked. */
const stored = (session: NewSession): SessionRecord => ({ ...session, revokedAt: null, revokedReason: null, revokedBy: null });

describe.each(DATABASES)('the store on %s', (kind) => {
  let store: KyselyStore;
  let database: TestDatabase;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, database, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  async function aStoredUser(overrides: Partial<NewUser> = {}): Promise<UserRecord> {
    return store.createUser(aUser(overrides));
  }

  /** Records a sign-in that replaces nothing and returns what was stored. */
  async function signIn(userId: string, overrides: Partial<NewSession> = {}): Promise<NewSession> {
    const session = aSession(userId, overrides);
    expect(await store.startSession(session, NOTHING_ENDS)).toEqual({ replaced: [], evicted: [], newDevice: false });
    return session;
  }

  async function sessionState(id: string) {
    const session = await store.findSession(id);
    if (!session) throw new Error(`session ${id} is gone`);
    return { revokedAt: session.revokedAt, revokedReason: session.revokedReason, revokedBy: session.revokedBy };
  }

  const ACTIVE = { revokedAt: null, revokedReason: null, revokedBy: null };

  describe('users', () => {
    it('returns a created user, with every field, by id and by email key', async () => {
      const input = aUser({ role: 'admin', createdAt: T0 + 123 });
      const created = await store.createUser(input);

      const expected: UserRecord = { ...input, disabledAt: null, updatedAt: T0 + 123, passwordChangedAt: T0 + 123, emailVerifiedAt: null };
      expect(created).toStrictEqual(expected);
      expect(await store.findUserById(input.id)).toStrictEqual(expected);
      expect(await store.findUserByEmail(input.emailKey)).toStrictEqual(expected);
    });

    it('hands times back as numbers, not strings or bigints', async () => {
      const user = await aStoredUser();
      const found = await store.findUserById(user.id);
      for (const time of [found?.createdAt, found?.updatedAt, found?.passwordChangedAt]) expect(typeof time).toBe('number');
      expect(found?.disabledAt).toBeNull();
    });

    it('keeps a user without a name as null', async () => {
      const user = await aStoredUser({ name: null });
      expect((await store.findUserById(user.id))?.name).toBeNull();
    });

    it('finds no user for an unknown id or email key', async () => {
      await aStoredUser();
      expect(await store.findUserById('user-nobody')).toBeUndefined();
      expect(await store.findUserByEmail('nobody@example.com')).toBeUndefined();
    });

    it('refuses a second user with the same email key as email_taken and keeps the first', async () => {
      const first = await aStoredUser({ emailKey: 'ann@example.com' });
      const error = await store.createUser(aUser({ emailKey: 'ann@example.com', email: 'ANN@example.com' })).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(GatehouseError);
      expect((error as GatehouseError).code).toBe('email_taken');
      expect(await store.findUserByEmail('ann@example.com')).toStrictEqual(first);
    });

    it('lets exactly one of several simultaneous sign-ups of one email key win', async () => {
      const attempts = Array.from({ length: 5 }, () => aUser({ emailKey: 'race@example.com' }));
      const results = await Promise.allSettled(attempts.map((user) => store.createUser(user)));

      const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(winners).toHaveLength(1);
      expect(losers.map((e) => (e instanceof GatehouseError ? e.code : e))).toEqual(Array(4).fill('email_taken'));
      expect((await store.findUserByEmail('race@example.com'))?.id).toBe(winners[0]?.id);
    });
  });

  describe('starting and finding sessions', () => {
    it('stores every field of a sign-in and finds it again, times as numbers', async () => {
      const user = await aStoredUser();
      const session = aSession(user.id, {
        createdAt: T0 + 1,
        authenticatedAt: T0 + 2,
        lastActiveAt: T0 + 3,
        idleExpiresAt: T0 + 7 * DAY + 4,
        expiresAt: T0 + 30 * DAY + 5,
        client: HOME_IPHONE,
      });
      await store.startSession(session, REPLACE);

      const found = await store.findSession(session.id);
      expect(found).toStrictEqual(stored(session));
      for (const time of [found?.createdAt, found?.authenticatedAt, found?.lastActiveAt, found?.idleExpiresAt, found?.expiresAt]) {
        expect(typeof time).toBe('number');
      }
    });

    it('keeps the unknown parts of a client (browser, os, country) as null', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id, { client: BARE_CLIENT });
      expect((await store.findSession(session.id))?.client).toStrictEqual(BARE_CLIENT);
    });

    it('finds no session for an unknown id', async () => {
      expect(await store.findSession('session-nobody')).toBeUndefined();
    });

    it('refuses a second session with an existing id', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      await expect(store.startSession({ ...session, refresh: { ...session.refresh, hash: 'other' } }, NOTHING_ENDS)).rejects.toThrow();
      expect((await store.findSession(session.id))?.refresh.hash).toBe(session.refresh.hash);
    });

    it('revokes nothing when replacing same-device sessions is off', async () => {
      const user = await aStoredUser();
      const earlier = await signIn(user.id);
      const again = aSession(user.id, { createdAt: T0 + HOUR });

      expect(await store.startSession(again, NOTHING_ENDS)).toEqual({ replaced: [], evicted: [], newDevice: false });
      expect(await sessionState(earlier.id)).toEqual(ACTIVE);
      expect(await sessionState(again.id)).toEqual(ACTIVE);
    });

    it('replaces only the same user’s active sessions from the same user agent and the same IP', async () => {
      const ann = await aStoredUser();
      const bob = await aStoredUser();
      const sameDevice = await signIn(ann.id, { client: HOME_FIREFOX });
      const sameDeviceToo = await signIn(ann.id, { client: HOME_FIREFOX });
      const otherIp = await signIn(ann.id, { client: OFFICE_FIREFOX });
      const otherAgent = await signIn(ann.id, { client: HOME_IPHONE });
      const alreadyOut = await signIn(ann.id, { client: HOME_FIREFOX });
      await store.revokeSession(ann.id, alreadyOut.id, revocation('logout', ann.id, T0 + MINUTE));
      const bobsSameDevice = await signIn(bob.id, { client: HOME_FIREFOX });

      const at = T0 + HOUR;
      const next = aSession(ann.id, { client: HOME_FIREFOX, createdAt: at, authenticatedAt: at, lastActiveAt: at });
      const { replaced } = await store.startSession(next, REPLACE);

      expect(sorted(replaced)).toEqual(
        sorted([
          { id: sameDevice.id, revokedAt: at },
          { id: sameDeviceToo.id, revokedAt: at },
        ]),
      );
      for (const id of [sameDevice.id, sameDeviceToo.id]) {
        expect(await sessionState(id)).toEqual({ revokedAt: at, revokedReason: 'replaced', revokedBy: ann.id });
      }
      for (const id of [otherIp.id, otherAgent.id, bobsSameDevice.id]) expect(await sessionState(id)).toEqual(ACTIVE);
      expect(await sessionState(alreadyOut.id)).toEqual({ revokedAt: T0 + MINUTE, revokedReason: 'logout', revokedBy: ann.id });
      expect(await store.findSession(next.id)).toStrictEqual(stored(next));
    });

    it('revokes nothing when the new sign-in cannot be stored (one transaction)', async () => {
      const user = await aStoredUser();
      const earlier = await signIn(user.id, { client: HOME_FIREFOX });
      const taken = await signIn(user.id, { client: OFFICE_FIREFOX });

      // Same device as `earlier`, but an id that exists: the insert fails after the replacement.
      const clash = aSession(user.id, { id: taken.id, client: HOME_FIREFOX, createdAt: T0 + HOUR });
      await expect(store.startSession(clash, REPLACE)).rejects.toThrow();

      expect(await sessionState(earlier.id)).toEqual(ACTIVE);
      expect(await store.listRevokedSince(0)).toEqual([]);
    });
  });

  describe('the session cap (startSession with maxSessions)', () => {
    /** Signs in at `at` under the cap; returns the session and what its start ended. */
    async function signInCapped(userId: string, maxSessions: number, at: number, overrides: Partial<NewSession> = {}) {
      const session = aSession(userId, { createdAt: at, authenticatedAt: at, lastActiveAt: at, ...overrides });
      return { session, ...(await store.startSession(session, capAt(maxSessions))) };
    }

    const endedBySessionLimit = (userId: string, at: number) => ({ revokedAt: at, revokedReason: 'session_limit', revokedBy: userId });

    it('ends nothing while the user is within the cap, the new sign-in included', async () => {
      const user = await aStoredUser();
      const first = await signIn(user.id);
      const second = await signIn(user.id, { client: OFFICE_FIREFOX });

      const { session: third, replaced, evicted } = await signInCapped(user.id, 3, T0 + HOUR);
      expect({ replaced, evicted }).toEqual({ replaced: [], evicted: [] });
      for (const id of [first.id, second.id, third.id]) expect(await sessionState(id)).toEqual(ACTIVE);
    });

    it('ends the least recently active session beyond the cap, as session_limit by the user at the sign-in’s time', async () => {
      const user = await aStoredUser();
      const recent = await signIn(user.id, { lastActiveAt: T0 + 3 * HOUR });
      const stale = await signIn(user.id, { lastActiveAt: T0 + 1 * HOUR, client: OFFICE_FIREFOX });
      const middle = await signIn(user.id, { lastActiveAt: T0 + 2 * HOUR, client: HOME_IPHONE });

      const at = T0 + 4 * HOUR;
      const { session: next, replaced, evicted } = await signInCapped(user.id, 3, at);

      expect(replaced).toEqual([]);
      expect(evicted).toStrictEqual([{ id: stale.id, revokedAt: at }]);
      expect(await store.findSession(stale.id)).toStrictEqual({ ...stored(stale), ...endedBySessionLimit(user.id, at) });
      for (const id of [recent.id, middle.id]) expect(await sessionState(id)).toEqual(ACTIVE);
      expect(await store.findSession(next.id)).toStrictEqual(stored(next));
    });

    it('ends as many of the least recently active as it takes, down to the cap', async () => {
      const user = await aStoredUser();
      const byActivity: NewSession[] = [];
      for (let hour = 1; hour <= 5; hour++) byActivity.push(await signIn(user.id, { lastActiveAt: T0 + hour * HOUR, client: fromAddress(hour) }));

      const at = T0 + DAY;
      const { session: next, evicted } = await signInCapped(user.id, 2, at);

      const [oldest, second, third, fourth, newest] = byActivity;
      expect(sorted(evicted)).toEqual(sorted([oldest!, second!, third!, fourth!].map((s) => ({ id: s.id, revokedAt: at }))));
      for (const s of [oldest!, second!, third!, fourth!]) expect(await sessionState(s.id)).toEqual(endedBySessionLimit(user.id, at));
      expect((await store.listUserSessions(user.id, at)).map((s) => s.id)).toEqual([next.id, newest!.id]);
    });

    it('with a cap of one, keeps only the new sign-in', async () => {
      const user = await aStoredUser();
      const earlier = [await signIn(user.id), await signIn(user.id, { client: HOME_IPHONE })];

      const at = T0 + HOUR;
      const { session: next, evicted } = await signInCapped(user.id, 1, at);

      expect(sorted(evicted)).toEqual(sorted(earlier.map((s) => ({ id: s.id, revokedAt: at }))));
      expect((await store.listUserSessions(user.id, at)).map((s) => s.id)).toEqual([next.id]);
    });

    it('breaks a tie in last activity by ending the earlier created session', async () => {
      const user = await aStoredUser();
      const later = await signIn(user.id, { createdAt: T0 + 2 * MINUTE, lastActiveAt: T0 + HOUR });
      const earlier = await signIn(user.id, { createdAt: T0 + 1 * MINUTE, lastActiveAt: T0 + HOUR, client: OFFICE_FIREFOX });

      const at = T0 + 2 * HOUR;
      const { evicted } = await signInCapped(user.id, 2, at);

      expect(evicted).toStrictEqual([{ id: earlier.id, revokedAt: at }]);
      expect(await sessionState(later.id)).toEqual(ACTIVE);
    });

    it('always keeps the new sign-in, even when it looks less recently active than the others', async () => {
      const user = await aStoredUser();
      const busy = [await signIn(user.id, { lastActiveAt: T0 + 5 * HOUR }), await signIn(user.id, { lastActiveAt: T0 + 6 * HOUR })];

      const at = T0 + 7 * HOUR;
      const { session: next, evicted } = await signInCapped(user.id, 2, at, { lastActiveAt: T0 });

      expect(evicted).toStrictEqual([{ id: busy[0]!.id, revokedAt: at }]);
      expect(await store.findSession(next.id)).toStrictEqual(stored(next));
      expect(await sessionState(busy[1]!.id)).toEqual(ACTIVE);
    });

    it('counts only the user’s own active sessions and leaves the rest untouched', async () => {
      const ann = await aStoredUser();
      const bob = await aStoredUser();
      const at = T0 + DAY;
      const kept = await signIn(ann.id, { lastActiveAt: T0 + HOUR });
      const loggedOut = await signIn(ann.id, { lastActiveAt: T0 + 2 * HOUR });
      await store.revokeSession(ann.id, loggedOut.id, revocation('logout', ann.id, T0 + 3 * HOUR));
      const idle = await signIn(ann.id, { lastActiveAt: T0, idleExpiresAt: at - 1 });
      const old = await signIn(ann.id, { lastActiveAt: T0, expiresAt: at });
      const bobs = [await signIn(bob.id, { lastActiveAt: T0 }), await signIn(bob.id, { lastActiveAt: T0 })];

      const { session: next, evicted } = await signInCapped(ann.id, 2, at);

      expect(evicted).toEqual([]);
      expect((await store.listUserSessions(ann.id, at)).map((s) => s.id)).toEqual([next.id, kept.id]);
      expect(await sessionState(loggedOut.id)).toEqual({ revokedAt: T0 + 3 * HOUR, revokedReason: 'logout', revokedBy: ann.id });
      for (const s of [idle, old, ...bobs]) expect(await store.findSession(s.id)).toStrictEqual(stored(s));
    });

    it('does not count sessions replaced by the same sign-in, and reports each ended session in its own list', async () => {
      const user = await aStoredUser();
      const sameDevice = await signIn(user.id, { client: HOME_FIREFOX, lastActiveAt: T0 + 5 * HOUR });
      const oldest = await signIn(user.id, { client: OFFICE_FIREFOX, lastActiveAt: T0 + 1 * HOUR });
      const middle = await signIn(user.id, { client: HOME_IPHONE, lastActiveAt: T0 + 2 * HOUR });
      const newest = await signIn(user.id, { client: BARE_CLIENT, lastActiveAt: T0 + 3 * HOUR });

      const at = T0 + DAY;
      const next = aSession(user.id, { client: HOME_FIREFOX, createdAt: at, authenticatedAt: at, lastActiveAt: at });
      const { replaced, evicted } = await store.startSession(next, capAt(3, true));

      expect(replaced).toStrictEqual([{ id: sameDevice.id, revokedAt: at }]);
      expect(evicted).toStrictEqual([{ id: oldest.id, revokedAt: at }]);
      expect(await sessionState(sameDevice.id)).toEqual({ revokedAt: at, revokedReason: 'replaced', revokedBy: user.id });
      expect(await sessionState(oldest.id)).toEqual(endedBySessionLimit(user.id, at));
      expect((await store.listUserSessions(user.id, at)).map((s) => s.id)).toEqual([next.id, newest.id, middle.id]);
    });

    it('evicts nothing when the cap is off (zero)', async () => {
      const user = await aStoredUser();
      for (let n = 0; n < 5; n++) await signIn(user.id, { client: fromAddress(n) });

      const { evicted } = await signInCapped(user.id, 0, T0 + HOUR);
      expect(evicted).toEqual([]);
      expect(await store.listUserSessions(user.id, T0 + HOUR)).toHaveLength(6);
    });

    it('never overshoots the cap when one user signs in many times at once', async () => {
      const cap = 3;
      for (let round = 0; round < 5; round++) {
        const user = await aStoredUser();
        const sessions = Array.from({ length: 10 }, (_, n) => aSession(user.id, { client: fromAddress(n) }));
        const starts = await Promise.all(sessions.map((s) => store.startSession(s, capAt(cap, true))));

        const active = await store.listUserSessions(user.id, T0);
        expect(active).toHaveLength(cap);
        const activeIds = new Set(active.map((s) => s.id));
        const evictedIds = starts.flatMap((s) => s.evicted.map((e) => e.id));
        expect(starts.flatMap((s) => s.replaced)).toEqual([]);
        // Every session not left active was ended by the cap, and reported so exactly once.
        expect([...evictedIds].sort()).toEqual(
          sessions
            .map((s) => s.id)
            .filter((id) => !activeIds.has(id))
            .sort(),
        );
        for (const id of evictedIds) expect(await sessionState(id)).toEqual(endedBySessionLimit(user.id, T0));
      }
    });
  });

  describe('listUserSessions', () => {
    it('lists only the user’s active sessions at `now`, most recently active first', async () => {
      const ann = await aStoredUser();
      const bob = await aStoredUser();
      const now = T0 + 10 * HOUR;
      const older = await signIn(ann.id, { lastActiveAt: T0 + 1 * HOUR });
      const newest = await signIn(ann.id, { lastActiveAt: T0 + 3 * HOUR, client: HOME_IPHONE });
      const middle = await signIn(ann.id, { lastActiveAt: T0 + 2 * HOUR, client: BARE_CLIENT });
      const revoked = await signIn(ann.id, { lastActiveAt: T0 + 4 * HOUR });
      await store.revokeSession(ann.id, revoked.id, revocation('logout', ann.id, T0 + 5 * HOUR));
      await signIn(ann.id, { lastActiveAt: T0 + 5 * HOUR, idleExpiresAt: now - 1 }); // idle too long
      await signIn(ann.id, { lastActiveAt: T0 + 5 * HOUR, expiresAt: now - 1 }); // past its absolute lifetime
      await signIn(bob.id, { lastActiveAt: T0 + 6 * HOUR });

      const listed = await store.listUserSessions(ann.id, now);
      expect(listed.map((s) => s.id)).toEqual([newest.id, middle.id, older.id]);
      expect(listed).toStrictEqual([stored(newest), stored(middle), stored(older)]);
    });

    it('drops a session at the very millisecond either lifetime ends, as isSessionActive does', async () => {
      const user = await aStoredUser();
      const idle = await signIn(user.id, { idleExpiresAt: T0 + HOUR, expiresAt: T0 + DAY });
      const absolute = await signIn(user.id, { idleExpiresAt: T0 + DAY, expiresAt: T0 + HOUR });

      for (const now of [T0 + HOUR - 1, T0 + HOUR]) {
        const listed = (await store.listUserSessions(user.id, now)).map((s) => s.id);
        const expected = [idle, absolute].filter((s) => isSessionActive(stored(s), now)).map((s) => s.id);
        expect(listed.sort()).toEqual(expected.sort());
      }
      expect(await store.listUserSessions(user.id, T0 + HOUR - 1)).toHaveLength(2);
      expect(await store.listUserSessions(user.id, T0 + HOUR)).toEqual([]);
    });

    it('lists nothing for a user without sessions', async () => {
      const user = await aStoredUser();
      expect(await store.listUserSessions(user.id, T0)).toEqual([]);
    });
  });

  describe('markReauthenticated', () => {
    it('moves an active session’s last password proof and nothing else', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);

      expect(await store.markReauthenticated(session.id, T0 + HOUR)).toBe(true);
      expect(await store.findSession(session.id)).toStrictEqual({ ...stored(session), authenticatedAt: T0 + HOUR });
    });

    it('refuses a revoked session and leaves its last proof where it was', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      await store.revokeSession(user.id, session.id, revocation('logout', user.id, T0 + MINUTE));

      expect(await store.markReauthenticated(session.id, T0 + HOUR)).toBe(false);
      expect((await store.findSession(session.id))?.authenticatedAt).toBe(T0);
    });

    it('refuses a session that has gone idle or outlived its absolute lifetime', async () => {
      const user = await aStoredUser();
      const idle = await signIn(user.id, { idleExpiresAt: T0 + HOUR });
      const old = await signIn(user.id, { expiresAt: T0 + HOUR });

      expect(await store.markReauthenticated(idle.id, T0 + HOUR)).toBe(false);
      expect(await store.markReauthenticated(old.id, T0 + HOUR)).toBe(false);
      expect((await store.findSession(idle.id))?.authenticatedAt).toBe(T0);
      expect((await store.findSession(old.id))?.authenticatedAt).toBe(T0);
    });

    it('refuses an unknown session', async () => {
      expect(await store.markReauthenticated('session-nobody', T0)).toBe(false);
    });
  });

  describe('findSessionWithUser', () => {
    it('returns the session and its user, every field of both, times as numbers, in one call', async () => {
      const user = await aStoredUser({ role: 'admin', createdAt: T0 + 1 });
      const session = await signIn(user.id, { client: HOME_IPHONE, lastActiveAt: T0 + 5, idleExpiresAt: T0 + DAY + 6 });
      await store.changePassword({
        userId: user.id,
        currentPasswordHash: PASSWORD_HASH,
        passwordHash: '$argon2id$new',
        keepSessionId: session.id,
        revocation: revocation('password_changed', user.id, T0 + 2),
      });
      // Every user time different, so a swapped column cannot pass unnoticed.
      await store.db
        .updateTable('users')
        .set({ disabled_at: T0 + 3, updated_at: T0 + 4 })
        .where('id', '=', user.id)
        .execute();

      const found = await store.findSessionWithUser(session.id);
      expect(found).toStrictEqual({
        session: stored(session),
        user: { ...user, passwordHash: '$argon2id$new', passwordChangedAt: T0 + 2, disabledAt: T0 + 3, updatedAt: T0 + 4 },
      });
      expect(found?.user).toStrictEqual(await store.findUserById(user.id));
      for (const time of [found?.user.createdAt, found?.user.updatedAt, found?.user.passwordChangedAt, found?.user.disabledAt]) {
        expect(typeof time).toBe('number');
      }
      expect(typeof found?.session.refresh.generation).toBe('number');
    });

    it('returns a revoked session too, with its revocation, as findSession does', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      await store.revokeSession(user.id, session.id, revocation('logout', user.id, T0 + HOUR));

      const found = await store.findSessionWithUser(session.id);
      expect(found?.session).toStrictEqual(await store.findSession(session.id));
      expect(found?.session.revokedReason).toBe('logout');
      expect(found?.user).toStrictEqual(user);
    });

    it('returns the right user among several', async () => {
      const ann = await aStoredUser();
      const bob = await aStoredUser({ name: null });
      await signIn(ann.id);
      const bobs = await signIn(bob.id);

      expect(await store.findSessionWithUser(bobs.id)).toStrictEqual({ session: stored(bobs), user: bob });
    });

    it('returns undefined for an unknown session', async () => {
      const user = await aStoredUser();
      await signIn(user.id);
      expect(await store.findSessionWithUser('session-nobody')).toBeUndefined();
    });
  });

  describe('rotateRefresh', () => {
    /** A rotation that presents the session's current token at T0 + HOUR. */
    function aRotation(session: Pick<SessionRecord, 'id' | 'refresh'>, overrides: Partial<RefreshRotation> = {}): RefreshRotation {
      const secret = nextId('secret');
      return {
        sessionId: session.id,
        presentedHash: session.refresh.hash,
        generation: session.refresh.generation,
        nextHash: `sha256:${secret}`,
        sealedSuccessor: `sealed:${secret}`,
        at: T0 + HOUR,
        idleExpiresAt: T0 + HOUR + 7 * DAY,
        ...overrides,
      };
    }

    /** What the session must look like after `rotation` won. */
    const rotated = (session: SessionRecord, rotation: RefreshRotation): SessionRecord => ({
      ...session,
      lastActiveAt: rotation.at,
      idleExpiresAt: rotation.idleExpiresAt,
      refresh: {
        ...session.refresh,
        hash: rotation.nextHash,
        generation: rotation.generation + 1,
        previousRotatedAt: session.refresh.rotatedAt,
        rotatedAt: rotation.at,
        sealedSuccessor: rotation.sealedSuccessor,
      },
    });

    it('spends the current token and stores its successor, moving activity and the idle expiry but not the absolute one', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      const rotation = aRotation(session, { at: T0 + HOUR, idleExpiresAt: T0 + HOUR + 3 * DAY });

      const expected = rotated(stored(session), rotation);
      expect(await store.rotateRefresh(rotation)).toStrictEqual(expected);
      expect(await store.findSession(session.id)).toStrictEqual(expected);
      expect(expected.expiresAt).toBe(session.expiresAt);
    });

    it('rotates a chain: each successor can be spent in turn, at the next generation', async () => {
      const user = await aStoredUser();
      let current: SessionRecord = stored(await signIn(user.id));
      for (let step = 1; step <= 3; step++) {
        const rotation = aRotation(current, { at: T0 + step * HOUR, idleExpiresAt: T0 + step * HOUR + DAY });
        const next = await store.rotateRefresh(rotation);
        expect(next).toStrictEqual(rotated(current, rotation));
        current = next!;
      }
      expect(current.refresh.generation).toBe(3);
    });

    it('changes nothing for a hash that is not the current one', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);

      expect(await store.rotateRefresh(aRotation(session, { presentedHash: 'sha256:forged' }))).toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
    });

    it('changes nothing for a token already spent, at its generation or the next', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      const first = await store.rotateRefresh(aRotation(session));

      expect(await store.rotateRefresh(aRotation(session, { at: T0 + 2 * HOUR }))).toBeUndefined();
      expect(await store.rotateRefresh(aRotation(session, { generation: 1, at: T0 + 2 * HOUR }))).toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(first);
    });

    it('changes nothing for the current hash at the wrong generation', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);

      for (const generation of [1, -1, 7]) expect(await store.rotateRefresh(aRotation(session, { generation }))).toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
    });

    it('changes nothing for a revoked session', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      await store.revokeSession(user.id, session.id, revocation('logout', user.id, T0 + MINUTE));
      const before = await store.findSession(session.id);

      expect(await store.rotateRefresh(aRotation(session))).toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(before);
    });

    it('changes nothing from the very millisecond the session goes idle, and rotates one millisecond before', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id, { idleExpiresAt: T0 + HOUR });

      expect(await store.rotateRefresh(aRotation(session, { at: T0 + HOUR }))).toBeUndefined();
      expect(await store.rotateRefresh(aRotation(session, { at: T0 + 2 * HOUR }))).toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
      expect(await store.rotateRefresh(aRotation(session, { at: T0 + HOUR - 1 }))).toBeDefined();
    });

    it('changes nothing from the very millisecond the session outlives its absolute lifetime, and rotates one millisecond before', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id, { expiresAt: T0 + HOUR });

      expect(await store.rotateRefresh(aRotation(session, { at: T0 + HOUR }))).toBeUndefined();
      expect(await store.rotateRefresh(aRotation(session, { at: T0 + 2 * HOUR }))).toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
      expect(await store.rotateRefresh(aRotation(session, { at: T0 + HOUR - 1 }))).toBeDefined();
    });

    it('changes nothing for an unknown session, and touches no other', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);

      expect(await store.rotateRefresh(aRotation(session, { sessionId: 'session-nobody' }))).toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
    });

    it('lets exactly one of many simultaneous rotations of one token win, and stores the winner’s successor', async () => {
      const user = await aStoredUser();
      for (let round = 0; round < 5; round++) {
        const session = await signIn(user.id, { client: fromAddress(round) });
        const rotations = Array.from({ length: 20 }, () => aRotation(session));
        const results = await Promise.all(rotations.map((r) => store.rotateRefresh(r)));

        const winners = results.flatMap((result, i) => (result ? [{ result, rotation: rotations[i]! }] : []));
        expect(winners).toHaveLength(1);
        const [{ result, rotation }] = winners as [(typeof winners)[number]];
        expect(result).toStrictEqual(rotated(stored(session), rotation));
        expect(await store.findSession(session.id)).toStrictEqual(result);
      }
    });
  });

  describe('recordActivity', () => {
    const IDLE_TTL = 7 * DAY;
    /** When the batch is written: after every `at` in these tests. */
    const WRITTEN_AT = T0 + 2 * HOUR;

    it('moves last activity and the idle expiry of many active sessions in one call, and nothing else', async () => {
      const user = await aStoredUser();
      const a = await signIn(user.id);
      const b = await signIn(user.id, { client: HOME_IPHONE });
      const untouched = await signIn(user.id, { client: OFFICE_FIREFOX });

      await store.recordActivity(
        [
          { sessionId: a.id, at: T0 + HOUR },
          { sessionId: b.id, at: T0 + 2 * HOUR },
        ],
        IDLE_TTL,
        WRITTEN_AT,
      );

      expect(await store.findSession(a.id)).toStrictEqual({ ...stored(a), lastActiveAt: T0 + HOUR, idleExpiresAt: T0 + HOUR + IDLE_TTL });
      expect(await store.findSession(b.id)).toStrictEqual({ ...stored(b), lastActiveAt: T0 + 2 * HOUR, idleExpiresAt: T0 + 2 * HOUR + IDLE_TTL });
      expect(await store.findSession(untouched.id)).toStrictEqual(stored(untouched));
    });

    it('writes a full batch of a thousand entries, known and unknown, in one call', async () => {
      const user = await aStoredUser();
      const sessions: NewSession[] = [];
      for (let n = 0; n < 20; n++) sessions.push(await signIn(user.id, { client: fromAddress(n) }));
      const seen = Array.from({ length: 1000 }, (_, n) => ({ sessionId: n < sessions.length ? sessions[n]!.id : `session-gone-${n}`, at: T0 + n + 1 }));

      await store.recordActivity(seen, IDLE_TTL, WRITTEN_AT);
      for (const [n, s] of sessions.entries()) expect((await store.findSession(s.id))?.lastActiveAt).toBe(T0 + n + 1);
    });

    it('never moves last activity backwards: an older time is ignored', async () => {
      const user = await aStoredUser();
      const recorded = await signIn(user.id);
      const lateStart = await signIn(user.id, { lastActiveAt: T0 + 3 * HOUR, idleExpiresAt: T0 + 3 * HOUR + IDLE_TTL });

      await store.recordActivity([{ sessionId: recorded.id, at: T0 + 2 * HOUR }], IDLE_TTL, WRITTEN_AT);
      await store.recordActivity(
        [
          { sessionId: recorded.id, at: T0 + HOUR },
          { sessionId: lateStart.id, at: T0 + HOUR },
        ],
        IDLE_TTL,
        WRITTEN_AT,
      );

      expect(await store.findSession(recorded.id)).toStrictEqual({ ...stored(recorded), lastActiveAt: T0 + 2 * HOUR, idleExpiresAt: T0 + 2 * HOUR + IDLE_TTL });
      expect(await store.findSession(lateStart.id)).toStrictEqual(stored(lateStart));
    });

    it('keeps the latest time when one batch names a session twice, in either order', async () => {
      const user = await aStoredUser();
      const latestFirst = await signIn(user.id);
      const latestLast = await signIn(user.id, { client: HOME_IPHONE });

      await store.recordActivity(
        [
          { sessionId: latestFirst.id, at: T0 + 2 * HOUR },
          { sessionId: latestLast.id, at: T0 + HOUR },
          { sessionId: latestFirst.id, at: T0 + HOUR },
          { sessionId: latestLast.id, at: T0 + 2 * HOUR },
        ],
        IDLE_TTL,
        WRITTEN_AT,
      );

      for (const session of [latestFirst, latestLast]) {
        expect(await store.findSession(session.id)).toStrictEqual({ ...stored(session), lastActiveAt: T0 + 2 * HOUR, idleExpiresAt: T0 + 2 * HOUR + IDLE_TTL });
      }
    });

    it('leaves revoked, idle and outlived sessions alone: activity revives no session', async () => {
      const user = await aStoredUser();
      const revoked = await signIn(user.id);
      await store.revokeSession(user.id, revoked.id, revocation('logout', user.id, T0 + MINUTE));
      const idle = await signIn(user.id, { idleExpiresAt: T0 + HOUR });
      const outlived = await signIn(user.id, { expiresAt: T0 + HOUR });
      const before = await store.findSession(revoked.id);

      await store.recordActivity(
        [
          { sessionId: revoked.id, at: T0 + 2 * MINUTE },
          { sessionId: idle.id, at: T0 + HOUR },
          { sessionId: outlived.id, at: T0 + HOUR },
        ],
        IDLE_TTL,
        WRITTEN_AT,
      );

      expect(await store.findSession(revoked.id)).toStrictEqual(before);
      expect(await store.findSession(idle.id)).toStrictEqual(stored(idle));
      expect(await store.findSession(outlived.id)).toStrictEqual(stored(outlived));
      expect(await store.listUserSessions(user.id, T0 + HOUR)).toEqual([]);
    });

    it('does not revive a session that went idle between the activity and the write', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id, { idleExpiresAt: T0 + HOUR });
      await store.recordActivity([{ sessionId: session.id, at: T0 + HOUR - 1_000 }], IDLE_TTL, T0 + HOUR + 5_000);
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
    });

    it('never deadlocks with a sign-out everywhere running at the same moment', async () => {
      for (let round = 0; round < 10; round++) {
        const user = await aStoredUser();
        const sessions: NewSession[] = [];
        for (let n = 0; n < 8; n++) sessions.push(await signIn(user.id, { client: fromAddress(n) }));
        const seen = sessions.map((s, n) => ({ sessionId: s.id, at: T0 + HOUR + n })).reverse();
        await Promise.all([
          store.recordActivity(seen, IDLE_TTL, WRITTEN_AT),
          store.revokeUserSessions(user.id, revocation('logout_all', user.id, T0 + HOUR)),
          store.recordActivity([...seen].reverse(), IDLE_TTL, WRITTEN_AT),
        ]);
        expect(await store.listUserSessions(user.id, T0 + HOUR)).toEqual([]);
      }
    });

    it('accepts an empty batch', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      await expect(store.recordActivity([], IDLE_TTL, WRITTEN_AT)).resolves.toBeUndefined();
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
    });

    it('ignores unknown sessions and still writes the known ones', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);

      await store.recordActivity(
        [
          { sessionId: 'session-nobody', at: T0 + HOUR },
          { sessionId: session.id, at: T0 + HOUR },
        ],
        IDLE_TTL,
        WRITTEN_AT,
      );
      expect((await store.findSession(session.id))?.lastActiveAt).toBe(T0 + HOUR);
      expect(await store.findSession('session-nobody')).toBeUndefined();
    });
  });

  describe('revokeSession', () => {
    it('revokes the user’s own session and records when, why and by whom', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      const other = await signIn(user.id);

      const revoked = await store.revokeSession(user.id, session.id, revocation('remote_logout', user.id, T0 + HOUR));
      expect(revoked).toStrictEqual({ id: session.id, revokedAt: T0 + HOUR });
      expect(await store.findSession(session.id)).toStrictEqual({
        ...stored(session),
        revokedAt: T0 + HOUR,
        revokedReason: 'remote_logout',
        revokedBy: user.id,
      });
      expect(await sessionState(other.id)).toEqual(ACTIVE);
    });

    it('leaves another user’s session untouched and says there was none', async () => {
      const ann = await aStoredUser();
      const mallory = await aStoredUser();
      const annsSession = await signIn(ann.id);

      expect(await store.revokeSession(mallory.id, annsSession.id, revocation('remote_logout', mallory.id, T0 + HOUR))).toBeUndefined();
      expect(await store.findSession(annsSession.id)).toStrictEqual(stored(annsSession));
    });

    it('says there was none for an already revoked session and keeps the first revocation', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      await store.revokeSession(user.id, session.id, revocation('logout', user.id, T0 + MINUTE));

      expect(await store.revokeSession(user.id, session.id, revocation('remote_logout', 'system', T0 + HOUR))).toBeUndefined();
      expect(await sessionState(session.id)).toEqual({ revokedAt: T0 + MINUTE, revokedReason: 'logout', revokedBy: user.id });
    });

    it('says there was none for an unknown session', async () => {
      const user = await aStoredUser();
      expect(await store.revokeSession(user.id, 'session-nobody', revocation('logout', user.id, T0))).toBeUndefined();
    });

    it('reports a session revoked twice at the same moment exactly once', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);

      const results = await Promise.all(
        ['logout', 'remote_logout', 'logout'].map((reason, i) =>
          store.revokeSession(user.id, session.id, revocation(reason as RevocationReason, user.id, T0 + HOUR + i)),
        ),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect(await store.listRevokedSince(0)).toHaveLength(1);
    });
  });

  describe('revokeUserSessions', () => {
    it('signs out every active session of the user and returns exactly those', async () => {
      const ann = await aStoredUser();
      const bob = await aStoredUser();
      const first = await signIn(ann.id);
      const second = await signIn(ann.id, { client: HOME_IPHONE });
      const earlierOut = await signIn(ann.id);
      await store.revokeSession(ann.id, earlierOut.id, revocation('logout', ann.id, T0 + MINUTE));
      const bobs = await signIn(bob.id);

      const at = T0 + HOUR;
      const revoked = await store.revokeUserSessions(ann.id, revocation('logout_all', ann.id, at));

      expect(sorted(revoked)).toEqual(
        sorted([
          { id: first.id, revokedAt: at },
          { id: second.id, revokedAt: at },
        ]),
      );
      for (const id of [first.id, second.id]) {
        expect(await sessionState(id)).toEqual({ revokedAt: at, revokedReason: 'logout_all', revokedBy: ann.id });
      }
      expect(await sessionState(earlierOut.id)).toEqual({ revokedAt: T0 + MINUTE, revokedReason: 'logout', revokedBy: ann.id });
      expect(await sessionState(bobs.id)).toEqual(ACTIVE);
      expect(await store.listUserSessions(ann.id, at)).toEqual([]);
    });

    it('keeps the excepted session and signs out the others', async () => {
      const user = await aStoredUser();
      const current = await signIn(user.id);
      const others = [await signIn(user.id), await signIn(user.id, { client: OFFICE_FIREFOX })];

      const at = T0 + HOUR;
      const revoked = await store.revokeUserSessions(user.id, revocation('logout_others', user.id, at), current.id);

      expect(sorted(revoked)).toEqual(sorted(others.map((s) => ({ id: s.id, revokedAt: at }))));
      expect(await sessionState(current.id)).toEqual(ACTIVE);
      for (const other of others) expect(await sessionState(other.id)).toEqual({ revokedAt: at, revokedReason: 'logout_others', revokedBy: user.id });
      expect((await store.listUserSessions(user.id, at)).map((s) => s.id)).toEqual([current.id]);
    });

    it('also ends sessions that ran out but were never revoked, so their last tokens die too', async () => {
      const user = await aStoredUser();
      const ranOut = await signIn(user.id, { idleExpiresAt: T0 + MINUTE });

      const revoked = await store.revokeUserSessions(user.id, revocation('logout_all', user.id, T0 + HOUR));
      expect(revoked).toEqual([{ id: ranOut.id, revokedAt: T0 + HOUR }]);
    });

    it('returns nothing when there is nothing left to revoke', async () => {
      const user = await aStoredUser();
      const only = await signIn(user.id);

      expect(await store.revokeUserSessions(user.id, revocation('logout_others', user.id, T0 + HOUR), only.id)).toEqual([]);
      await store.revokeUserSessions(user.id, revocation('logout_all', user.id, T0 + HOUR));
      expect(await store.revokeUserSessions(user.id, revocation('logout_all', user.id, T0 + 2 * HOUR))).toEqual([]);
    });

    it('reports each session once when two sign-outs everywhere race', async () => {
      const user = await aStoredUser();
      const sessions = [await signIn(user.id), await signIn(user.id), await signIn(user.id)];

      const [a, b] = await Promise.all([
        store.revokeUserSessions(user.id, revocation('logout_all', user.id, T0 + HOUR)),
        store.revokeUserSessions(user.id, revocation('logout_all', user.id, T0 + HOUR + 1)),
      ]);
      expect([...(a ?? []), ...(b ?? [])].map((r) => r.id).sort()).toEqual(sessions.map((s) => s.id).sort());
    });
  });

  describe('changePassword', () => {
    it('sets the new hash and its time, and signs out every other session of that user only', async () => {
      const ann = await aStoredUser();
      const bob = await aStoredUser();
      const current = await signIn(ann.id);
      const others = [await signIn(ann.id, { client: OFFICE_FIREFOX }), await signIn(ann.id, { client: HOME_IPHONE })];
      const earlierOut = await signIn(ann.id);
      await store.revokeSession(ann.id, earlierOut.id, revocation('logout', ann.id, T0 + MINUTE));
      const bobs = await signIn(bob.id);

      const at = T0 + DAY;
      const revoked = await store.changePassword({
        userId: ann.id,
        currentPasswordHash: PASSWORD_HASH,
        passwordHash: '$argon2id$new',
        keepSessionId: current.id,
        revocation: revocation('password_changed', ann.id, at),
      });

      expect(sorted(revoked)).toEqual(sorted(others.map((s) => ({ id: s.id, revokedAt: at }))));
      expect(await store.findUserById(ann.id)).toStrictEqual({ ...ann, passwordHash: '$argon2id$new', passwordChangedAt: at, updatedAt: at });
      expect(await sessionState(current.id)).toEqual(ACTIVE);
      for (const other of others) expect(await sessionState(other.id)).toEqual({ revokedAt: at, revokedReason: 'password_changed', revokedBy: ann.id });
      expect(await sessionState(earlierOut.id)).toEqual({ revokedAt: T0 + MINUTE, revokedReason: 'logout', revokedBy: ann.id });
      expect(await store.findUserById(bob.id)).toStrictEqual(bob);
      expect(await sessionState(bobs.id)).toEqual(ACTIVE);
    });

    it('keeps the old password when the sign-outs fail (one transaction)', async () => {
      const user = await aStoredUser();
      const current = await signIn(user.id);
      const other = await signIn(user.id);
      await refuseSessionUpdates();

      await expect(
        store.changePassword({
          userId: user.id,
          currentPasswordHash: PASSWORD_HASH,
          passwordHash: '$argon2id$new',
          keepSessionId: current.id,
          revocation: revocation('password_changed', user.id, T0 + DAY),
        }),
      ).rejects.toThrow(/refused by the test/);
      expect(await store.findUserById(user.id)).toStrictEqual(user);
      expect(await sessionState(other.id)).toEqual(ACTIVE);
    });
  });

  describe('races with a password change', () => {
    it('refuses a second password change that proved the old password, and changes nothing', async () => {
      const user = await aStoredUser();
      const mine = await signIn(user.id);
      const theirs = await signIn(user.id, { client: OFFICE_FIREFOX });
      await store.changePassword({
        userId: user.id,
        currentPasswordHash: PASSWORD_HASH,
        passwordHash: '$argon2id$mine',
        keepSessionId: mine.id,
        revocation: revocation('password_changed', user.id, T0 + HOUR),
      });
      await expect(
        store.changePassword({
          userId: user.id,
          currentPasswordHash: PASSWORD_HASH,
          passwordHash: '$argon2id$theirs',
          keepSessionId: theirs.id,
          revocation: revocation('password_changed', user.id, T0 + HOUR),
        }),
      ).rejects.toMatchObject({ code: 'invalid_credentials' });
      expect((await store.findUserById(user.id))?.passwordHash).toBe('$argon2id$mine');
      expect(await sessionState(mine.id)).toEqual(ACTIVE);
    });

    it('refuses a password change from a session revoked meanwhile', async () => {
      const user = await aStoredUser();
      const gone = await signIn(user.id);
      await store.revokeSession(user.id, gone.id, revocation('remote_logout', user.id, T0 + MINUTE));
      await expect(
        store.changePassword({
          userId: user.id,
          currentPasswordHash: PASSWORD_HASH,
          passwordHash: '$argon2id$new',
          keepSessionId: gone.id,
          revocation: revocation('password_changed', user.id, T0 + HOUR),
        }),
      ).rejects.toMatchObject({ code: 'session_revoked' });
      expect((await store.findUserById(user.id))?.passwordHash).toBe(PASSWORD_HASH);
    });

    it('refuses a sign-in verified against a password that has changed since, storing nothing', async () => {
      const user = await aStoredUser();
      const keeper = await signIn(user.id);
      await store.changePassword({
        userId: user.id,
        currentPasswordHash: PASSWORD_HASH,
        passwordHash: '$argon2id$new',
        keepSessionId: keeper.id,
        revocation: revocation('password_changed', user.id, T0 + HOUR),
      });
      const late = aSession(user.id, { client: OFFICE_FIREFOX, createdAt: T0 + 2 * HOUR });
      await expect(store.startSession(late, NOTHING_ENDS)).rejects.toMatchObject({ code: 'invalid_credentials' });
      expect(await store.findSession(late.id)).toBeUndefined();
    });

    it('never lets a sign-in racing a password change outlive it', async () => {
      for (let round = 0; round < 5; round++) {
        const user = await aStoredUser();
        const keeper = await signIn(user.id);
        const racer = aSession(user.id, { client: OFFICE_FIREFOX, createdAt: T0 + HOUR });
        const [signedIn] = await Promise.allSettled([
          store.startSession(racer, NOTHING_ENDS),
          store.changePassword({
            userId: user.id,
            currentPasswordHash: PASSWORD_HASH,
            passwordHash: '$argon2id$new',
            keepSessionId: keeper.id,
            revocation: revocation('password_changed', user.id, T0 + HOUR),
          }),
        ]);
        const row = await store.findSession(racer.id);
        if (signedIn.status === 'fulfilled') expect(row?.revokedReason).toBe('password_changed');
        else expect(row).toBeUndefined();
      }
    });
  });

  describe('listRevokedSince', () => {
    it('lists the revocations at or after the cutoff, oldest first, across users', async () => {
      const ann = await aStoredUser();
      const bob = await aStoredUser();
      const [a1, a2, a3] = [await signIn(ann.id), await signIn(ann.id), await signIn(ann.id)];
      const [b1, b2] = [await signIn(bob.id), await signIn(bob.id)];
      await signIn(ann.id); // never revoked
      // Revoked out of order, so the answer's order cannot come from insertion order.
      await store.revokeSession(ann.id, a2!.id, revocation('logout', ann.id, T0 + 3 * MINUTE));
      await store.revokeSession(bob.id, b1!.id, revocation('logout', bob.id, T0 + 1 * MINUTE));
      await store.revokeSession(ann.id, a1!.id, revocation('logout', ann.id, T0 + 4 * MINUTE));
      await store.revokeSession(bob.id, b2!.id, revocation('logout', bob.id, T0 + 2 * MINUTE - 1));
      await store.revokeSession(ann.id, a3!.id, revocation('logout', ann.id, T0 + 2 * MINUTE));

      const listed = await store.listRevokedSince(T0 + 2 * MINUTE);
      expect(listed).toStrictEqual([
        { id: a3!.id, revokedAt: T0 + 2 * MINUTE },
        { id: a2!.id, revokedAt: T0 + 3 * MINUTE },
        { id: a1!.id, revokedAt: T0 + 4 * MINUTE },
      ]);
    });

    it('lists nothing when nothing was revoked', async () => {
      const user = await aStoredUser();
      await signIn(user.id);
      expect(await store.listRevokedSince(0)).toEqual([]);
    });
  });

  describe('purgeEndedSessions', () => {
    /** Before either default lifetime of aSession ends, so only what a test ends has ended. */
    const BEFORE = T0 + 2 * DAY;

    it('deletes the sessions revoked or expired before the cutoff and keeps every other', async () => {
      const user = await aStoredUser();
      const bob = await aStoredUser();
      const revokedBefore = await signIn(user.id);
      await store.revokeSession(user.id, revokedBefore.id, revocation('logout', user.id, BEFORE - 1));
      const idleBefore = await signIn(user.id, { idleExpiresAt: BEFORE - 1 });
      const outlivedBefore = await signIn(bob.id, { expiresAt: BEFORE - 1 });

      const revokedAt = await signIn(user.id);
      await store.revokeSession(user.id, revokedAt.id, revocation('logout', user.id, BEFORE));
      const revokedAfter = await signIn(user.id);
      await store.revokeSession(user.id, revokedAfter.id, revocation('logout', user.id, BEFORE + HOUR));
      const idleAt = await signIn(user.id, { idleExpiresAt: BEFORE });
      const outlivedAt = await signIn(user.id, { expiresAt: BEFORE });
      const active = await signIn(user.id);
      // Ran out before the cutoff but was revoked after it (sign-out everywhere): its revocation
      // is recent, and the revocation view still needs it.
      const ranOutThenRevoked = await signIn(user.id, { idleExpiresAt: BEFORE - DAY });
      await store.revokeSession(user.id, ranOutThenRevoked.id, revocation('logout_all', user.id, BEFORE + MINUTE));

      expect(await store.purgeEndedSessions(BEFORE, 100)).toBe(3);

      for (const gone of [revokedBefore, idleBefore, outlivedBefore]) expect(await store.findSession(gone.id)).toBeUndefined();
      for (const kept of [revokedAt, revokedAfter, idleAt, outlivedAt, active, ranOutThenRevoked]) expect(await store.findSession(kept.id)).toBeDefined();
      expect(await store.findSession(active.id)).toStrictEqual(stored(active));
      expect(await store.findUserById(bob.id)).toStrictEqual(bob);
      expect(await store.purgeEndedSessions(BEFORE, 100)).toBe(0);
    });

    it('takes the deleted sessions out of the revocation list and leaves the kept ones in it', async () => {
      const user = await aStoredUser();
      const [old, recent] = [await signIn(user.id), await signIn(user.id)];
      await store.revokeSession(user.id, old!.id, revocation('logout', user.id, BEFORE - HOUR));
      await store.revokeSession(user.id, recent!.id, revocation('logout', user.id, BEFORE + HOUR));

      await store.purgeEndedSessions(BEFORE, 100);
      expect(await store.listRevokedSince(0)).toStrictEqual([{ id: recent!.id, revokedAt: BEFORE + HOUR }]);
    });

    it('deletes at most `limit` at a time, says how many, and finishes over repeated calls', async () => {
      const user = await aStoredUser();
      const ended: NewSession[] = [];
      for (let n = 0; n < 5; n++) {
        const session = await signIn(user.id, { client: fromAddress(n) });
        await store.revokeSession(user.id, session.id, revocation('logout', user.id, T0 + n));
        ended.push(session);
      }
      const active = await signIn(user.id);

      const counts: number[] = [];
      for (let call = 0; call < 4; call++) counts.push(await store.purgeEndedSessions(BEFORE, 2));
      expect(counts).toEqual([2, 2, 1, 0]);
      for (const s of ended) expect(await store.findSession(s.id)).toBeUndefined();
      expect(await store.findSession(active.id)).toStrictEqual(stored(active));
      expect(await store.listRevokedSince(0)).toEqual([]);
    });

    it('fills every batch while sessions are left, sessions past both lifetimes included, so a short batch means done', async () => {
      const user = await aStoredUser();
      await signIn(user.id, { client: fromAddress(0), idleExpiresAt: BEFORE - 3, expiresAt: BEFORE - 1 }); // past both
      await signIn(user.id, { client: fromAddress(1), idleExpiresAt: BEFORE - 2 });
      await signIn(user.id, { client: fromAddress(2), idleExpiresAt: BEFORE - 1 });
      const counts: number[] = [];
      for (let call = 0; call < 3; call++) counts.push(await store.purgeEndedSessions(BEFORE, 2));
      expect(counts).toEqual([2, 1, 0]);
    });

    it('deletes nothing when nothing has ended', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      expect(await store.purgeEndedSessions(T0 + HOUR, 100)).toBe(0);
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
    });
  });

  describe('signing keys', () => {
    it('starts with none', async () => {
      expect(await store.listSigningKeys()).toEqual([]);
    });

    it('returns every key added, with every field, oldest first', async () => {
      const middle = aSigningKey(T0 + DAY, { retiredAt: T0 + 2 * DAY });
      const newest = aSigningKey(T0 + 2 * DAY);
      const oldest = aSigningKey(T0, { retiredAt: T0 + DAY });
      for (const key of [middle, newest, oldest]) await store.addSigningKey(key);

      expect(await store.listSigningKeys()).toStrictEqual([oldest, middle, newest]);
    });

    it('refuses a second key with an existing kid', async () => {
      const key = aSigningKey(T0);
      await store.addSigningKey(key);
      await expect(store.addSigningKey({ ...key, createdAt: T0 + DAY })).rejects.toThrow();
      expect(await store.listSigningKeys()).toStrictEqual([key]);
    });
  });

  describe('addFirstSigningKey', () => {
    it('stores the key and says so when there is no key at all', async () => {
      const key = aSigningKey(T0);
      expect(await store.addFirstSigningKey(key)).toBe(true);
      expect(await store.listSigningKeys()).toStrictEqual([key]);
    });

    it('stores nothing and says so when an active key exists', async () => {
      const existing = aSigningKey(T0);
      await store.addSigningKey(existing);

      expect(await store.addFirstSigningKey(aSigningKey(T0 + DAY))).toBe(false);
      expect(await store.listSigningKeys()).toStrictEqual([existing]);
    });

    it('counts retired keys as none', async () => {
      const retired = aSigningKey(T0, { retiredAt: T0 + DAY });
      await store.addSigningKey(retired);
      const key = aSigningKey(T0 + DAY);

      expect(await store.addFirstSigningKey(key)).toBe(true);
      expect(await store.listSigningKeys()).toStrictEqual([retired, key]);
    });

    it('stores exactly one key when several nodes add their first key at once', async () => {
      for (let round = 0; round < 5; round++) {
        await store.db.deleteFrom('signing_keys').execute();
        const keys = Array.from({ length: 5 }, () => aSigningKey(T0 + round));
        const results = await Promise.all(keys.map((key) => store.addFirstSigningKey(key)));

        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.listSigningKeys()).toStrictEqual([keys[results.indexOf(true)]]);
      }
    });
  });

  describe('the database itself', () => {
    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('fails a ping once closed', async () => {
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    it('applies every migration to a fresh database, then none', async () => {
      const fresh = await createTestDatabase(kind, { empty: true });
      const { db } = connect(fresh.location);
      try {
        expect(await migrateToLatest(db)).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
        expect(await migrateToLatest(db)).toEqual([]);
      } finally {
        await db.destroy();
        await fresh.drop();
      }
    });

    it('applies nothing when migrating an already migrated database again, and keeps its data', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);
      const key = aSigningKey(T0);
      await store.addSigningKey(key);

      expect(await migrateToLatest(store.db)).toEqual([]);
      expect(await store.findUserById(user.id)).toStrictEqual(user);
      expect(await store.findSession(session.id)).toStrictEqual(stored(session));
      expect(await store.listSigningKeys()).toStrictEqual([key]);
    });

    it.runIf(kind === 'postgres')('keeps serving, without an unhandled error, after the server ends its idle connections', async () => {
      // Fill the pool with idle connections, then end them from the server side, as a restart,
      // a failover or an idle timeout does.
      await Promise.all(Array.from({ length: 5 }, () => sql`select pg_sleep(0.05)`.execute(store.db)));
      const ended = await sql<{ pid: number }>`
        select pg_terminate_backend(pid) as pid from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`.execute(store.db);
      expect(ended.rows.length).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));

      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('lets a second store opened on the same database see what the first wrote', async () => {
      const user = await aStoredUser();
      const session = await signIn(user.id);

      const again = await openStore(database.location);
      try {
        expect(await again.findUserByEmail(user.emailKey)).toStrictEqual(user);
        expect(await again.listUserSessions(user.id, T0)).toStrictEqual([stored(session)]);
      } finally {
        await again.close();
      }
    });
  });

  /** Makes every later update of a session row fail, to show what a failed transaction leaves. */
  async function refuseSessionUpdates(): Promise<void> {
    if (store.dialect === 'sqlite') {
      await sql
        .raw(`create trigger refuse_session_updates before update on sessions begin select raise(abort, 'session updates refused by the test'); end`)
        .execute(store.db);
      return;
    }
    await sql
      .raw(
        `create function refuse_session_updates() returns trigger language plpgsql as $$ begin raise exception 'session updates refused by the test'; end $$`,
      )
      .execute(store.db);
    await sql.raw(`create trigger refuse_session_updates before update on sessions for each row execute function refuse_session_updates()`).execute(store.db);
  }
});
