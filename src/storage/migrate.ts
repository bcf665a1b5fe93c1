import { Migrator, PostgresAdapter, sql, type Kysely } from 'kysely';
import { connect, type DatabaseLocation } from './kysely/connect.js';
import { migrationProvider } from './migrations/index.js';

/** Whether any migration is still to be applied (none of a fresh database is applied yet). */
export async function hasPendingMigrations(db: Kysely<any>): Promise<boolean> {
  const migrations = await new Migrator({ db, provider: migrationProvider }).getMigrations();
  return migrations.some((migration) => migration.executedAt === undefined);
}

/** Brings the schema to the latest version; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error) {
    const where = failed ? ` in migration ${failed.migrationName}` : '';
    throw new Error(`database migration failed${where}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  // A new index or table has no statistics until autovacuum gets to it, and the planner may
  // ignore it meanwhile; SQLite gathers its own when a node opens the file (openStore).
  if (applied.length > 0 && db.getExecutor().adapter instanceof PostgresAdapter) await sql`analyze`.execute(db);
  return applied;
}

/**
 * Connects to `location`, brings it to the latest schema, and disconnects: `gatehouse migrate`,
 * and the `serve --workers` primary before it forks.
 */
export async function migrateDatabase(location: DatabaseLocation): Promise<string[]> {
  const { db } = connect(location, { longStatements: true });
  try {
    return await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}
