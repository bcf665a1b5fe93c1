import { sql, type Kysely } from 'kysely';
import { ACCOUNT_WINDOW_MS, IP_WINDOW_MS, type SignInCounters } from '../../core/sign-in-limits.js';
import type { Database } from './tables.js';

/**
 * The brute-force counters' SQL (rules: src/core/sign-in-limits.ts `afterFailure`). Every
 * change is one `INSERT … ON CONFLICT … DO UPDATE` that computes the new values from the row
 * as it is in the database, never a read-then-write: two nodes counting a failure for the same
 * email at the same moment both count. In DO UPDATE, both SQLite and PostgreSQL read the
 * existing row's values in every SET expression, so the CASEs see the old window.
 */

export async function readSignInCounters(db: Kysely<Database>, emailKey: string, ip: string): Promise<SignInCounters> {
  const [account, address] = await Promise.all([
    db.selectFrom('sign_in_failures').selectAll().where('email_key', '=', emailKey).executeTakeFirst(),
    db.selectFrom('sign_in_address_failures').selectAll().where('ip', '=', ip).executeTakeFirst(),
  ]);
  return {
    account: account && {
      consecutive: Number(account.consecutive),
      lastFailureAt: Number(account.last_failure_at),
      windowStart: Number(account.window_start),
      windowCount: Number(account.window_count),
    },
    address: address && { windowStart: Number(address.window_start), windowCount: Number(address.window_count) },
  };
}

export async function countSignInFailure(db: Kysely<Database>, emailKey: string, ip: string, now: number): Promise<void> {
  const accountWindow = sql.ref('sign_in_failures.window_start');
  const accountOpen = sql<boolean>`${accountWindow} > ${now - ACCOUNT_WINDOW_MS}`;
  // Account first, then address, always: two PostgreSQL transactions never wait on each other crosswise.
  await db
    .insertInto('sign_in_failures')
    .values({ email_key: emailKey, consecutive: 1, last_failure_at: now, window_start: now, window_count: 1 })
    .onConflict((oc) =>
      oc.column('email_key').doUpdateSet({
        consecutive: sql`${sql.ref('sign_in_failures.consecutive')} + 1`,
        // Nodes' clocks differ a little; the lock runs from the latest failure either saw.
        last_failure_at: sql`case when ${sql.ref('sign_in_failures.last_failure_at')} > ${now} then ${sql.ref('sign_in_failures.last_failure_at')} else ${now} end`,
        window_start: sql`case when ${accountOpen} then ${accountWindow} else ${now} end`,
        window_count: sql`case when ${accountOpen} then ${sql.ref('sign_in_failures.window_count')} + 1 else 1 end`,
      }),
    )
    .execute();
  const addressWindow = sql.ref('sign_in_address_failures.window_start');
  const addressOpen = sql<boolean>`${addressWindow} > ${now - IP_WINDOW_MS}`;
  await db
    .insertInto('sign_in_address_failures')
    .values({ ip, window_start: now, window_count: 1 })
    .onConflict((oc) =>
      oc.column('ip').doUpdateSet({
        window_start: sql`case when ${addressOpen} then ${addressWindow} else ${now} end`,
        window_count: sql`case when ${addressOpen} then ${sql.ref('sign_in_address_failures.window_count')} + 1 else 1 end`,
      }),
    )
    .execute();
}

export async function resetConsecutiveFailures(db: Kysely<Database>, emailKey: string): Promise<void> {
  // Only the consecutive count: the hourly count keeps guesses made between the owner's sign-ins.
  await db.updateTable('sign_in_failures').set({ consecutive: 0 }).where('email_key', '=', emailKey).where('consecutive', '>', 0).execute();
}

export async function deleteStaleSignInFailures(db: Kysely<Database>, accountsBefore: number, addressesBefore: number, limit: number): Promise<number> {
  const accounts = await db
    .deleteFrom('sign_in_failures')
    .where('email_key', 'in', (eb) => eb.selectFrom('sign_in_failures').select('email_key').where('last_failure_at', '<', accountsBefore).limit(limit))
    .executeTakeFirst();
  const addresses = await db
    .deleteFrom('sign_in_address_failures')
    .where('ip', 'in', (eb) => eb.selectFrom('sign_in_address_failures').select('ip').where('window_start', '<', addressesBefore).limit(limit))
    .executeTakeFirst();
  return Number(accounts.numDeletedRows) + Number(addresses.numDeletedRows);
}
