import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Finding users by the start of their email (administration, src/storage/kysely/admin-users.ts)
// compares email keys by code point. SQLite's index on email_key is in that order already;
// PostgreSQL's follows the database's collation, so it gets one in the "C" collation.
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create index users_email_key_c on users (email_key collate "C")`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop index users_email_key_c`.execute(db);
}

function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
