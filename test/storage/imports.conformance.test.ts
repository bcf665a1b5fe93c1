import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent } from '../../src/core/activity.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import type { ImportedUser, NewUser } from '../../src/storage/store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';
import { newSessionRecord, T0 } from '../helpers/records.js';

/**
 * The Store contract for `gatehouse import` (src/storage/store.ts), on every database: a user
 * comes whole with its sessions or not at all, a source row is imported once, and an account
 * Gatehouse has is never overwritten.
 */

const BCRYPT = '$2b$04$abcdefghijklmnopqrstuuN9fD1hJtXhO5u1Pd5CwA6cW/V.K8y3m';
const OTHER_BCRYPT = '$2b$04$zyxwvutsrqponmlkjihgfeQpZ3fJ9c8bUo2W0hF6zN1mS4eV7yT5a';

let counter = 0;
const nextId = (prefix: string) => `${prefix}-imports-${String(++counter).padStart(5, '0')}`;

function anImport(overrides: Partial<ImportedUser> = {}, user: Partial<NewUser> = {}): ImportedUser {
  const id = nextId('user');
  const email = `${id}@example.com`;
  return {
    source: 'app',
    userTable: 'Users',
    sessionTable: 'User_Logins',
    sourceId: String(++counter),
    user: { id, email, emailKey: email, name: 'Imported', passwordHash: BCRYPT, role: 'user', createdAt: T0 - 1000, ...user },
    sessions: [
      { sourceId: String(++counter), session: newSessionRecord(nextId('session'), id) },
      { sourceId: String(++counter), session: newSessionRecord(nextId('session'), id, T0 + 1) },
    ],
    devices: [{ key: '["Firefox","Ubuntu","desktop","NL"]', at: T0 }],
    events: [newEvent('account_imported', T0, { userId: id, actor: 'cli', detail: { source: 'app', source_id: '1', sessions: 2 } }, false)],
    at: T0,
    ...overrides,
  };
}

