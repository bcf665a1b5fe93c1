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

  // Issue 16: on PostgreSQL history is kept a month at a time (migration 0013); these hold on
  // both databases, and test/storage/kysely/event-months.test.ts looks at the months themselves.
  const JUNE = Date.UTC(2026, 5, 1);
  const JULY = Date.UTC(2026, 6, 1);
  const AUGUST = Date.UTC(2026, 7, 1);
  const DAY = 24 * HOUR;

  /** The whole of the retention purge, as housekeeping runs it: whole months, then batches of `limit`. */
  async function purgeBefore(before: number, limit = 2): Promise<number> {
    let total = await store.purgeEventMonths(before);
    for (let n = limit; n === limit; total += n) n = await store.purgeEvents(before, limit);
    return total;
  }

  it('purges whole months past the retention and the older part of the month it ends in, with their outbox rows and reports', async () => {
    const userId = await aUser();
    await store.prepareEventMonths(JUNE);
    const changed = (at: number) => newEvent('password_changed', at, { userId }, true);
    const events = [
      changed(JUNE + 4 * DAY),
      changed(JUNE + 20 * DAY),
      changed(JULY),
      changed(JULY + 10 * DAY),
      changed(JULY + 20 * DAY),
      changed(AUGUST + 2 * DAY),
    ];
    await store.recordEvents(events);
    await store.db
      .insertInto('sign_in_reports')
      .values({ event_id: events[1]!.id, reported_at: JUNE + 21 * DAY })
      .execute();
    expect(await purgeBefore(JULY + 15 * DAY)).toBe(4);
    expect((await store.listUserEvents(userId, { limit: 10 })).map((e) => e.id)).toEqual([events[5]!.id, events[4]!.id]);
    expect(await store.webhookBacklog()).toEqual({ pending: 2, oldestCreatedAt: JULY + 20 * DAY });
    expect(await store.isSignInReported(events[1]!.id)).toBe(false);
    expect(await purgeBefore(JULY + 15 * DAY)).toBe(0);
  });

  it('writes an event dated in any month, made ahead or not, and purges it in its turn', async () => {
    const userId = await aUser();
    const past = newEvent('password_changed', Date.UTC(1971, 0, 1), { userId }, true);
    const future = newEvent('password_changed', Date.UTC(2200, 0, 15), { userId }, true);
    const now = newEvent('password_changed', T0, { userId }, true);
    await store.recordEvents([past, future, now]);
    const order = [future.id, now.id, past.id];
    expect((await store.listUserEvents(userId, { limit: 10 })).map((e) => e.id)).toEqual(order);
    // The far month is made once its time comes near; the event moves into it, outbox row and all.
    await store.prepareEventMonths(Date.UTC(2199, 11, 20));
    expect((await store.listUserEvents(userId, { limit: 10 })).map((e) => e.id)).toEqual(order);
    expect((await store.findEvent(future.id))?.at).toBe(future.at);
    expect((await store.claimWebhookDeliveries(Date.UTC(2200, 1, 1), 10, 60_000)).map((d) => d.event.id)).toEqual([past.id, now.id, future.id]);
    expect(await purgeBefore(Date.UTC(2000, 0, 1))).toBe(1);
    expect((await store.listUserEvents(userId, { limit: 10 })).map((e) => e.id)).toEqual([future.id, now.id]);
  });

  it('pages across a month boundary as within a month: newest first, ties by id', async () => {
    const userId = await aUser();
    await store.prepareEventMonths(JUNE);
    const at = [JULY - 1, JULY, JULY, JULY, JULY + 1, JULY - 1, AUGUST, AUGUST - 1];
    const events = at.map((t) => failure(userId, t));
    await store.recordEvents(events);
    const expected = [...events].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((e) => e.id);
    const paged: string[] = [];
    for (let before: { at: number; id: string } | undefined; ; ) {
      const page = await store.listUserEvents(userId, { limit: 3, ...(before ? { before } : {}) });
      paged.push(...page.map((e) => e.id));
      if (page.length < 3) break;
      before = { at: page.at(-1)!.at, id: page.at(-1)!.id };
    }
    expect(paged).toEqual(expected);
  });

  it('makes the coming months ready on several nodes at once', async () => {
    const other = kind === 'postgres' ? await openStore(database.location) : store;
    try {
      await Promise.all([store.prepareEventMonths(AUGUST), other.prepareEventMonths(AUGUST), store.prepareEventMonths(AUGUST)]);
      const userId = await aUser();
      await store.recordEvents([failure(userId, AUGUST + 40 * DAY)]);
      expect(await store.listUserEvents(userId, { limit: 10 })).toHaveLength(1);
    } finally {
      if (other !== store) await other.close();
    }
  });
});
