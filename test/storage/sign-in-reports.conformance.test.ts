import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, type ActivityEvent } from '../../src/core/activity.js';
import type { ClientInfo, Revocation, RevokedSession } from '../../src/core/records.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import type { NewSession } from '../../src/storage/store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

/**
 * The Store contract of `reportSignIn` (src/storage/store.ts), on every database: a sign-in is
 * reported once, however many clicks race, and the report ends only the named user's session.
 */

const T0 = Date.parse('2026-11-27T09:00:00Z');
const HOUR = 3_600_000;
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

const CLIENT: ClientInfo = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  device: { browser: 'Chrome 120', os: 'Windows 10', type: 'desktop', label: 'Chrome 120 on Windows 10' },
  country: 'DE',
};

let counter = 0;
const nextId = (prefix: string) => `${prefix}-report-${String(++counter).padStart(5, '0')}`;

describe.each(DATABASES)('reporting a sign-in in the store on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  async function aUser(): Promise<string> {
    const id = nextId('user');
    await store.createUser({ id, email: `${id}@example.com`, emailKey: `${id}@example.com`, name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
    return id;
  }

  /** A session of the user and the `signed_in` event a notification would link to. */
  async function aSignIn(userId: string): Promise<{ sessionId: string; eventId: string }> {
    const id = nextId('session');
    const session: NewSession = {
      id,
      userId,
      createdAt: T0,
      authenticatedAt: T0,
      lastActiveAt: T0,
      idleExpiresAt: T0 + 24 * HOUR,
      expiresAt: T0 + 30 * 24 * HOUR,
      client: CLIENT,
      refresh: { hash: `sha256:${id}`, key: `key-${id}`, generation: 0, rotatedAt: null, previousRotatedAt: null, sealedSuccessor: null },
    };
    const signedIn = newEvent('signed_in', T0, { userId, sessionId: id, actor: userId, client: CLIENT, detail: { new_device: true } }, false);
    await store.startSession(session, { replaceSameDevice: false, maxSessions: 0, passwordHash: HASH }, () => [signedIn]);
    return { sessionId: id, eventId: signedIn.id };
  }

  const revocation = (by: string, at = T0 + HOUR): Revocation => ({ reason: 'reported', by, at });
  const reportedEvent =
    (userId: string) =>
    (revoked: RevokedSession[]): ActivityEvent[] => [
      newEvent('sign_in_reported', T0 + HOUR, { userId, actor: userId, client: CLIENT, detail: { session_ids: revoked.map((s) => s.id) } }, false),
    ];
  const reports = async (userId: string) => store.listUserEvents(userId, { types: ['sign_in_reported'], limit: 100 });

  it('revokes the reported session, with the reason and who reported it, and writes the event', async () => {
    const user = await aUser();
    const { sessionId, eventId } = await aSignIn(user);
    const outcome = await store.reportSignIn({ eventId, userId: user, sessionId, revocation: revocation(user), events: reportedEvent(user) });
    expect(outcome).toEqual({ reported: true, revoked: [{ id: sessionId, revokedAt: T0 + HOUR }] });
    expect(await store.findSession(sessionId)).toMatchObject({ revokedAt: T0 + HOUR, revokedReason: 'reported', revokedBy: user });
    expect((await reports(user)).map((e) => e.detail)).toEqual([{ session_ids: [sessionId] }]);
  });

  it('leaves the user’s other sessions alone', async () => {
    const user = await aUser();
    const reported = await aSignIn(user);
    const other = await aSignIn(user);
    await store.reportSignIn({ ...reported, userId: user, revocation: revocation(user), events: reportedEvent(user) });
    expect((await store.listUserSessions(user, T0 + HOUR)).map((s) => s.id)).toEqual([other.sessionId]);
  });

  it('is used up by the first report: a second one changes nothing and writes no event', async () => {
    const user = await aUser();
    const signIn = await aSignIn(user);
    await store.reportSignIn({ ...signIn, userId: user, revocation: revocation(user), events: reportedEvent(user) });
    const again = await store.reportSignIn({ ...signIn, userId: user, revocation: revocation(user, T0 + 2 * HOUR), events: reportedEvent(user) });
    expect(again).toEqual({ reported: false, revoked: [] });
    expect(await store.findSession(signIn.sessionId)).toMatchObject({ revokedAt: T0 + HOUR });
    expect(await reports(user)).toHaveLength(1);
  });

  it('counts a report of a session that had already ended, revoking nothing', async () => {
    const user = await aUser();
    const signIn = await aSignIn(user);
    await store.revokeSession(user, signIn.sessionId, { reason: 'logout', by: user, at: T0 + 1000 });
    const outcome = await store.reportSignIn({ ...signIn, userId: user, revocation: revocation(user), events: reportedEvent(user) });
    expect(outcome).toEqual({ reported: true, revoked: [] });
    expect(await store.findSession(signIn.sessionId)).toMatchObject({ revokedAt: T0 + 1000, revokedReason: 'logout' });
    expect((await reports(user)).map((e) => e.detail)).toEqual([{ session_ids: [] }]);
    expect((await store.reportSignIn({ ...signIn, userId: user, revocation: revocation(user), events: reportedEvent(user) })).reported).toBe(false);
  });

  it('never revokes a session of another user, whatever session id it is given', async () => {
    const owner = await aUser();
    const stranger = await aUser();
    const own = await aSignIn(owner);
    const theirs = await aSignIn(stranger);
    const outcome = await store.reportSignIn({
      eventId: own.eventId,
      userId: owner,
      sessionId: theirs.sessionId,
      revocation: revocation(owner),
      events: reportedEvent(owner),
    });
    expect(outcome.revoked).toEqual([]);
    expect(await store.findSession(theirs.sessionId)).toMatchObject({ revokedAt: null });
  });

  it('lets exactly one of many parallel reports of one sign-in through, with one event', async () => {
    const user = await aUser();
    const signIn = await aSignIn(user);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => store.reportSignIn({ ...signIn, userId: user, revocation: revocation(user), events: reportedEvent(user) })),
    );
    expect(outcomes.filter((o) => o.reported)).toHaveLength(1);
    expect(outcomes.filter((o) => o.revoked.length > 0)).toHaveLength(1);
    expect(await reports(user)).toHaveLength(1);
  });

  it('keeps reports of different sign-ins apart', async () => {
    const user = await aUser();
    const first = await aSignIn(user);
    const second = await aSignIn(user);
    await store.reportSignIn({ ...first, userId: user, revocation: revocation(user), events: reportedEvent(user) });
    const outcome = await store.reportSignIn({ ...second, userId: user, revocation: revocation(user), events: reportedEvent(user) });
    expect(outcome).toMatchObject({ reported: true, revoked: [{ id: second.sessionId }] });
  });
});
