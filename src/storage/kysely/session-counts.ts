import type { Kysely } from 'kysely';
import { activeAt } from './active-sessions.js';
import type { Database } from './tables.js';

/**
 * Sessions live at `now`: not revoked, and neither lifetime run out. A count over the table,
 * so callers ask it seldom (the metrics read it at most every 15 s), never per request.
 */
export async function countActiveSessions(db: Kysely<Database>, now: number): Promise<number> {
  const row = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('active'))
    .where(activeAt(now))
    .executeTakeFirstOrThrow();
  // PostgreSQL's count is a bigint, which pg hands over as a string.
  return Number(row.active);
}
