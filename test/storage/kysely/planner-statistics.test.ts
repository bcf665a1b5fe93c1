import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { fromNewSession } from '../../../src/storage/kysely/rows.js';
import { migrateDatabase } from '../../../src/storage/migrate.js';
import { createTestDatabase } from '../../helpers/databases.js';
import { newSessionRecord, T0 } from '../../helpers/records.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

describe('the query planner’s statistics', () => {
  it('on SQLite, are gathered when a node opens the file and kept up as the tables grow', async () => {
    const database = await createTestDatabase('sqlite');
    let store = await openStore(database.location);
    try {
      await store.createUser({ id: 'u1', email: 'ann@example.com', emailKey: 'ann@example.com', name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
      const sessions = Array.from({ length: 2000 }, (_, i) => fromNewSession(newSessionRecord(`s${i}`, 'u1', T0 + i)));
      for (let i = 0; i < sessions.length; i += 500)
        await store.db
          .insertInto('sessions')
          .values(sessions.slice(i, i + 500))
          .execute();
      await store.close();

      store = await openStore(database.location);
      const stats = await sql<{ idx: string; stat: string }>`select idx, stat from sqlite_stat1 where tbl = 'sessions'`.execute(store.db);
      const rows = (index: string) => Number(stats.rows.find((row) => row.idx === index)?.stat.split(' ')[0]);
      expect(rows('sessions_user_active')).toBe(2000);
      // The index of revoked sessions holds none of them: the planner knows it is the small one.
      expect(stats.rows.find((row) => row.idx === 'sessions_revoked_at')?.stat ?? '0').toMatch(/^0\b|^$/);
      await store.refreshPlannerStatistics(); // the hourly run: nothing changed, nothing to do, no error
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it('on PostgreSQL, are gathered right after migrations change the schema', async () => {
    const database = await createTestDatabase('postgres', { empty: true });
    try {
      await migrateDatabase(database.location);
      const store = await openStore(database.location);
      try {
        const analyzed = await sql<{ relname: string }>`select relname from pg_stat_user_tables where last_analyze is not null`.execute(store.db);
        expect(analyzed.rows.map((row) => row.relname)).toEqual(expect.arrayContaining(['users', 'sessions', 'events', 'open_session_changes']));
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });
});
