import { newEvent } from '../../../src/core/activity.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { createTestStore, DATABASES, type TestDatabase } from '../../helpers/databases.js';
import { HOUR, newSessionRecord, T0 } from '../../helpers/records.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
const DAY = 24 * HOUR;
const NO_RULES = { replaceSameDevice: false, maxSessions: 0, passwordHash: HASH };

describe.each(DATABASES)('the open-session count on %s', (kind) => {
  let store: KyselyStore;
  let database: TestDatabase;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store, database, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  async function aUser(id: string): Promise<string> {
    await store.createUser({ id, email: `${id}@example.com`, emailKey: `${id}@example.com`, name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
    return id;
  }
  const start = (id: string, userId: string, at = T0, options = NO_RULES) => store.startSession(newSessionRecord(id, userId, at), options);
  /** The count as a scan of the sessions table gives it: what the kept count must always equal. */
  async function counted(): Promise<number> {
    const row = await store.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('revoked_at', 'is', null)
      .where('expiry_recorded_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  /** Checks the kept count against the table, and returns it. */
  async function open(): Promise<number> {
    const kept = await store.countOpenSessions();
    expect(kept).toBe(await counted());
    return kept;
  }
  const revocation = (reason: 'logout' | 'remote_logout' | 'password_changed', by: string, at = T0 + 1) => ({ reason, by, at });

  it('counts nothing in an empty database', async () => {
    expect(await open()).toBe(0);
  });

  it('counts each sign-in once it commits, and a sign-in that fails not at all', async () => {
    const ann = await aUser('ann');
    await start('s1', ann);
    await start('s2', ann);
    expect(await open()).toBe(2);
    // The password changed while the sign-in ran: it rolls back, the count with it.
    await expect(start('s3', ann, T0, { ...NO_RULES, passwordHash: 'an older hash' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(await open()).toBe(2);
  });

  it('stops counting a session once, whichever way it ends', async () => {
    const ann = await aUser('ann');
    const bob = await aUser('bob');
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) await start(id, ann);
    for (const id of ['b1', 'b2']) await start(id, bob);
    expect(await open()).toBe(7);

    await store.revokeSession(ann, 'a1', revocation('logout', ann));
    await store.revokeSession(ann, 'a1', revocation('logout', ann)); // already ended: nothing changes
    expect(await open()).toBe(6);
    const signedIn = newEvent('signed_in', T0, { userId: ann, sessionId: 'a2' }, false);
    await store.recordEvents([signedIn]);
    await store.reportSignIn({ eventId: signedIn.id, userId: ann, sessionId: 'a2', revocation: revocation('remote_logout', ann), events: () => [] });
    expect(await open()).toBe(5);
    await store.changePassword({
      userId: ann,
      currentPasswordHash: HASH,
      passwordHash: `${HASH}x`,
      keepSessionId: 'a3',
      revocation: revocation('password_changed', ann),
    });
    expect(await open()).toBe(3); // a4 and a5 ended, a3 kept
    await store.revokeUserSessions(ann, revocation('logout', ann));
    expect(await open()).toBe(2);
    await store.setUserDisabled({ userId: bob, disabled: true, at: T0 + 1, by: ann, events: () => [] });
    expect(await open()).toBe(0);
  });

  it('counts the sessions a sign-in replaces or evicts as ended in the same transaction', async () => {
    const ann = await aUser('ann');
    await start('s1', ann);
    await start('s2', ann, T0 + 1, { ...NO_RULES, replaceSameDevice: true }); // same browser and address: s1 is replaced
    expect(await open()).toBe(1);
    await start('s3', ann, T0 + 2);
    await start('s4', ann, T0 + 3, { ...NO_RULES, maxSessions: 2 }); // over the cap: the oldest goes
    expect(await open()).toBe(2);
  });

  it('stops counting an expired session when the sweep records its expiry, and not again when it is revoked or purged', async () => {
    const ann = await aUser('ann');
    await start('s1', ann);
    await start('s2', ann, T0 + DAY);
    expect(await store.recordSessionExpiries(T0 + DAY + 1, 10, () => [])).toBe(1); // s1 was idle a day
    expect(await open()).toBe(1);
    await store.revokeUserSessions(ann, revocation('logout', ann, T0 + DAY + 2)); // ends s2, and marks the expired s1 revoked
    expect(await open()).toBe(0);
    expect(await store.purgeEndedSessions(T0 + 400 * DAY, 10)).toBe(2);
    expect(await open()).toBe(0);
  });

  it('stops counting a session that ran out and was purged before the sweep recorded it', async () => {
    const ann = await aUser('ann');
    await start('s1', ann);
    await start('s2', ann, T0 + 100 * DAY);
    expect(await store.purgeEndedSessions(T0 + 50 * DAY, 10)).toBe(1);
    expect(await open()).toBe(1);
  });

  it('keeps the count when the sweep settles it, even on several nodes at once, leaving one row to read', async () => {
    const ann = await aUser('ann');
    for (let i = 0; i < 12; i++) await start(`s${i}`, ann);
    for (let i = 0; i < 5; i++) await store.revokeSession(ann, `s${i}`, revocation('logout', ann));
    // A second node of its own; on SQLite, processes take turns on the file, and in one
    // process a second connection would wait on the thread the first needs to commit.
    const other = kind === 'postgres' ? await openStore(database.location) : store;
    try {
      await Promise.all([store.settleOpenSessionCount(), other.settleOpenSessionCount(), store.settleOpenSessionCount()]);
    } finally {
      if (other !== store) await other.close();
    }
    expect(await open()).toBe(7);
    const rows = await store.db.selectFrom('open_session_changes').select('delta').execute();
    expect(rows.map((row) => Number(row.delta))).toEqual([7]);
    await store.settleOpenSessionCount(); // nothing to fold
    expect(await open()).toBe(7);
  });
});
