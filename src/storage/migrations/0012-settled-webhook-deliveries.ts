import { sql, type Kysely } from 'kysely';

// Issue 16: the purge of settled webhook deliveries looked for them by `delivered_at` and
// `gave_up_at`, which no index held, so each batch read the whole outbox. These hold only the
// settled rows, by each time (pending ones are NULL in both and stay out), so the purge reads
// one range of each. The pending index gets the claim's tie-break, `event_id`, so a claim
// reads its batch in order instead of sorting every due delivery.
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of ['delivered_at', 'gave_up_at']) {
    await db.schema.createIndex(`webhook_deliveries_${column}`).on('webhook_deliveries').column(column).where(sql.ref(column), 'is not', null).execute();
  }
  await pendingIndex(db, ['next_attempt_at', 'event_id']);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['delivered_at', 'gave_up_at']) await db.schema.dropIndex(`webhook_deliveries_${column}`).execute();
  await pendingIndex(db, ['next_attempt_at']);
}

async function pendingIndex(db: Kysely<any>, columns: string[]): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_pending').execute();
  await db.schema
    .createIndex('webhook_deliveries_pending')
    .on('webhook_deliveries')
    .columns(columns)
    .where(sql.ref('delivered_at'), 'is', null)
    .where(sql.ref('gave_up_at'), 'is', null)
    .execute();
}
