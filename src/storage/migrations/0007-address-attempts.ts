import type { Kysely } from 'kysely';

// Attempts per client address at actions that are limited by address alone, such as creating
// an account (src/core/address-limits.ts). In the database, like the sign-in counters, so the
// limit holds across nodes and restarts. One row per action and address key; the purge deletes
// rows whose window has ended.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('address_attempts')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('window_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('address_attempts_pkey', ['action', 'address'])
    .execute();
  await db.schema.createIndex('address_attempts_window_start').on('address_attempts').column('window_start').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('address_attempts').execute();
}
