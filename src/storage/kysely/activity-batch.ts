import { sql, type Kysely } from 'kysely';
import { activeAt } from './active-sessions.js';
import type { Database } from './tables.js';

/**
 * A batch of last-activity times, written to the sessions still active at `now` (a late write
 * never revives an expired session), each only forward. The store's `recordActivity`, in the
 * form each database does best (dialect.ts picks one).
 */
export type ActivityBatch = (db: Kysely<Database>, seen: Array<{ sessionId: string; at: number }>, idleTtlMs: number, now: number) => Promise<void>;

/** PostgreSQL: one statement for the whole batch, one round trip however many sessions were active. */
export const activityInOneStatement: ActivityBatch = async (db, seen, idleTtlMs, now) => {
  await sql`
    update sessions as s
    set last_active_at = v.at, idle_expires_at = v.at + ${idleTtlMs}
    from (
      select id, max(at) as at
      from unnest(${seen.map((e) => e.sessionId)}::text[], ${seen.map((e) => e.at)}::bigint[]) as u(id, at)
      group by id
    ) as v
    where s.id = v.id and s.revoked_at is null and s.last_active_at < v.at
      and s.idle_expires_at > ${now} and s.expires_at > ${now}
      -- lock in id order, like every multi-row write here (see revokeWhere)
      and s.id in (select id from sessions where id = any(${seen.map((e) => e.sessionId)}::text[]) order by id for update)`.execute(db);
};

/** SQLite is in-process: one transaction of small updates costs one commit. */
export const activityInOneTransaction: ActivityBatch = (db, seen, idleTtlMs, now) =>
  db.transaction().execute(async (trx) => {
    for (const { sessionId, at } of seen) {
      await trx
        .updateTable('sessions')
        .set({ last_active_at: at, idle_expires_at: at + idleTtlMs })
        .where('id', '=', sessionId)
        .where('last_active_at', '<', at)
        .where(activeAt(now))
        .execute();
    }
  });
