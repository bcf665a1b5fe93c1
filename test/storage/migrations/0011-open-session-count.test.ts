import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connect } from '../../../src/storage/kysely/connect.js';
import { KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { fromNewSession } from '../../../src/storage/kysely/rows.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { createTestDatabase, DATABASES } from '../../helpers/databases.js';
import { newSessionRecord, T0, usersRowBefore0014 } from '../../helpers/records.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

describe.each(DATABASES)('migration 0011 (the open-session count) on %s', (kind) => {
  it('starts the count from the sessions already open, leaving out the revoked and the recorded as expired', async () => {
    const database = await createTestDatabase(kind, { empty: true });
    const { db, dialect } = connect(database.location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('0010-live-session-expiries')).error).toBeUndefined();
      const user = { id: 'u1', email: 'ann@example.com', emailKey: 'ann@example.com', name: null, passwordHash: HASH, role: 'user' as const };
      await db
        .insertInto('users')
        .values(usersRowBefore0014({ ...user, disabledAt: null, createdAt: T0, updatedAt: T0, passwordChangedAt: T0 }))
        .execute();
      const rows = ['open1', 'open2', 'open3', 'revoked', 'expired'].map((id) => fromNewSession(newSessionRecord(id, 'u1')));
      await db.insertInto('sessions').values(rows).execute();
      await db.updateTable('sessions').set({ revoked_at: T0, revoked_reason: 'logout', revoked_by: 'u1' }).where('id', '=', 'revoked').execute();
      await db.updateTable('sessions').set({ expiry_recorded_at: T0 }).where('id', '=', 'expired').execute();

      expect((await migrator.migrateTo('0011-open-session-count')).error).toBeUndefined();
      expect(await new KyselyStore(db, dialect).countOpenSessions()).toBe(3);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
