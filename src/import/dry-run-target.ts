import { existsSync } from 'node:fs';
import { Migrator } from 'kysely';
import { connect, type DatabaseLocation } from '../storage/kysely/connect.js';
import { KyselyStore, openStore } from '../storage/kysely/kysely-store.js';
import { migrationProvider } from '../storage/migrations/index.js';
import type { Store } from '../storage/store.js';

/**
 * The Gatehouse database for a dry run, which writes nothing, not even the schema (every other
 * command brings it up to date first). A database Gatehouse has never used (no SQLite file yet,
 * or an empty PostgreSQL database) is read as the empty Gatehouse it would be: an empty store
 * in memory stands in, and nothing is created. One with migrations pending cannot be read
 * faithfully: that stops the dry run with what to do.
 */
export async function openDryRunTarget(location: DatabaseLocation): Promise<Store> {
  if (location.kind === 'sqlite' && location.path !== ':memory:' && !existsSync(location.path)) return emptyStandIn();
  const { db, dialect } = connect(location);
  try {
    const migrations = await new Migrator({ db, provider: migrationProvider }).getMigrations();
    const pending = migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
    if (pending.length === migrations.length) {
      await db.destroy();
      return emptyStandIn();
    }
    if (pending.length > 0) {
      throw new Error(`the database at DATABASE_URL needs migrations (${pending.join(', ')}): run gatehouse migrate first, as a dry run writes nothing`);
    }
    return new KyselyStore(db, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

function emptyStandIn(): Promise<Store> {
  return openStore({ kind: 'sqlite', path: ':memory:' });
}
