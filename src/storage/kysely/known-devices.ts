import type { Kysely, Transaction } from 'kysely';
import type { Database } from './tables.js';

/**
 * Remembers that the user signed in from `deviceKey` at `at`; true when the account had not
 * used it before. The primary key decides races: of parallel first sign-ins from one device,
 * exactly one inserts (PostgreSQL makes the other wait for its commit), so it is flagged once.
 */
export async function rememberDevice(db: Kysely<Database> | Transaction<Database>, userId: string, deviceKey: string, at: number): Promise<boolean> {
  const inserted = await db
    .insertInto('known_devices')
    .values({ user_id: userId, device_key: deviceKey, first_seen_at: at, last_seen_at: at })
    .onConflict((oc) => oc.columns(['user_id', 'device_key']).doNothing())
    .executeTakeFirst();
  if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) return true;
  await db
    .updateTable('known_devices')
    .set({ last_seen_at: at })
    .where('user_id', '=', userId)
    .where('device_key', '=', deviceKey)
    .where('last_seen_at', '<', at)
    .execute();
  return false;
}

/** The user no longer counts `deviceKey` as theirs: it was reported as someone else's. */
export async function forgetDevice(db: Kysely<Database> | Transaction<Database>, userId: string, deviceKey: string): Promise<void> {
  await db.deleteFrom('known_devices').where('user_id', '=', userId).where('device_key', '=', deviceKey).execute();
}
