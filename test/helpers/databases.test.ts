import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { connect } from '../../src/storage/kysely/connect.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import { createTestDatabase, createTestStore, DATABASES, type TestDatabase } from './databases.js';

describe.each(DATABASES)('a test database on %s', (kind) => {
  const pending = async (database: TestDatabase) => {
    const { db } = connect(database.location);
    try {
      return await migrateToLatest(db);
    } finally {
      await db.destroy();
      await database.drop();
    }
  };

  it('is a copy of the migrated template, with no migration left to apply', async () => {
    expect(await pending(await createTestDatabase(kind))).toEqual([]);
  });

  it('has no schema at all when asked to be empty', async () => {
    expect(await pending(await createTestDatabase(kind, { empty: true }))).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
  });

  it('shares no rows with another copy', async () => {
    const [one, other] = [await createTestStore(kind), await createTestStore(kind)];
    try {
      await one.store.createUser({
        id: 'u1',
        email: 'ann@example.com',
        emailKey: 'ann@example.com',
        name: null,
        passwordHash: 'x',
        role: 'user',
        createdAt: 0,
      });
      expect(await other.store.findUserById('u1')).toBeUndefined();
    } finally {
      await one.close();
      await other.close();
    }
  });
});

// A server of the user's own (TEST_DATABASE_URL) keeps its own settings.
describe.skipIf(process.env.TEST_DATABASE_URL !== undefined)('the PostgreSQL server the tests share', () => {
  it('neither syncs to disk nor waits for the WAL at commit, as nothing crashes it', async () => {
    const client = new pg.Client({ connectionString: inject('postgresUrl') });
    await client.connect();
    try {
      const settings = (
        await client.query("select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes') order by name")
      ).rows;
      expect(settings).toEqual([
        { name: 'fsync', setting: 'off' },
        { name: 'full_page_writes', setting: 'off' },
        { name: 'synchronous_commit', setting: 'off' },
      ]);
    } finally {
      await client.end();
    }
  });
});
