import { sql, type Kysely } from 'kysely';

// Key rotation (src/keys/key-schedule.ts): a key is published before nodes sign with it, so each
// key says from when it may sign. Keys that exist already have been signing, so they are active
// from their creation.
export async function up(db: Kysely<any>): Promise<void> {
  // NOT NULL needs a default for the rows already there (SQLite refuses it otherwise); every
  // insert names the column, and the update gives the existing rows their real value.
  await db.schema
    .alterTable('signing_keys')
    .addColumn('activates_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update signing_keys set activates_at = created_at`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signing_keys').dropColumn('activates_at').execute();
}
