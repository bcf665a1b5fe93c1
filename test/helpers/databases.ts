import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { DatabaseLocation } from '../../src/storage/kysely/connect.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { adminQuery, databaseUrl } from './templates.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** Every database Gatehouse supports; tests that touch storage run once per entry. */
export const DATABASES: DatabaseKind[] = ['sqlite', 'postgres'];

/**
 * Where HTTP tests run: SQLite alone. What differs by database is the store's doing, and the
 * store's conformance suite (test/storage) runs every port on both; test/http/routes/refresh.test.ts
 * and the process tests (test/server.test.ts, test/revocation/) keep whole flows on both.
 */
export const HTTP_DATABASES: DatabaseKind[] = ['sqlite'];

export interface TestDatabase {
  location: DatabaseLocation;
  /** Removes the database (file or PostgreSQL database). */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * No schema at all (for tests of the migrations themselves, of what a server does with a
   * new database, or of other applications' tables). By default a new database is a copy of
   * the run's template (templates.ts), migrated to the latest schema.
   */
  empty?: boolean;
}

/** A new database of the given kind, migrated unless `empty`: a SQLite file, or a PostgreSQL database. */
export async function createTestDatabase(kind: DatabaseKind, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-'));
    const path = join(dir, 'gatehouse.db');
    // A copy keeps the template's mode, 0600, as Gatehouse makes its files.
    if (!options.empty) copyFileSync(inject('sqliteTemplate'), path);
    return { location: { kind, path }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const serverUrl = inject('postgresUrl');
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, options.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${inject('postgresTemplate')}`);
  return {
    location: { kind, url: databaseUrl(serverUrl, name) },
    drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A store on a new, migrated database; `close` closes it and drops the database. */
export async function createTestStore(kind: DatabaseKind): Promise<{ store: KyselyStore; database: TestDatabase; close(): Promise<void> }> {
  const database = await createTestDatabase(kind);
  // Migrates too, as a server does at start: on a copy of the template there is nothing to do.
  const store = await openStore(database.location);
  return {
    store,
    database,
    close: async () => {
      await store.close().catch(() => {});
      await database.drop();
    },
  };
}
