import { hashSync } from '@node-rs/bcrypt';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openLocator } from '../../src/geo/open-locator.js';
import type { Locator } from '../../src/geo/locator.js';
import type { ImportPolicy } from '../../src/import/plan.js';
import type { ImportReport } from '../../src/import/report.js';
import { runImport } from '../../src/import/run-import.js';
import { SourceReader } from '../../src/import/source-reader.js';
import { sourceDatabase } from '../../src/import/source-url.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import type { Store } from '../../src/storage/store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';
import { T0 } from '../helpers/records.js';
import { createSequelizeSource, oldAppJwt, type SequelizeSource } from './sequelize-source.js';

/**
 * `gatehouse import` in-process, from a real PostgreSQL database filled with the Express +
 * Sequelize layout into a Gatehouse on each database: which users and logins come over, that a
 * dry run writes nothing, that a rerun changes nothing, and that no account is overwritten.
 */

const POLICY: ImportPolicy = { idleTtlSeconds: 14 * 86_400, maxAgeSeconds: 90 * 86_400, maxSessions: 0 };
const FIREFOX = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const DAY = 86_400_000;
const ago = (days: number) => new Date(T0 - days * DAY);

let locator: Locator;
beforeAll(async () => {
  locator = await openLocator({ kind: 'bundled' }, () => {});
});

/** The rows of every table an import writes, to compare before and after. */
async function snapshot(store: KyselyStore): Promise<unknown> {
  const read = (table: 'users' | 'sessions' | 'events', key: 'id') => store.db.selectFrom(table).selectAll().orderBy(key).execute();
  return {
    users: await read('users', 'id'),
    sessions: await read('sessions', 'id'),
    events: await read('events', 'id'),
    known_devices: await store.db.selectFrom('known_devices').selectAll().orderBy('user_id').orderBy('device_key').execute(),
    imported_rows: await store.db.selectFrom('imported_rows').selectAll().orderBy('source_table').orderBy('source_id').execute(),
    webhook_deliveries: await store.db.selectFrom('webhook_deliveries').selectAll().orderBy('event_id').execute(),
  };
}

/** The app's data: users of every kind the import must tell apart, and logins in every state. */
async function fill(source: SequelizeSource) {
  const ann = await source.addUser({ email: ' Ann@Example.com', name: 'Ann Smith', createdAt: new Date('2024-03-01T08:00:00Z') });
  const firefox = await source.addLogin({ userId: ann, ip: '::ffff:81.2.69.142', device: FIREFOX, createdAt: ago(10), updatedAt: ago(1) });
  await source.addLogin({ userId: ann, createdAt: ago(5), tokenDeleted: true });
  await source.addLogin({ userId: ann, createdAt: ago(5), loggedOut: true });
  await source.addLogin({ userId: ann, createdAt: ago(4), tokenId: 'blacklisted-by-id' });
  await source.blacklist('blacklisted-by-id', ago(3));
  await source.addLogin({ userId: ann, createdAt: ago(4), tokenId: 'blacklisted-in-a-jwt' });
  await source.blacklist(oldAppJwt({ id: ann, token_id: 'blacklisted-in-a-jwt', exp: 1 }), ago(3));
  await source.addLogin({ userId: ann, createdAt: ago(30), updatedAt: ago(20) }); // idle for 20 days > 14
  await source.addLogin({ userId: ann, createdAt: ago(100), updatedAt: ago(1) }); // signed in 100 days ago > 90
  await source.addLogin({ userId: ann, createdAt: ago(2), tokenExpired: true });
  const chrome = await source.addLogin({ userId: ann, ip: '1.1.1.1', device: CHROME, createdAt: ago(3), updatedAt: ago(2) });
  const bob = await source.addUser({ email: 'bob@example.com' });
  const carol = await source.addUser({ email: 'carol@example.com', name: 'Carol from the old app' });
  await source.addLogin({ userId: carol, createdAt: ago(1) });
  const dave = await source.addUser({ email: 'dave@example.com' });
  const daveAgain = await source.addUser({ email: 'Dave@Example.com' });
  const eve = await source.addUser({ email: 'eve@example.com', password: null });
  const frank = await source.addUser({ email: 'frank@example.com', passwordHash: 'sha1$deadbeef' });
  const gina = await source.addUser({ email: 'not an email' });
  return { ann, bob, carol, dave, daveAgain, eve, frank, gina, firefox, chrome };
}

