import { sql, type Kysely } from 'kysely';

// Issue 16: `sessions_revoked_at` indexed every session, live ones under NULL, and SQLite's
// planner took it for `revoked_at IS NULL`, the condition of every statement that revokes
// sessions: each sign-out visited every live session of every user (a second at a million
// users). Only revoked sessions are ever looked up by `revoked_at` (the revocation view's
// catch-up, the purge), so the index holds only them, and the live ones are found through
// `sessions_user_active` (user_id, revoked_at) or the primary key.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_revoked_at').execute();
  await db.schema.createIndex('sessions_revoked_at').on('sessions').column('revoked_at').where(sql.ref('revoked_at'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_revoked_at').execute();
  await db.schema.createIndex('sessions_revoked_at').on('sessions').column('revoked_at').execute();
}
