import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, type ActivityEvent } from '../../src/core/activity.js';
import type { SessionRecord } from '../../src/core/records.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { FIREFOX_CLIENT, HOUR, newSessionRecord, T0 } from '../helpers/records.js';
import { createTestStore, DATABASES, type TestDatabase } from '../helpers/databases.js';

/**
 * The Store contract for login history (src/storage/store.ts), on every database: events are
 * written with the change they describe or not at all, pages are stable, new devices are
 * flagged once, expiries are recorded once, and the outbox row goes with its event.
 */

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

let counter = 0;
const nextId = (prefix: string) => `${prefix}-events-${String(++counter).padStart(5, '0')}`;

const aSession = (userId: string, createdAt = T0) => newSessionRecord(nextId('session'), userId, createdAt);

const START = { replaceSameDevice: false, maxSessions: 0, passwordHash: HASH };

describe.each(DATABASES)('login history in the store on %s', (kind) => {
  let store: KyselyStore;
  let database: TestDatabase;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, database, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  async function aUser(): Promise<string> {
    const id = nextId('user');
    await store.createUser({ id, email: `${id}@example.com`, emailKey: `${id}@example.com`, name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
    return id;
  }

  const failure = (userId: string | null, at: number, notify = false): ActivityEvent =>
    newEvent('sign_in_failed', at, { userId, client: FIREFOX_CLIENT, detail: { reason: 'wrong_password' } }, notify);

  it('gives back what was written, field for field', async () => {
    const userId = await aUser();
    const written = newEvent(
      'password_changed',
      T0,
      { userId, sessionId: 's1', actor: userId, client: FIREFOX_CLIENT, detail: { session_ids: ['a', 'b'] } },
      false,
    );
    await store.recordEvents([written]);
    const { notify: _, ...stored } = written;
    expect(await store.listUserEvents(userId, { limit: 10 })).toEqual([stored]);
    expect(await store.findEvent(written.id)).toEqual(stored);
  });

  it('pages newest first by (time, id), with a type filter', async () => {
    const userId = await aUser();
    const events = Array.from({ length: 7 }, (_, i) => failure(userId, T0 + Math.floor(i / 3)));
    await store.recordEvents(events);
    await store.recordEvents([newEvent('signed_in', T0 + 5, { userId }, false)]);
    const first = await store.listUserEvents(userId, { limit: 4, types: ['sign_in_failed'] });
    const last = first.at(-1)!;
    const second = await store.listUserEvents(userId, { limit: 4, types: ['sign_in_failed'], before: { at: last.at, id: last.id } });
    expect([...first, ...second].map((e) => e.id)).toEqual(events.map((e) => e.id).reverse());
    expect((await store.listUserEvents(userId, { limit: 1 }))[0]!.type).toBe('signed_in');
  });

  it('writes nothing of a sign-in that fails, and flags a new device once', async () => {
    const userId = await aUser();
    const signedIn = (outcome: { newDevice: boolean }) => [newEvent('signed_in', T0, { userId, detail: { new_device: outcome.newDevice } }, true)];
    const first = await store.startSession(aSession(userId), { ...START, device: 'laptop' }, signedIn);
    const second = await store.startSession(aSession(userId), { ...START, device: 'laptop' }, signedIn);
    await expect(store.startSession(aSession(userId), { ...START, passwordHash: 'another hash', device: 'phone' }, signedIn)).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    const third = await store.startSession(aSession(userId), { ...START, device: 'phone' }, signedIn);
    expect([first.newDevice, second.newDevice, third.newDevice]).toEqual([true, false, true]);
    const events = await store.listUserEvents(userId, { limit: 10 });
    expect(events.map((e) => e.detail.new_device)).toEqual([true, false, true]);
    expect(await store.webhookBacklog()).toEqual({ pending: 2, oldestCreatedAt: T0 });
  });

  it('flags one of many parallel first sign-ins from one device', async () => {
    const userId = await aUser();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.startSession(aSession(userId), { ...START, device: 'tablet' })));
    expect(results.filter((r) => r.newDevice)).toHaveLength(1);
  });

  it('writes revocation events only with a revocation, told which sessions ended', async () => {
    const userId = await aUser();
    const a = aSession(userId);
    const b = aSession(userId);
    await store.startSession(a, START);
    await store.startSession(b, START);
    const revocation = { reason: 'logout_others' as const, by: userId, at: T0 + 1 };
    const told: string[][] = [];
    const events = (ended: Array<{ id: string }>) => {
      told.push(ended.map((s) => s.id));
      return ended.length === 0 ? [] : [newEvent('other_sessions_revoked', T0 + 1, { userId, detail: { session_ids: ended.map((s) => s.id) } }, false)];
    };
    await store.revokeUserSessions(userId, revocation, a.id, events);
    await store.revokeUserSessions(userId, revocation, a.id, events);
    expect(told).toEqual([[b.id], []]);
    expect(await store.revokeSession(userId, b.id, revocation, () => [failure(userId, T0)])).toBeUndefined();
    expect((await store.listUserEvents(userId, { limit: 10 })).map((e) => e.type)).toEqual(['other_sessions_revoked']);
  });

  it('rolls back the change when its events cannot be written', async () => {
    const userId = await aUser();
    const session = aSession(userId);
    await store.startSession(session, START);
    const duplicate = failure(userId, T0);
    await store.recordEvents([duplicate]);
    const revocation = { reason: 'logout' as const, by: userId, at: T0 + 1 };
    await expect(store.revokeSession(userId, session.id, revocation, () => [duplicate])).rejects.toThrow();
    expect((await store.findSession(session.id))?.revokedAt).toBeNull();
  });

  it('records each expiry once, even with two nodes sweeping at once', async () => {
    const userId = await aUser();
    const sessions = Array.from({ length: 30 }, () => aSession(userId));
    for (const s of sessions) await store.startSession(s, START);
    const live = aSession(userId, T0 + 23 * HOUR);
    await store.startSession(live, START);
    // Two stores on PostgreSQL. On SQLite both sweeps go through one store: two stores in one
    // process would block each other's synchronous driver (nodes are separate processes there).
    const other = kind === 'postgres' ? await openStore(database.location) : store;
    try {
      const expired = (s: SessionRecord) => [newEvent('session_expired', Math.min(s.idleExpiresAt, s.expiresAt), { userId: s.userId, sessionId: s.id }, false)];
      const later = T0 + 25 * HOUR;
      const counts = await Promise.all([store.recordSessionExpiries(later, 7, expired), other.recordSessionExpiries(later, 7, expired)]);
      let total = counts[0] + counts[1];
      for (let n = 1; n > 0; total += n) n = await store.recordSessionExpiries(later, 7, expired);
      expect(total).toBe(30);
      const events = await store.listUserEvents(userId, { limit: 100, types: ['session_expired'] });
      expect(new Set(events.map((e) => e.sessionId))).toEqual(new Set(sessions.map((s) => s.id)));
      expect(events).toHaveLength(30);
    } finally {
      if (other !== store) await other.close();
    }
  });

  it('purges events without a user sooner than those in someone’s history', async () => {
    const userId = await aUser();
    await store.recordEvents([failure(null, T0), failure(userId, T0), failure(null, T0 + 2 * HOUR)]);
    expect(await store.purgeEvents(T0 - HOUR, 100, T0 + HOUR)).toBe(1);
    expect(await store.listUserEvents(userId, { limit: 10 })).toHaveLength(1);
    expect(await store.purgeEvents(T0 - HOUR, 100, T0 + HOUR)).toBe(0);
  });

  it('purges old events with their outbox rows', async () => {
    const userId = await aUser();
    await store.recordEvents([failure(userId, T0, true), failure(userId, T0 + HOUR, true), newEvent('password_changed', T0, { userId }, true)]);
    expect(await store.purgeEvents(T0 + 1, 100)).toBe(2);
    expect(await store.listUserEvents(userId, { limit: 10 })).toHaveLength(1);
    expect((await store.webhookBacklog()).pending).toBe(0); // sign_in_failed never notifies; the password change was purged
  });
});