const EXPECTED_USERS = {
  imported: 2,
  alreadyImported: 0,
  passwordsUpdated: 0,
  skipped: {
    deleted_in_source: 0,
    invalid_email: 1,
    duplicate_email: 2,
    no_password: 1,
    unsupported_password_hash: 1,
    password_hash_too_costly: 0,
    email_taken: 1,
  },
};
const EXPECTED_SESSIONS = { imported: 2, alreadyImported: 0, skipped: { revoked: 2, expired: 3, blacklisted: 2, beyond_session_limit: 0, user_skipped: 1 } };

describe.each(DATABASES)('gatehouse import from PostgreSQL into %s', (kind) => {
  let source: SequelizeSource;
  let store: KyselyStore;
  let close: () => Promise<void>;
  let ids: Awaited<ReturnType<typeof fill>>;
  let carolId: string;

  beforeEach(async () => {
    source = await createSequelizeSource();
    ({ store, close } = await createTestStore(kind));
    ids = await fill(source);
    // Carol signed up to Gatehouse herself already, with her address in other case.
    carolId = 'carol-in-gatehouse';
    await store.createUser({
      id: carolId,
      email: 'Carol@Example.com',
      emailKey: 'carol@example.com',
      name: 'Carol',
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      role: 'user',
      createdAt: T0 - DAY,
    });
  });
  afterEach(async () => {
    await close();
    await source.drop();
  });

  async function importNow(
    options: { dryRun?: boolean; now?: number; into?: Store; policy?: ImportPolicy; emailsVerified?: boolean } = {},
  ): Promise<ImportReport> {
    const reader = await SourceReader.open(sourceDatabase(source.url)!, 'public');
    try {
      return await runImport({
        reader,
        store: options.into ?? store,
        source: 'app',
        dryRun: options.dryRun ?? false,
        ...(options.emailsVerified ? { emailsVerified: true } : {}),
        policy: options.policy ?? POLICY,
        locator,
        now: options.now ?? T0,
        batchSize: 2,
      });
    } finally {
      await reader.close();
    }
  }

  it('brings users with their bcrypt hashes, and only their live logins as sessions, and says what it left out and why', async () => {
    const report = await importNow();
    expect(report.users).toEqual(EXPECTED_USERS);
    expect(report.sessions).toEqual(EXPECTED_SESSIONS);
    expect(report.skippedUsers).toEqual([
      { sourceId: String(ids.carol), reason: 'email_taken' },
      { sourceId: String(ids.dave), reason: 'duplicate_email' },
      { sourceId: String(ids.daveAgain), reason: 'duplicate_email' },
      { sourceId: String(ids.eve), reason: 'no_password' },
      { sourceId: String(ids.frank), reason: 'unsupported_password_hash' },
      { sourceId: String(ids.gina), reason: 'invalid_email' },
    ]);
    expect(report.columns.Users).toMatchObject({ email: 'email', password: 'password', name: 'name', createdAt: 'createdAt' });

    const ann = (await store.findUserByEmail('ann@example.com'))!;
    const { rows } = await source.query('SELECT "password" FROM "Users" WHERE "id" = $1', [ids.ann]);
    expect(ann).toMatchObject({
      email: 'Ann@Example.com',
      name: 'Ann Smith',
      role: 'user',
      passwordHash: rows[0].password,
      createdAt: Date.parse('2024-03-01T08:00:00Z'),
    });
    expect(ann.passwordHash).toMatch(/^\$2b\$04\$/);
    expect(ann.id).not.toBe(String(ids.ann));

    const sessions = await store.listUserSessions(ann.id, T0);
    expect(
      sessions.map((s) => ({ ip: s.client.ip, country: s.client.country, label: s.client.device.label, createdAt: s.createdAt, lastActiveAt: s.lastActiveAt })),
    ).toEqual([
      { ip: '81.2.69.142', country: 'GB', label: 'Firefox 121 on Ubuntu', createdAt: ago(10).getTime(), lastActiveAt: ago(1).getTime() },
      { ip: '1.1.1.1', country: 'AU', label: 'Chrome 120 on Windows 10', createdAt: ago(3).getTime(), lastActiveAt: ago(2).getTime() },
    ]);
    // Held to Gatehouse's limits from the old times: idle from the last update, absolute from the sign-in.
    expect(sessions[0]).toMatchObject({ idleExpiresAt: ago(1).getTime() + 14 * DAY, expiresAt: ago(10).getTime() + 90 * DAY, revokedAt: null });

    const bob = (await store.findUserByEmail('bob@example.com'))!;
    expect(bob.name).toBeNull();
    expect(await store.listUserSessions(bob.id, T0)).toEqual([]);
    for (const skipped of ['dave@example.com', 'eve@example.com', 'frank@example.com']) expect(await store.findUserByEmail(skipped)).toBeUndefined();
  });

  it('imports addresses unverified, unless told the old app verified them', async () => {
    await importNow();
    const imported = await store.db.selectFrom('users').select('email_verified_at').where('id', '!=', carolId).execute();
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.every((u) => u.email_verified_at === null)).toBe(true);
  });

  it('imports addresses verified with --emails-verified', async () => {
    await importNow({ emailsVerified: true, now: T0 });
    const imported = await store.db.selectFrom('users').select('email_verified_at').where('id', '!=', carolId).execute();
    expect(imported.every((u) => Number(u.email_verified_at) === T0)).toBe(true);
  });

  it('never touches an account Gatehouse has, whatever the case of its email in the source', async () => {
    const before = await store.findUserById(carolId);
    await importNow();
    expect(await store.findUserById(carolId)).toEqual(before);
    expect(await store.listUserSessions(carolId, T0)).toEqual([]);
    expect(await store.db.selectFrom('users').select('id').where('email_key', '=', 'carol@example.com').execute()).toHaveLength(1);
  });

  it('writes an account_imported event per user, and remembers the devices it used in the old app', async () => {
    await importNow();
    const ann = (await store.findUserByEmail('ann@example.com'))!;
    const events = await store.listUserEvents(ann.id, { limit: 10 });
    expect(events.map((e) => ({ type: e.type, at: e.at, actor: e.actor, detail: e.detail }))).toEqual([
      { type: 'account_imported', at: T0, actor: 'cli', detail: { source: 'app', source_id: String(ids.ann), sessions: 2 } },
    ]);
    const devices = await store.db.selectFrom('known_devices').select('device_key').where('user_id', '=', ann.id).execute();
    // Firefox/Ubuntu from GB and Chrome/Windows from AU (live), and Firefox/Ubuntu from the
    // test address (no country): the logins that ended count as devices she used too.
    expect(devices.map((d) => JSON.parse(d.device_key))).toEqual(
      expect.arrayContaining([
        ['Firefox', 'Ubuntu', 'desktop', 'GB'],
        ['Chrome', 'Windows', 'desktop', 'AU'],
        ['Firefox', 'Ubuntu', 'desktop', null],
      ]),
    );
    expect(await store.db.selectFrom('webhook_deliveries').selectAll().execute()).toEqual([]);
  });

  it('writes nothing in a dry run, and reports what the real run then does', async () => {
    const before = await snapshot(store);
    const dry = await importNow({ dryRun: true });
    expect(await snapshot(store)).toEqual(before);
    const real = await importNow();
    expect({ ...dry, dryRun: false }).toEqual(real);
  });

  it('imports nothing and changes nothing when run again, and brings what is new in the source since', async () => {
    await importNow();
    const afterFirst = await snapshot(store);
    const again = await importNow({ now: T0 + 60_000 });
    expect(await snapshot(store)).toEqual(afterFirst);
    expect(again.users).toEqual({ ...EXPECTED_USERS, imported: 0, alreadyImported: 2 });
    expect(again.sessions).toEqual({ ...EXPECTED_SESSIONS, imported: 0, alreadyImported: 2 });
    expect(await importNow({ dryRun: true, now: T0 + 60_000 })).toEqual({ ...again, dryRun: true });

    const hank = await source.addUser({ email: 'hank@example.com' });
    await source.addLogin({ userId: hank, createdAt: ago(1) });
    await source.addLogin({ userId: ids.ann, createdAt: new Date(T0 + 30_000), device: CHROME, ip: '81.2.69.142' });
    const third = await importNow({ now: T0 + 120_000 });
    expect(third.users).toMatchObject({ imported: 1, alreadyImported: 2 });
    expect(third.sessions).toMatchObject({ imported: 2, alreadyImported: 2 });
    const ann = (await store.findUserByEmail('ann@example.com'))!;
    expect(await store.listUserSessions(ann.id, T0 + 120_000)).toHaveLength(3);
    expect(await store.listUserSessions((await store.findUserByEmail('hank@example.com'))!.id, T0 + 120_000)).toHaveLength(1);
  });

  it('takes a password changed in the source since, until the owner has signed in to Gatehouse', async () => {
    await importNow();
    const bob = (await store.findUserByEmail('bob@example.com'))!;
    const changed = hashSync('a new password for bob', 4);
    await source.query('UPDATE "Users" SET "password" = $1 WHERE "id" = $2', [changed, ids.bob]);
    expect((await importNow({ dryRun: true })).users.passwordsUpdated).toBe(1);
    expect((await store.findUserById(bob.id))!.passwordHash).toBe(bob.passwordHash);
    expect((await importNow()).users.passwordsUpdated).toBe(1);
    expect((await store.findUserById(bob.id))!).toMatchObject({ passwordHash: changed, passwordChangedAt: T0 });

    // Bob signs in to Gatehouse (his hash becomes argon2id); the old app's later change is not his password any more.
    await store.rehashPassword({ userId: bob.id, currentPasswordHash: changed, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' });
    await source.query('UPDATE "Users" SET "password" = $1 WHERE "id" = $2', [hashSync('yet another', 4), ids.bob]);
    expect((await importNow()).users.passwordsUpdated).toBe(0);
    expect((await store.findUserById(bob.id))!.passwordHash).toBe('$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
  });

  it('skips a user whose bcrypt hash is costlier than cost 12, which sign-in would not verify', async () => {
    const hank = await source.addUser({ email: 'hank@example.com', passwordHash: hashSync('hank', 4).replace('$04$', '$13$') });
    await source.addLogin({ userId: hank, createdAt: ago(1) });
    const report = await importNow();
    expect(report.users).toMatchObject({ imported: 2, skipped: { ...EXPECTED_USERS.skipped, password_hash_too_costly: 1 } });
    expect(report.sessions.skipped.user_skipped).toBe(EXPECTED_SESSIONS.skipped.user_skipped + 1);
    expect(report.skippedUsers).toContainEqual({ sourceId: String(hank), reason: 'password_hash_too_costly' });
    expect(await store.findUserByEmail('hank@example.com')).toBeUndefined();
  });

  it('holds a password changed in the source since to the same rule: a hash it would not import is not taken', async () => {
    await importNow();
    const bob = (await store.findUserByEmail('bob@example.com'))!;
    await source.addLogin({ userId: ids.bob, createdAt: ago(1) });
    const setHash = (hash: string | null) => source.query('UPDATE "Users" SET "password" = $1 WHERE "id" = $2', [hash, ids.bob]);
    // Cost 31: two sign-in attempts would hold every hashing worker for days.
    for (const [hash, reason] of [
      [hashSync('changed', 4).replace('$04$', '$31$'), 'password_hash_too_costly'],
      [hashSync('changed', 4).replace('$04$', '$13$'), 'password_hash_too_costly'],
      ['pbkdf2$310000$c2FsdA$aGFzaA', 'unsupported_password_hash'],
      [null, 'no_password'],
    ] as const) {
      await setHash(hash);
      for (const dryRun of [true, false]) {
        const report = await importNow({ dryRun });
        expect(report.users, `${hash} ${dryRun}`).toMatchObject({
          passwordsUpdated: 0,
          alreadyImported: 1,
          skipped: { ...EXPECTED_USERS.skipped, [reason]: EXPECTED_USERS.skipped[reason] + 1 },
        });
        expect(report.skippedUsers).toContainEqual({ sourceId: String(ids.bob), reason });
        // Its new login waits with it.
        expect(report.sessions).toMatchObject({ imported: 0, skipped: { user_skipped: EXPECTED_SESSIONS.skipped.user_skipped + 1 } });
      }
      expect((await store.findUserById(bob.id))!.passwordHash).toBe(bob.passwordHash);
      expect(await store.listUserSessions(bob.id, T0)).toEqual([]);
    }
    // Changed once more, to a hash it imports: the hash and the login come over.
    const changed = hashSync('a new password for bob', 4);
    await setHash(changed);
    expect((await importNow()).users).toMatchObject({ passwordsUpdated: 1, alreadyImported: 2, skipped: EXPECTED_USERS.skipped });
    expect((await store.findUserById(bob.id))!.passwordHash).toBe(changed);
    expect(await store.listUserSessions(bob.id, T0)).toHaveLength(1);
  });

  it('gives a user deleted in the source since nothing more, and says so', async () => {
    await importNow();
    const ann = (await store.findUserByEmail('ann@example.com'))!;
    await source.query('ALTER TABLE "Users" ADD COLUMN "deletedAt" TIMESTAMP WITH TIME ZONE');
    await source.query('UPDATE "Users" SET "deletedAt" = now(), "password" = $1 WHERE "id" = $2', [hashSync('changed after', 4), ids.ann]);
    await source.addLogin({ userId: ids.ann, createdAt: ago(1) });
    const report = await importNow();
    expect(report.users).toEqual({ ...EXPECTED_USERS, imported: 0, alreadyImported: 1, skipped: { ...EXPECTED_USERS.skipped, deleted_in_source: 1 } });
    expect(report.skippedUsers).toContainEqual({ sourceId: String(ids.ann), reason: 'deleted_in_source' });
    expect(report.sessions).toMatchObject({ imported: 0, skipped: { user_skipped: EXPECTED_SESSIONS.skipped.user_skipped + 1 } });
    // Its account here is as the first run left it.
    expect((await store.findUserById(ann.id))!.passwordHash).toBe(ann.passwordHash);
    expect(await store.listUserSessions(ann.id, T0)).toHaveLength(2);
  });

  it('leaves whole users when it stops midway, and a rerun finishes the job', async () => {
    let calls = 0;
    const failing = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'importUser') return value;
        return (entry: Parameters<Store['importUser']>[0]) => (++calls === 2 ? Promise.reject(new Error('the disk is full')) : value.call(target, entry));
      },
    });
    await expect(importNow({ into: failing })).rejects.toThrow('the disk is full');
    const ann = (await store.findUserByEmail('ann@example.com'))!;
    expect(await store.listUserSessions(ann.id, T0)).toHaveLength(2);
    expect(await store.findUserByEmail('bob@example.com')).toBeUndefined();

    const rerun = await importNow();
    expect(rerun.users).toMatchObject({ imported: 1, alreadyImported: 1 });
    expect(rerun.sessions).toMatchObject({ imported: 0, alreadyImported: 2 });
    expect(await store.findUserByEmail('bob@example.com')).toBeDefined();
  });

  it('keeps the most recently active logins when Gatehouse caps sessions per user', async () => {
    const report = await importNow({ policy: { ...POLICY, maxSessions: 1 } });
    expect(report.sessions).toMatchObject({ imported: 1, skipped: expect.objectContaining({ beyond_session_limit: 1 }) });
    const ann = (await store.findUserByEmail('ann@example.com'))!;
    expect((await store.listUserSessions(ann.id, T0)).map((s) => s.client.ip)).toEqual(['81.2.69.142']);
  });

  it('skips users the old app soft-deleted, and their address is free for another', async () => {
    await source.query('ALTER TABLE "Users" ADD COLUMN "deletedAt" TIMESTAMP WITH TIME ZONE');
    const gone = await source.addUser({ email: 'ivy@example.com' });
    await source.query('UPDATE "Users" SET "deletedAt" = now(), "email" = $1 WHERE "id" = $2', ['IVY@example.com', gone]);
    await source.addUser({ email: 'ivy@example.com' });
    const report = await importNow();
    expect(report.users).toMatchObject({ imported: 3, skipped: expect.objectContaining({ deleted_in_source: 1, duplicate_email: 2 }) });
    expect(await store.findUserByEmail('ivy@example.com')).toBeDefined();
  });
});
