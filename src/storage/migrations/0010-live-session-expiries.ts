import { sql, type Kysely } from 'kysely';

// Issue 16: the purge finds sessions that ran out long ago without being revoked by a range on
// each lifetime. The indexes of migration 0003 hold only those whose expiry is not yet in their
// history, which the purge's are; these hold every live session, by each expiry.
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of ['idle_expires_at', 'expires_at']) {
    await db.schema.createIndex(`sessions_unrevoked_${column}`).on('sessions').column(column).where(sql.ref('revoked_at'), 'is', null).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['idle_expires_at', 'expires_at']) await db.schema.dropIndex(`sessions_unrevoked_${column}`).execute();
}
