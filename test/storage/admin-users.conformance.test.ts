import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type ActivityEvent } from '../../src/core/activity.js';
import { prefixEnd } from '../../src/storage/kysely/admin-users.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import type { UserChange } from '../../src/storage/store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';
import { HOUR, newSessionRecord, T0 } from '../helpers/records.js';

/**
 * The Store contract of administration (src/storage/store.ts: findUsersByEmail,
 * setUserDisabled, setUserRole), on every database.
 */

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

let counter = 0;
const nextId = (prefix: string) => `${prefix}-admin-${String(++counter).padStart(5, '0')}`;

describe.each(DATABASES)('administration in the store on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await createTestStore(kind));
  });
  afterAll(() => close());

  async function aUser(email = `${nextId('user')}@example.com`): Promise<string> {
    const id = nextId('user');
    await store.createUser({ id, email, emailKey: email.toLowerCase(), name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
    return id;
  }

  async function aSession(userId: string): Promise<string> {
    const id = nextId('session');
    await store.startSession(newSessionRecord(id, userId), { replaceSameDevice: false, maxSessions: 0, passwordHash: HASH });
    return id;
  }

  const disabledEvent =
    (userId: string) =>
    ({ changed, revoked }: UserChange): ActivityEvent[] =>
      changed ? [newEvent('account_disabled', T0 + HOUR, { userId, actor: 'cli', detail: { session_ids: revoked.map((s) => s.id) } }, false)] : [];
  const history = async (userId: string) => (await store.listUserEvents(userId, { limit: 100 })).map((e) => [e.type, e.actor, e.detail]);

  describe('finding users by the start of their email', () => {
    const emails = ['ann@example.com', 'Ann.B@example.com', 'anna@example.org', 'anne@example.com', 'bob@example.com', 'a_b@example.com', 'ünal@example.de'];
    let search: (prefix: string, page?: { after?: string; limit: number }) => Promise<string[]>;
    beforeAll(async () => {
      const other = await createTestStore(kind);
      const db = other.store;
      for (const email of emails)
        await db.createUser({ id: nextId('user'), email, emailKey: email.toLowerCase(), name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
      search = async (prefix, page = { limit: 100 }) => (await db.findUsersByEmail(prefix, page)).map((u) => u.email);
      return () => other.close();
    });

    it('finds every account whose email key starts with the prefix, in code point order on both databases', async () => {
      // '.' < '@' < 'a' < 'e' by code point; a linguistic collation would ignore the punctuation.
      expect(await search('ann')).toEqual(['Ann.B@example.com', 'ann@example.com', 'anna@example.org', 'anne@example.com']);
    });

    it('finds one account by its whole email, and not a longer one', async () => {
      expect(await search('anna@example.org')).toEqual(['anna@example.org']);
      expect(await search('ann@example.com')).toEqual(['ann@example.com']);
    });

    it('lists every account for an empty prefix, and none for a prefix nobody has', async () => {
      expect(await search('')).toEqual([
        'a_b@example.com',
        'Ann.B@example.com',
        'ann@example.com',
        'anna@example.org',
        'anne@example.com',
        'bob@example.com',
        'ünal@example.de',
      ]);
      expect(await search('carol')).toEqual([]);
    });

    it('takes LIKE wildcards in the prefix literally', async () => {
      expect(await search('a_')).toEqual(['a_b@example.com']);
      expect(await search('%')).toEqual([]);
      expect(await search('a%')).toEqual([]);
    });

    it('finds non-ASCII emails by their first letters', async () => {
      expect(await search('ü')).toEqual(['ünal@example.de']);
      expect(await search('u')).toEqual([]);
    });

    it.runIf(kind === 'postgres')('is an index range on PostgreSQL (migration 0006), not a scan of every account', async () => {
      const plan = await store.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        return sql`explain select * from users where email_key collate "C" >= 'ann' and email_key collate "C" < 'ano' order by email_key collate "C" limit 21`.execute(
          trx,
        );
      });
      expect(JSON.stringify(plan.rows)).toMatch(/Index Scan (using|on) users_email_key_c/);
    });

    it('pages after the last key of the previous page, with no repeats and no gaps', async () => {
      const first = await search('an', { limit: 2 });
      expect(first).toEqual(['Ann.B@example.com', 'ann@example.com']);
      const second = await search('an', { after: 'ann@example.com', limit: 2 });
      expect(second).toEqual(['anna@example.org', 'anne@example.com']);
      expect(await search('an', { after: 'anne@example.com', limit: 2 })).toEqual([]);
    });
  });

  describe('disabling an account', () => {
    it('sets its time, ends every active session of it with who did it, and writes the events, together', async () => {
      const user = await aUser();
      const sessions = [await aSession(user), await aSession(user)];
      const other = await aUser();
      const untouched = await aSession(other);
      const change = await store.setUserDisabled({ userId: user, disabled: true, at: T0 + HOUR, by: 'admin-1', events: disabledEvent(user) });
      expect(change).toMatchObject({
        changed: true,
        user: { id: user, disabledAt: T0 + HOUR, updatedAt: T0 + HOUR },
        previous: { disabledAt: null, updatedAt: T0 },
      });
      expect(change!.revoked.map((s) => s.id).sort()).toEqual([...sessions].sort());
      for (const id of sessions)
        expect(await store.findSession(id)).toMatchObject({ revokedAt: T0 + HOUR, revokedReason: 'account_disabled', revokedBy: 'admin-1' });
      expect(await store.findSession(untouched)).toMatchObject({ revokedAt: null });
      expect(await store.findUserById(user)).toMatchObject({ disabledAt: T0 + HOUR });
      expect(await history(user)).toEqual([['account_disabled', 'cli', { session_ids: change!.revoked.map((s) => s.id) }]]);
      expect((await store.listRevokedSince(T0 + HOUR)).map((s) => s.id)).toEqual(expect.arrayContaining(sessions));
    });

    it('keeps the first time when disabled again, and reports no change', async () => {
      const user = await aUser();
      await store.setUserDisabled({ userId: user, disabled: true, at: T0 + HOUR, by: 'cli', events: disabledEvent(user) });
      const again = await store.setUserDisabled({ userId: user, disabled: true, at: T0 + 2 * HOUR, by: 'cli', events: disabledEvent(user) });
      expect(again).toMatchObject({ changed: false, revoked: [], user: { disabledAt: T0 + HOUR } });
      expect(await history(user)).toHaveLength(1);
    });

    it('refuses new sessions of the disabled account', async () => {
      const user = await aUser();
      await store.setUserDisabled({ userId: user, disabled: true, at: T0 + HOUR, by: 'cli', events: () => [] });
      await expect(aSession(user)).rejects.toMatchObject({ code: 'invalid_credentials' });
      expect(await store.listUserSessions(user, T0 + HOUR)).toEqual([]);
    });

    it('changes nothing when its events cannot be written', async () => {
      const user = await aUser();
      const session = await aSession(user);
      const failing = () => {
        throw new Error('events refused');
      };
      await expect(store.setUserDisabled({ userId: user, disabled: true, at: T0 + HOUR, by: 'cli', events: failing })).rejects.toThrow('events refused');
      expect(await store.findUserById(user)).toMatchObject({ disabledAt: null });
      expect(await store.findSession(session)).toMatchObject({ revokedAt: null });
    });

    it('answers undefined for an unknown user, writing nothing', async () => {
      const events = () => [newEvent('account_disabled', T0, { userId: 'nobody', actor: 'cli' }, false)];
      expect(await store.setUserDisabled({ userId: 'nobody', disabled: true, at: T0, by: 'cli', events })).toBeUndefined();
      expect(await store.findEvent(events()[0]!.id)).toBeUndefined();
    });

    it('lets exactly one of many parallel disables make the change', async () => {
      const user = await aUser();
      await aSession(user);
      const changes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.setUserDisabled({ userId: user, disabled: true, at: T0 + HOUR + i, by: 'cli', events: disabledEvent(user) })),
      );
      expect(changes.filter((c) => c!.changed)).toHaveLength(1);
      expect(changes.flatMap((c) => c!.revoked)).toHaveLength(1);
      expect(await history(user)).toHaveLength(1);
    });
  });

  describe('enabling an account', () => {
    it('clears the time and leaves the ended sessions ended', async () => {
      const user = await aUser();
      const session = await aSession(user);
      await store.setUserDisabled({ userId: user, disabled: true, at: T0 + HOUR, by: 'cli', events: () => [] });
      const enabled = await store.setUserDisabled({ userId: user, disabled: false, at: T0 + 2 * HOUR, by: 'cli', events: () => [] });
      expect(enabled).toMatchObject({ changed: true, revoked: [], user: { disabledAt: null, updatedAt: T0 + 2 * HOUR }, previous: { disabledAt: T0 + HOUR } });
      expect(await store.findSession(session)).toMatchObject({ revokedReason: 'account_disabled' });
      expect(await store.findUserById(user)).toMatchObject({ disabledAt: null });
      await aSession(user);
    });

    it('reports no change for an account that is not disabled', async () => {
      const user = await aUser();
      const session = await aSession(user);
      expect(await store.setUserDisabled({ userId: user, disabled: false, at: T0 + HOUR, by: 'cli', events: () => [] })).toMatchObject({
        changed: false,
        user: { updatedAt: T0 },
      });
      expect(await store.findSession(session)).toMatchObject({ revokedAt: null });
    });
  });

  describe('roles', () => {
    const roleEvent =
      (userId: string) =>
      ({ changed, user, previous }: UserChange): ActivityEvent[] =>
        changed ? [newEvent('role_changed', T0 + HOUR, { userId, actor: 'cli', detail: { role: user.role, previous_role: previous.role } }, false)] : [];

    it('gives the user the role, says which it had, and writes the event with it', async () => {
      const user = await aUser();
      const change = await store.setUserRole({ userId: user, role: 'admin', at: T0 + HOUR, events: roleEvent(user) });
      expect(change).toMatchObject({ changed: true, user: { role: 'admin', updatedAt: T0 + HOUR }, previous: { role: 'user' } });
      expect(await store.findUserById(user)).toMatchObject({ role: 'admin' });
      expect(await history(user)).toEqual([['role_changed', 'cli', { role: 'admin', previous_role: 'user' }]]);
      await store.setUserRole({ userId: user, role: 'user', at: T0 + 2 * HOUR, events: roleEvent(user) });
      expect(await store.findUserById(user)).toMatchObject({ role: 'user', updatedAt: T0 + 2 * HOUR });
    });

    it('reports no change when the user has the role already', async () => {
      const user = await aUser();
      expect(await store.setUserRole({ userId: user, role: 'user', at: T0 + HOUR, events: roleEvent(user) })).toMatchObject({
        changed: false,
        user: { updatedAt: T0 },
      });
      expect(await history(user)).toEqual([]);
    });

    it('answers undefined for an unknown user', async () => {
      expect(await store.setUserRole({ userId: 'nobody', role: 'admin', at: T0, events: () => [] })).toBeUndefined();
    });
  });
});

describe('the end of a prefix range', () => {
  it('is the prefix with its last code point one higher', () => {
    expect(prefixEnd('ann')).toBe('ano');
    expect(prefixEnd('a@')).toBe('aA');
    expect(prefixEnd('ü')).toBe('ý');
    expect(prefixEnd('a\u{1F600}')).toBe('a\u{1F601}');
  });

  it('skips the surrogates, which no stored text holds', () => {
    expect(prefixEnd('a\uD7FF')).toBe('a\uE000');
  });

  it('drops trailing U+10FFFF, and needs no bound when nothing is left', () => {
    expect(prefixEnd('a\u{10FFFF}')).toBe('b');
    expect(prefixEnd('\u{10FFFF}')).toBeUndefined();
    expect(prefixEnd('')).toBeUndefined();
  });
});
