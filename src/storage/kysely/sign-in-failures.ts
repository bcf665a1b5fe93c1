import { sql, type Kysely } from 'kysely';
import {
  afterFailure,
  signInVerdict,
  type AccountFailures,
  type AddressFailures,
  type SignInClaim,
  type SignInCounters,
  type SignInLimitPolicy,
} from '../../core/sign-in-limits.js';
import type { Database } from './tables.js';

/**
 * The brute-force counters' SQL (rules: src/core/sign-in-limits.ts). An attempt takes its place
 * before its password is verified: the counters are read, core decides, and the counted values
 * (`afterFailure`) are written by a compare-and-swap, one `INSERT … ON CONFLICT … DO UPDATE …
 * WHERE <the row is still what was read> RETURNING` per counter. Of parallel attempts on one
 * email or address (on any node) exactly one wins each place; the others read again and are
 * decided on the new counters, so a burst cannot outrun a limit. Single statements, no
 * transaction: nothing is held across an await, on either database.
 */

/** Rounds of read-decide-swap before an attempt that keeps losing is refused (it is in a burst). */
const MAX_ROUNDS = 500;

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

/**
 * Counts one attempt at `now` as a failure of the email key and of the address, if the limits
 * allow it; a refused attempt changes nothing. The address is claimed first: when the email's
 * swap then loses or the email refuses, the address's place is given back exactly (one less in
 * the window it was counted in), while the email's counters, which carry the lock's start, are
 * only ever written by an attempt that is allowed.
 */
export async function claimSignInAttempt(
  db: Kysely<Database>,
  emailKey: string,
  ip: string,
  policy: SignInLimitPolicy,
  now: number,
): Promise<SignInClaim> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const counters = await readSignInCounters(db, emailKey, ip);
    const verdict = signInVerdict(policy, counters, now);
    if (!verdict.allowed) return verdict;
    const next = afterFailure(counters, now);
    if (!(await swapAddress(db, ip, counters.address, next.address!))) continue;
    if (await swapAccount(db, emailKey, counters.account, next.account!)) {
      return { allowed: true, accountWindowStart: next.account!.windowStart, addressWindowStart: next.address!.windowStart, account: next.account! };
    }
    await releaseAddress(db, ip, next.address!.windowStart);
  }
  // Still losing after this many rounds: hundreds of attempts on this email or address at once.
  return { allowed: false, retryAfterSeconds: 1 };
}

async function swapAccount(db: Kysely<Database>, emailKey: string, was: AccountFailures | undefined, next: AccountFailures): Promise<boolean> {
  const values = { consecutive: next.consecutive, last_failure_at: next.lastFailureAt, window_start: next.windowStart, window_count: next.windowCount };
  const row = await db
    .insertInto('sign_in_failures')
    .values({ email_key: emailKey, ...values })
    .onConflict((oc) =>
      was === undefined
        ? oc.column('email_key').doNothing()
        : oc
            .column('email_key')
            .doUpdateSet(values)
            .where('sign_in_failures.consecutive', '=', was.consecutive)
            .where('sign_in_failures.last_failure_at', '=', was.lastFailureAt)
            .where('sign_in_failures.window_start', '=', was.windowStart)
            .where('sign_in_failures.window_count', '=', was.windowCount),
    )
    .returning('email_key')
    .executeTakeFirst();
  return row !== undefined;
}

async function swapAddress(db: Kysely<Database>, ip: string, was: AddressFailures | undefined, next: AddressFailures): Promise<boolean> {
  const values = { window_start: next.windowStart, window_count: next.windowCount };
  const row = await db
    .insertInto('sign_in_address_failures')
    .values({ ip, ...values })
    .onConflict((oc) =>
      was === undefined
        ? oc.column('ip').doNothing()
        : oc
            .column('ip')
            .doUpdateSet(values)
            .where('sign_in_address_failures.window_start', '=', was.windowStart)
            .where('sign_in_address_failures.window_count', '=', was.windowCount),
    )
    .returning('ip')
    .executeTakeFirst();
  return row !== undefined;
}

/** Takes one attempt back off the address's window, if that window is still the one it was counted in. */
async function releaseAddress(db: Kysely<Database>, ip: string, windowStart: number): Promise<void> {
  await db
    .updateTable('sign_in_address_failures')
    .set({ window_count: sql`${sql.ref('window_count')} - 1` })
    .where('ip', '=', ip)
    .where('window_start', '=', windowStart)
    .where('window_count', '>', 0)
    .execute();
}

/**
 * A claimed attempt whose password was right: the email's consecutive count starts again from
 * 0, and the attempt is taken back off the email's hourly window and the address's window
 * (successes never count against either), each only if it is still the window it was counted
 * in. Relative updates in one statement each, so parallel claims are not lost.
 */
export async function releaseSuccessfulAttempt(
  db: Kysely<Database>,
  emailKey: string,
  ip: string,
  claim: { accountWindowStart: number; addressWindowStart: number },
): Promise<void> {
  const sameWindow = sql<boolean>`${sql.ref('window_start')} = ${claim.accountWindowStart} and ${sql.ref('window_count')} > 0`;
  await db
    .updateTable('sign_in_failures')
    .set({
      consecutive: 0,
      window_count: sql`case when ${sameWindow} then ${sql.ref('window_count')} - 1 else ${sql.ref('window_count')} end`,
    })
    .where('email_key', '=', emailKey)
    .execute();
  await releaseAddress(db, ip, claim.addressWindowStart);
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
