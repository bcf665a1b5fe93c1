import type { Kysely } from 'kysely';

// Brute-force counters (src/core/sign-in-limits.ts). In the database, not in memory, so they
// hold across nodes and restarts: an attacker gains nothing by spreading guesses over nodes or
// waiting for a deploy. One row per email key / address with failures; stale rows are purged.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sign_in_failures')
    .addColumn('email_key', 'text', (c) => c.primaryKey())
    .addColumn('consecutive', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('window_count', 'integer', (c) => c.notNull())
    .execute();
  // The purge deletes by age.
  await db.schema.createIndex('sign_in_failures_last_failure_at').on('sign_in_failures').column('last_failure_at').execute();

  await db.schema
    .createTable('sign_in_address_failures')
    .addColumn('ip', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('window_count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sign_in_address_failures_window_start').on('sign_in_address_failures').column('window_start').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sign_in_address_failures').execute();
  await db.schema.dropTable('sign_in_failures').execute();
}
