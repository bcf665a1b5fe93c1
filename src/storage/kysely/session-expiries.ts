import type { Transaction } from 'kysely';
import type { SessionRecord } from '../../core/records.js';
import type { Dialect } from './dialect.js';
import { noteOpenSessions } from './open-sessions.js';
import { toSession } from './rows.js';
import type { Database } from './tables.js';

/**
 * Marks up to `limit` sessions that ran out (idle or absolute expiry at or before `now`)
 * without being revoked as having their expiry recorded, and returns them: the caller writes
 * their `session_expired` events in the same transaction. The mark is a compare-and-swap (only
 * rows still unmarked), and PostgreSQL nodes skip rows another node is marking, so each
 * session's expiry is recorded exactly once.
 */
export async function markExpiriesRecorded(trx: Transaction<Database>, dialect: Dialect, now: number, limit: number): Promise<SessionRecord[]> {
  // One range per lifetime, each on its own partial index (migration 0003: the sessions not
  // revoked and not yet recorded, by that expiry), earliest first: an OR of the two, or an
  // order by id, would read every live session to find the few that ran out. Rows another
  // node is marking are skipped, never waited for, so the two ranges' locks cannot deadlock.
  const ranOut = (column: 'idle_expires_at' | 'expires_at') =>
    dialect.claimRows(
      trx
        .selectFrom('sessions')
        .select('id')
        .where('revoked_at', 'is', null)
        .where('expiry_recorded_at', 'is', null)
        .where(column, '<=', now)
        .orderBy(column)
        .limit(limit),
    );
  const rows = await trx
    .updateTable('sessions')
    .set({ expiry_recorded_at: now })
    .where('revoked_at', 'is', null)
    .where('expiry_recorded_at', 'is', null)
    .where('id', 'in', (eb) =>
      eb
        .selectFrom(
          eb
            .selectFrom(ranOut('idle_expires_at').as('idle'))
            .select('id')
            .unionAll(eb.selectFrom(ranOut('expires_at').as('absolute')).select('id'))
            .as('due'),
        )
        .select('id')
        .limit(limit),
    )
    .returningAll()
    .execute();
  await noteOpenSessions(trx, -rows.length);
  return rows.map(toSession);
}
