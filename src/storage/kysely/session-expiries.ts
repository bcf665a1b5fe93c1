import type { Transaction } from 'kysely';
import type { SessionRecord } from '../../core/records.js';
import type { Dialect } from './dialect.js';
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
  const rows = await trx
    .updateTable('sessions')
    .set({ expiry_recorded_at: now })
    .where('revoked_at', 'is', null)
    .where('expiry_recorded_at', 'is', null)
    .where('id', 'in', (eb) => {
      const due = eb
        .selectFrom('sessions')
        .select('id')
        .where('revoked_at', 'is', null)
        .where('expiry_recorded_at', 'is', null)
        .where((w) => w.or([w('idle_expires_at', '<=', now), w('expires_at', '<=', now)]))
        .orderBy('id')
        .limit(limit);
      return dialect.claimRows(due);
    })
    .returningAll()
    .execute();
  return rows.map(toSession);
}
