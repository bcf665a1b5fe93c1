import type { Transaction } from 'kysely';
import type { Database } from './tables.js';

/**
 * Marks a sign-in event as reported through its "this wasn't me" link; false when it already
 * was. The primary key makes the link single-use even when two clicks race.
 */
export async function reportSignIn(trx: Transaction<Database>, eventId: string, at: number): Promise<boolean> {
  const inserted = await trx
    .insertInto('sign_in_reports')
    .values({ event_id: eventId, reported_at: at })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .executeTakeFirst();
  return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
