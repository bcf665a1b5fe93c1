import { Migrator, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connect } from '../../../src/storage/kysely/connect.js';
import { selectSigningKeys } from '../../../src/storage/kysely/signing-keys.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { signerAt } from '../../../src/keys/key-schedule.js';
import { createTestDatabase, DATABASES } from '../../helpers/databases.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');

describe.each(DATABASES)('migration 0004 (signing-key rotation) on %s', (kind) => {
  it('counts the keys already there as active since their creation, so the key that signed keeps signing', async () => {
    const database = await createTestDatabase(kind, { empty: true });
    const { db } = connect(database.location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('0003-activity')).error).toBeUndefined();
      // As the table was before 0004, which added activates_at (then, one unretired key signed).
      const row = (kid: string, at: number, retired: number | null) => ({
        kid,
        alg: 'EdDSA',
        public_jwk: '{}',
        private_jwk: '{}',
        created_at: at,
        retired_at: retired,
      });
      await (db as Kysely<any>)
        .insertInto('signing_keys')
        .values([row('retired', T0, T0 + 1000), row('current', T0 + 1000, null)])
        .execute();

      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const keys = await selectSigningKeys(db);
      expect(keys.map((k) => [k.kid, k.activatesAt])).toEqual([
        ['retired', T0],
        ['current', T0 + 1000],
      ]);
      expect(signerAt(keys, T0 + 2000)?.kid).toBe('current');
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
