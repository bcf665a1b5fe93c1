import { Migrator, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { deviceKey } from '../../../src/core/activity.js';
import { connect } from '../../../src/storage/kysely/connect.js';
import { fromNewSession } from '../../../src/storage/kysely/rows.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { createTestDatabase, DATABASES } from '../../helpers/databases.js';
import { FIREFOX_CLIENT, newSessionRecord, T0, usersRowBefore0014 } from '../../helpers/records.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

describe.each(DATABASES)('migration 0003 (login history) on %s', (kind) => {
  it('knows the devices of the sessions already there, so an upgrade alerts nobody', async () => {
    const database = await createTestDatabase(kind, { empty: true });
    const { db } = connect(database.location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('0002-sign-in-limits')).error).toBeUndefined();
      const user = { id: 'u1', email: 'ann@example.com', emailKey: 'ann@example.com', name: null, passwordHash: HASH, role: 'user' as const };
      await db
        .insertInto('users')
        .values(usersRowBefore0014({ ...user, disabledAt: null, createdAt: T0, updatedAt: T0, passwordChangedAt: T0 }))
        .execute();
      const phone = { ...FIREFOX_CLIENT, device: { browser: 'Mobile Safari 17', os: 'iOS 17', type: 'mobile', label: 'Mobile Safari 17 on iOS 17' } };
      const sessions = [
        newSessionRecord('s1', 'u1', T0),
        // The same browser a version later: the same device.
        newSessionRecord('s2', 'u1', T0 + 1000, { ...FIREFOX_CLIENT, device: { ...FIREFOX_CLIENT.device, browser: 'Firefox 122' } }),
        newSessionRecord('s3', 'u1', T0 + 2000, phone),
      ];
      for (const session of sessions) {
        // As the table was before 0003, which added this column.
        const { expiry_recorded_at: _, ...before0003 } = fromNewSession(session);
        await (db as Kysely<any>).insertInto('sessions').values(before0003).execute();
      }
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const known = await db.selectFrom('known_devices').selectAll().orderBy('first_seen_at').execute();
      expect(known.map((k) => [k.user_id, k.device_key, Number(k.first_seen_at)])).toEqual([
        ['u1', deviceKey(FIREFOX_CLIENT), T0],
        ['u1', deviceKey(phone), T0 + 2000],
      ]);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
