import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrateDatabase } from '../../src/storage/migrate.js';

export interface Templates {
  /** The name of a migrated database on the PostgreSQL server. */
  postgres: string;
  /** The path of a migrated SQLite file. */
  sqlite: string;
  remove(): Promise<void>;
}

/**
 * One migrated database of each kind, made once per run by the project's own migrations:
 * test databases are copies of them (databases.ts), which is much faster than migrating each.
 * On a server of the user's own (`shared`) the template has a name of its own, so runs at the
 * same time do not meet, and is dropped at the end.
 */
export async function createTemplates(serverUrl: string, options: { shared: boolean }): Promise<Templates> {
  const name = options.shared ? `gatehouse_template_${randomBytes(6).toString('hex')}` : 'gatehouse_template';
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-template-'));
  const sqlite = join(dir, 'gatehouse.db');
  const remove = async () => {
    rmSync(dir, { recursive: true, force: true });
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name}`);
  };
  try {
    await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
    await migrateDatabase({ kind: 'postgres', url: databaseUrl(serverUrl, name) });
    // PostgreSQL copies a database only while nobody is connected to it: once migrated (and
    // migrateDatabase's connections closed), nobody may connect any more.
    await adminQuery(serverUrl, `ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    await migrateDatabase({ kind: 'sqlite', path: sqlite });
  } catch (error) {
    await remove().catch(() => {});
    throw error;
  }
  return { postgres: name, sqlite, remove };
}

/** `serverUrl` with its database replaced by `database`. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  // A connection the server ends (a test's pg_terminate_backend, a restart) must not crash the run.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
