import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDryRunTarget } from '../../src/import/dry-run-target.js';
import { connect } from '../../src/storage/kysely/connect.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import { createTestDatabase, createTestStore } from '../helpers/databases.js';

/** A dry run writes nothing to Gatehouse's database, not even its schema. */

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-dry-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Gatehouse database of a dry run', () => {
  it('is an empty Gatehouse when the SQLite file does not exist yet, and the file is not made', async () => {
    const path = join(dir, 'missing', 'gatehouse.db');
    const store = await openDryRunTarget({ kind: 'sqlite', path });
    expect(await store.findTakenEmailKeys(['ann@example.com'])).toEqual(new Set());
    await store.close();
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('is an empty Gatehouse when the PostgreSQL database has no Gatehouse tables, which it does not create', async () => {
    const database = await createTestDatabase('postgres', { empty: true });
    try {
      const store = await openDryRunTarget(database.location);
      expect(await store.findImportedRows('app', 'Users', ['1'])).toEqual(new Map());
      await store.close();
      const { db } = connect(database.location);
      const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = 'public'`.execute(db);
      await db.destroy();
      expect(tables.rows[0]?.n).toBe(0);
    } finally {
      await database.drop();
    }
  });

  it('is the database itself when its schema is up to date', async () => {
    const { store: real, database, close } = await createTestStore('sqlite');
    await real.createUser({ id: 'u1', email: 'ann@example.com', emailKey: 'ann@example.com', name: null, passwordHash: 'x', role: 'user', createdAt: 0 });
    const store = await openDryRunTarget(database.location);
    expect(await store.findTakenEmailKeys(['ann@example.com'])).toEqual(new Set(['ann@example.com']));
    await store.close();
    await close();
  });

  it('stops the dry run, naming them, when migrations are pending', async () => {
    const path = join(dir, 'old.db');
    const { db } = connect({ kind: 'sqlite', path });
    await new Migrator({ db, provider: migrationProvider }).migrateTo('0001-initial');
    await db.destroy();
    await expect(openDryRunTarget({ kind: 'sqlite', path })).rejects.toThrow(
      /^the database at DATABASE_URL needs migrations \(0002-sign-in-limits, 0003-activity, .*0005-imports.*\): run gatehouse migrate first, as a dry run writes nothing$/,
    );
  });
});
