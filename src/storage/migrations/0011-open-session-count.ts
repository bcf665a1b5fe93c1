import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Issue 16: the active-session gauge counted every live session (1.5 s at a million users, on
// the event loop on SQLite). From here on, every statement that opens or closes sessions
// appends its change to this ledger instead (src/storage/kysely/open-sessions.ts). The one
// count it starts from is taken here, once, on the partial index of migration 0003.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('open_session_changes')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('delta', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into open_session_changes (delta)
    select count(*) from sessions where revoked_at is null and expiry_recorded_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('open_session_changes').execute();
}
