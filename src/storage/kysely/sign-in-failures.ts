import { sql, type Kysely, type Transaction } from 'kysely';
import {
  afterFailure,
  signInVerdict,
  type AccountFailures,
  type AddressFailures,
  type SignInClaim,
  type SignInCounters,
  type SignInLimitPolicy,
} from '../../core/sign-in-limits.js';
import type { SignInSuccess } from '../store.js';
import type { SqliteSync } from './sqlite-sync.js';
import type { Database } from './tables.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The brute-force counters' SQL (rules: src/core/sign-in-limits.ts). An attempt takes its place
 * before its password is verified: the counters are read, core decides, and the counted values
 * (`afterFailure`) are written by a compare-and-swap, one `INSERT … ON CONFLICT … DO UPDATE …
 * WHERE <the row is still what was read> RETURNING` per counter. Of parallel attempts on one
 * email or address (on any node) exactly one wins each place; the others read again and are
 * decided on the new counters, so a burst cannot outrun a limit. No lock is held across an
 * await: on PostgreSQL each statement is its own transaction; on SQLite a round is one
 * transaction that never yields (sqlite-sync.ts).
 */

/** Rounds of read-decide-swap before an attempt that keeps losing is refused (it is in a burst). */
const MAX_ROUNDS = 500;

export async function readSignInCounters(db: Db, emailKey: string, ip: string): Promise<SignInCounters> {
  const { rows } = await countersQuery(emailKey, ip).execute(db);
  return toCounters(rows[0]!);
}

/** Both rows in one statement (each may be missing): a read on every sign-in attempt. */
function countersQuery(emailKey: string, ip: string) {
  return sql<CountersRow>`
    select f.email_key, f.consecutive, f.last_failure_at, f.window_start, f.window_count,
      a.ip, a.window_start as ip_window_start, a.window_count as ip_window_count
    from (select 1 as one) as o
    left join sign_in_failures as f on f.email_key = ${emailKey}
    left join sign_in_address_failures as a on a.ip = ${ip}`;
}

interface CountersRow {
  email_key: string | null;
  consecutive: number | null;
  last_failure_at: number | null;
  window_start: number | null;
  window_count: number | null;
  ip: string | null;
  ip_window_start: number | null;
  ip_window_count: number | null;
}

function toCounters(row: CountersRow): SignInCounters {
  return {
    account:
      row.email_key === null
        ? undefined
        : {
            consecutive: Number(row.consecutive),
            lastFailureAt: Number(row.last_failure_at),
            windowStart: Number(row.window_start),
            windowCount: Number(row.window_count),
          },
    address: row.ip === null ? undefined : { windowStart: Number(row.ip_window_start), windowCount: Number(row.ip_window_count) },
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
  sqlite: SqliteSync | undefined,
  emailKey: string,
  ip: string,
  policy: SignInLimitPolicy,
  now: number,
): Promise<SignInClaim> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const claim = sqlite ? await claimAtOnce(db, sqlite, emailKey, ip, policy, now) : await claimOneByOne(db, emailKey, ip, policy, now);
    if (claim) return claim;
  }
  // Still losing after this many rounds: hundreds of attempts on this email or address at once.
  return { allowed: false, retryAfterSeconds: 1 };
}

/** A round's answer: the claim, or undefined when a swap lost (read again). */
type Round = SignInClaim | undefined;

function allowed(next: SignInCounters): SignInClaim {
  return { allowed: true, accountWindowStart: next.account!.windowStart, addressWindowStart: next.address!.windowStart, account: next.account! };
}

/** PostgreSQL: each statement its own transaction, so no row stays locked across a round trip. */
async function claimOneByOne(db: Kysely<Database>, emailKey: string, ip: string, policy: SignInLimitPolicy, now: number): Promise<Round> {
  const counters = await readSignInCounters(db, emailKey, ip);
  const verdict = signInVerdict(policy, counters, now);
  if (!verdict.allowed) return verdict;
  const next = afterFailure(counters, now);
  if ((await swapAddress(db, ip, counters.address, next.address!).executeTakeFirst()) === undefined) return undefined;
  if ((await swapAccount(db, emailKey, counters.account, next.account!).executeTakeFirst()) !== undefined) return allowed(next);
  await releaseAddress(db, ip, next.address!.windowStart);
  return undefined;
}

/** Thrown to roll back a round whose email swap lost after its address swap won. */
const LOST = Symbol('lost');

/**
 * SQLite: the read and both swaps in one transaction, one commit (one fsync) instead of two.
 * It takes the write lock first (BEGIN IMMEDIATE), so no other process writes between the read
 * and the swaps and they do not lose; they stay compare-and-swaps all the same.
 */
function claimAtOnce(db: Kysely<Database>, sqlite: SqliteSync, emailKey: string, ip: string, policy: SignInLimitPolicy, now: number): Promise<Round> {
  const round = sqlite.immediateTransaction((run): Round => {
    const counters = toCounters(run(countersQuery(emailKey, ip).compile(db))!);
    const verdict = signInVerdict(policy, counters, now);
    if (!verdict.allowed) return verdict;
    const next = afterFailure(counters, now);
    if (run(swapAddress(db, ip, counters.address, next.address!).compile()) === undefined) return undefined;
    if (run(swapAccount(db, emailKey, counters.account, next.account!).compile()) === undefined) throw LOST;
    return allowed(next);
  });
  return round.catch((error: unknown) => (error === LOST ? undefined : Promise.reject(error)));
}

function swapAccount(db: Db, emailKey: string, was: AccountFailures | undefined, next: AccountFailures) {
  const values = { consecutive: next.consecutive, last_failure_at: next.lastFailureAt, window_start: next.windowStart, window_count: next.windowCount };
  return db
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
    .returning('email_key');
}

function swapAddress(db: Db, ip: string, was: AddressFailures | undefined, next: AddressFailures) {
  const values = { window_start: next.windowStart, window_count: next.windowCount };
  return db
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
    .returning('ip');
}

/** Takes one attempt back off the address's window, if that window is still the one it was counted in. */
async function releaseAddress(db: Db, ip: string, windowStart: number): Promise<void> {
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
export async function releaseSuccessfulAttempt(db: Db, { emailKey, ip, claim }: SignInSuccess): Promise<void> {
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
