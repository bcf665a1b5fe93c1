import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { DatabaseLocation } from '../../src/storage/kysely/connect.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** Every database Gatehouse supports; tests that touch storage run once per entry. */
export const DATABASES: DatabaseKind[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  location: DatabaseLocation;
  /** Removes the database (file or PostgreSQL database). */
  drop(): Promise<void>;
}

/** A new, empty database of the given kind: a SQLite file, or a PostgreSQL database. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-'));
    return { location: { kind, path: join(dir, 'gatehouse.db') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const serverUrl = inject('postgresUrl');
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    location: { kind, url: url.toString() },
    drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A migrated store on a new database; `close` closes it and drops the database. */
export async function createTestStore(kind: DatabaseKind): Promise<{ store: KyselyStore; database: TestDatabase; close(): Promise<void> }> {
  const database = await createTestDatabase(kind);
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

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
