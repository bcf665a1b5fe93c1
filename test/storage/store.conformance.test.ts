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
import type { NewSession, NewUser } from '../../src/storage/store.js';
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
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
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

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${String(++counter).padStart(5, '0')}`;

function aUser(overrides: Partial<NewUser> = {}): NewUser {
  const id = nextId('user');
  return {
    id,
    email: `${id}@Example.COM`,
    emailKey: `${id}@example.com`,
    name: 'Zoë Lee 🔑',
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${id}`,
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
    refresh: { hash: `sha256:${id}`, key: `key-${id}`, generation: 0, rotatedAt: null, sealedSuccessor: null },
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
    retiredAt: null,
    ...overrides,
  };
}

/** startSession options: end nothing, or replace same-device sessions (no cap in either). */
const NOTHING_ENDS = { replaceSameDevice: false, maxSessions: 0 };
const REPLACE = { replaceSameDevice: true, maxSessions: 0 };

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
    expect(await store.startSession(session, NOTHING_ENDS)).toEqual({ replaced: [], evicted: [] });
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

      const expected: UserRecord = { ...input, disabledAt: null, updatedAt: T0 + 123, passwordChangedAt: T0 + 123 };
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

      expect(await store.startSession(again, NOTHING_ENDS)).toEqual({ replaced: [], evicted: [] });
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

      expect(sorted(replaced)).toEqual(sorted([{ id: sameDevice.id, revokedAt: at }, { id: sameDeviceToo.id, revokedAt: at }]));
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

      expect(sorted(revoked)).toEqual(sorted([{ id: first.id, revokedAt: at }, { id: second.id, revokedAt: at }]));
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
        store.changePassword({ userId: user.id, passwordHash: '$argon2id$new', keepSessionId: current.id, revocation: revocation('password_changed', user.id, T0 + DAY) }),
      ).rejects.toThrow(/refused by the test/);
      expect(await store.findUserById(user.id)).toStrictEqual(user);
      expect(await sessionState(other.id)).toEqual(ACTIVE);
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

  describe('the database itself', () => {
    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('fails a ping once closed', async () => {
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    it('applies every migration to a fresh database, then none', async () => {
      const fresh = await createTestDatabase(kind);
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
