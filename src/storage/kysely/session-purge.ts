import type { Kysely } from 'kysely';
import { noteOpenSessions } from './open-sessions.js';
import type { Database } from './tables.js';

/** Deletes up to `limit` sessions that ended (revoked or ran out) before `before`; returns how many. The store's `purgeEndedSessions`. */
export function purgeEndedSessions(db: Kysely<Database>, before: number, limit: number): Promise<number> {
  // Three ranges, each on an index that holds only what it looks for (migrations 0009, 0010),
  // read in that index's order: revoked before `before`, and not revoked but run out by either
  // lifetime. One OR of them would walk every live session for each batch. The ranges share
  // no row (a session past both lifetimes is only in the second), so a batch of `limit` ids is
  // `limit` sessions, and a short batch means the purge is done.
  const ended = [
    db.selectFrom('sessions').select('id').where('revoked_at', '<', before).orderBy('revoked_at'),
    db.selectFrom('sessions').select('id').where('revoked_at', 'is', null).where('expires_at', '<', before).orderBy('expires_at'),
    db
      .selectFrom('sessions')
      .select('id')
      .where('revoked_at', 'is', null)
      .where('idle_expires_at', '<', before)
      .where('expires_at', '>=', before)
      .orderBy('idle_expires_at'),
  ].map((range, i) => db.selectFrom(range.limit(limit).as(`ended${i}`)).select('id'));
  return db.transaction().execute(async (trx) => {
    const deleted = await trx
      .deleteFrom('sessions')
      .where('id', 'in', (eb) => eb.selectFrom(ended[0]!.unionAll(ended[1]!).unionAll(ended[2]!).as('ended')).select('id').limit(limit))
      .returning(['revoked_at', 'expiry_recorded_at'])
      .execute();
    // Only a session that ran out before the sweep recorded it was still counted open.
    await noteOpenSessions(trx, -deleted.filter((row) => row.revoked_at === null && row.expiry_recorded_at === null).length);
    return deleted.length;
  });
}
