import { sql, type Kysely } from 'kysely';
import type { AddressAction, AddressWindow } from '../../core/address-limits.js';
import type { Database } from './tables.js';

/**
 * Counts one attempt in one statement: an upsert that opens a new window when the stored one
 * has ended and adds one to it otherwise, returning the result. Atomic on both databases, so
 * parallel attempts on any node each get their own count and none slips past the limit (the
 * rule that reads the count is core's `addressVerdict`).
 */
export async function countAddressAttempt(db: Kysely<Database>, action: AddressAction, address: string, windowMs: number, now: number): Promise<AddressWindow> {
  const ended = sql<boolean>`${sql.ref('address_attempts.window_start')} <= ${now - windowMs}`;
  const row = await db
    .insertInto('address_attempts')
    .values({ action, address, window_start: now, window_count: 1 })
    .onConflict((oc) =>
      oc.columns(['action', 'address']).doUpdateSet({
        window_start: sql`case when ${ended} then ${now} else ${sql.ref('address_attempts.window_start')} end`,
        window_count: sql`case when ${ended} then 1 else ${sql.ref('address_attempts.window_count')} + 1 end`,
      }),
    )
    .returning(['window_start', 'window_count'])
    .executeTakeFirstOrThrow();
  return { windowStart: Number(row.window_start), count: Number(row.window_count) };
}

/** Deletes up to `limit` rows whose window opened before `before`: they limit nothing any more. */
export async function deleteStaleAddressAttempts(db: Kysely<Database>, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('address_attempts')
    .where(({ eb, refTuple, selectFrom }) =>
      eb(
        refTuple('action', 'address'),
        'in',
        selectFrom('address_attempts').select(['action', 'address']).where('window_start', '<', before).limit(limit).$asTuple('action', 'address'),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