describe.each(DATABASES)('imports in the store on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  const rowsOf = async (userId: string) => ({
    user: await store.findUserById(userId),
    sessions: await store.db.selectFrom('sessions').select('id').where('user_id', '=', userId).orderBy('id').execute(),
    events: await store.db.selectFrom('events').select('type').where('user_id', '=', userId).execute(),
    devices: await store.db.selectFrom('known_devices').select('device_key').where('user_id', '=', userId).execute(),
  });

  it('writes the user, its sessions, devices and events, and remembers each source row', async () => {
    const entry = anImport();
    expect(await store.importUser(entry)).toBe('imported');
    const rows = await rowsOf(entry.user.id);
    expect(rows.user).toMatchObject({ ...entry.user, disabledAt: null, updatedAt: entry.user.createdAt, passwordChangedAt: entry.user.createdAt });
    expect(rows.sessions.map((s) => s.id)).toEqual(entry.sessions.map((s) => s.session.id).sort());
    expect(rows.events).toEqual([{ type: 'account_imported' }]);
    expect(rows.devices).toEqual([{ device_key: '["Firefox","Ubuntu","desktop","NL"]' }]);
    expect(await store.countOpenSessions()).toBe(entry.sessions.length);
    expect(await store.findImportedRows('app', 'Users', [entry.sourceId, 'nobody'])).toEqual(new Map([[entry.sourceId, entry.user.id]]));
    expect(
      await store.findImportedRows(
        'app',
        'User_Logins',
        entry.sessions.map((s) => s.sourceId),
      ),
    ).toEqual(new Map(entry.sessions.map((s) => [s.sourceId, s.session.id])));
    // Rows are filed by source: another app's user 1 is not this one's.
    expect(await store.findImportedRows('other-app', 'Users', [entry.sourceId])).toEqual(new Map());
  });

  it('writes nothing for a source row imported before, even with a new id', async () => {
    const first = anImport();
    await store.importUser(first);
    const again = anImport({ sourceId: first.sourceId });
    expect(await store.importUser(again)).toBe('already_imported');
    expect(await rowsOf(again.user.id)).toEqual({ user: undefined, sessions: [], events: [], devices: [] });
  });

  it('writes nothing, not even the source row, when the email key has an account', async () => {
    const existing = anImport();
    await store.importUser(existing);
    const clash = anImport({}, { email: existing.user.email.toUpperCase(), emailKey: existing.user.emailKey });
    expect(await store.importUser(clash)).toBe('email_taken');
    expect(await rowsOf(clash.user.id)).toEqual({ user: undefined, sessions: [], events: [], devices: [] });
    expect(await store.findImportedRows('app', 'Users', [clash.sourceId])).toEqual(new Map());
    expect(
      await store.findImportedRows(
        'app',
        'User_Logins',
        clash.sessions.map((s) => s.sourceId),
      ),
    ).toEqual(new Map());
    expect(await store.findUserById(existing.user.id)).toMatchObject(existing.user);
  });

  it('writes nothing when any part fails: the user comes whole or not at all', async () => {
    const entry = anImport();
    // The second session's id is the first's: its insert fails after the user and the first are written.
    entry.sessions[1]!.session = { ...entry.sessions[1]!.session, id: entry.sessions[0]!.session.id };
    await expect(store.importUser(entry)).rejects.toThrow();
    expect(await rowsOf(entry.user.id)).toEqual({ user: undefined, sessions: [], events: [], devices: [] });
    expect(await store.findImportedRows('app', 'Users', [entry.sourceId])).toEqual(new Map());
  });

  it('of two imports of one source row at once, writes one', async () => {
    const first = anImport();
    const second = anImport({ sourceId: first.sourceId });
    const outcomes = await Promise.all([store.importUser(first), store.importUser(second)]);
    expect(outcomes.sort()).toEqual(['already_imported', 'imported']);
    expect(await store.db.selectFrom('imported_rows').select('target_id').where('source_id', '=', first.sourceId).execute()).toHaveLength(1);
  });

  it('tells which email keys have an account', async () => {
    const entry = anImport();
    await store.importUser(entry);
    expect(await store.findTakenEmailKeys([entry.user.emailKey, 'nobody@example.com'])).toEqual(new Set([entry.user.emailKey]));
    expect(await store.findTakenEmailKeys([])).toEqual(new Set());
    // More keys than a statement takes parameters on SQLite: asked in parts.
    const many = Array.from({ length: 40_000 }, (_, i) => `someone-${i}@example.com`);
    expect(await store.findTakenEmailKeys([...many, entry.user.emailKey])).toEqual(new Set([entry.user.emailKey]));
    expect((await store.findImportedRows('app', 'Users', [...many, entry.sourceId])).size).toBe(1);
  });

  it("adds an imported user's new sessions, each source row once, and replaces a hash that is still the imported one", async () => {
    const entry = anImport();
    await store.importUser(entry);
    const newer = { sourceId: String(++counter), session: newSessionRecord(nextId('session'), entry.user.id, T0 + 5) };
    const update = { source: 'app', sessionTable: 'User_Logins', userId: entry.user.id, devices: [], at: T0 + 10 };
    expect(
      await store.updateImportedUser({ ...update, sessions: [entry.sessions[0]!, newer], passwordHash: { imported: BCRYPT, current: OTHER_BCRYPT } }),
    ).toEqual({
      sessions: 1,
      passwordReplaced: true,
    });
    expect(await store.findUserById(entry.user.id)).toMatchObject({ passwordHash: OTHER_BCRYPT, passwordChangedAt: T0 + 10, updatedAt: T0 + 10 });
    expect((await rowsOf(entry.user.id)).sessions).toHaveLength(3);
    expect(await store.countOpenSessions()).toBe(3);
    // The owner's hash is no longer the imported one (they signed in): it stays theirs.
    expect(await store.updateImportedUser({ ...update, sessions: [], passwordHash: { imported: BCRYPT, current: '$2b$04$another' } })).toEqual({
      sessions: 0,
      passwordReplaced: false,
    });
    expect((await store.findUserById(entry.user.id))!.passwordHash).toBe(OTHER_BCRYPT);
  });

  it('writes nothing for an imported user that is no longer there', async () => {
    const session = { sourceId: String(++counter), session: newSessionRecord(nextId('session'), 'gone') };
    expect(
      await store.updateImportedUser({ source: 'app', sessionTable: 'User_Logins', userId: 'gone', sessions: [session], devices: [], at: T0 }),
    ).toBeUndefined();
    expect(await store.findImportedRows('app', 'User_Logins', [session.sourceId])).toEqual(new Map());
  });
});
