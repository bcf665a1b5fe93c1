import { Migrator, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { emailKey } from '../../../src/core/email.js';
import { connect } from '../../../src/storage/kysely/connect.js';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { createTestDatabase, DATABASES } from '../../helpers/databases.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const THIS = '0008-ascii-email-domains';
/** A domain label of 60 characters, 66 in ASCII: it has no ASCII form DNS takes. */
const LONG_LABEL = `x@${'ä'.repeat(60)}.example`;

/** A user row as the table was before 0008, with the key registration made then: trimmed, NFC, lower case. */
const row = (id: string, email: string) => ({
  id,
  email,
  email_key: email.normalize('NFC').toLowerCase(),
  name: null,
  password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
  role: 'user',
  disabled_at: null,
  created_at: T0,
  updated_at: T0,
  password_changed_at: T0,
});

describe.each(DATABASES)('migration 0008 (email domains in ASCII form) on %s', (kind) => {
  it('rewrites accounts with a Unicode domain to the ASCII form, so they sign in spelled either way, and leaves the rest alone', async () => {
    const database = await createTestDatabase(kind, { empty: true });
    const { db } = connect(database.location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const names = Object.keys(await migrationProvider.getMigrations()).sort();
      expect((await migrator.migrateTo(names[names.indexOf(THIS) - 1]!)).error).toBeUndefined();

      // More than one batch (500) of accounts with Unicode domains, ids in no particular order.
      const many = Array.from({ length: 520 }, (_, i) => row(`m${(i * 7919) % 1000}`, `user${i}@bücher.example`));
      await (db as Kysely<any>)
        .insertInto('users')
        .values([
          row('zoe', 'Zoë@Bücher.example'),
          row('ann', 'Ann@Example.com'),
          row('bo-ascii', 'bo@xn--mnchen-3ya.de'),
          row('bo-unicode', 'bo@münchen.de'),
          row('long', LONG_LABEL),
        ])
        .execute();
      for (let at = 0; at < many.length; at += 100)
        await (db as Kysely<any>)
          .insertInto('users')
          .values(many.slice(at, at + 100))
          .execute();

      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const users = new Map((await (db as Kysely<any>).selectFrom('users').select(['id', 'email', 'email_key']).execute()).map((u) => [u.id, u]));
      expect(users.get('zoe')).toEqual({ id: 'zoe', email: 'Zoë@xn--bcher-kva.example', email_key: 'zoë@xn--bcher-kva.example' });
      expect(users.get('ann')).toEqual({ id: 'ann', email: 'Ann@Example.com', email_key: 'ann@example.com' });
      expect(users.get('m0')).toEqual({ id: 'm0', email: 'user0@xn--bcher-kva.example', email_key: 'user0@xn--bcher-kva.example' });
      expect([...users.values()].filter((u) => u.id.startsWith('m') && !u.email.endsWith('@xn--bcher-kva.example'))).toEqual([]);
      // Two accounts for two spellings of one address: the one holding the ASCII spelling keeps it.
      expect(users.get('bo-ascii')?.email_key).toBe('bo@xn--mnchen-3ya.de');
      expect(users.get('bo-unicode')?.email_key).toBe('bo@münchen.de');
      expect(users.get('long')?.email_key).toBe(LONG_LABEL);
    } finally {
      await db.destroy();
    }

    // What sign-in looks up (core emailKey) now finds each account, however its domain is typed.
    const store = await openStore(database.location);
    try {
      for (const [typed, id] of [
        ['zoë@bücher.example', 'zoe'],
        ['ZOË@xn--bcher-kva.example', 'zoe'],
        ['user7@BÜCHER.example', 'm' + ((7 * 7919) % 1000)],
        ['ann@example.com', 'ann'],
        ['bo@münchen.de', 'bo-ascii'],
        [LONG_LABEL, 'long'],
      ] as const) {
        expect((await store.findUserByEmail(emailKey(typed)))?.id, typed).toBe(id);
      }
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
