import { sql, type Kysely, type Transaction } from 'kysely';
import type { Dialect } from './dialect.js';
import type { Database } from './tables.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * On PostgreSQL, `events` is partitioned by month (migration 0013): a partition per UTC month of
 * `at`, made ahead by housekeeping, dropped whole once the retention has passed its end, and a
 * default partition that takes whatever no month holds, so an insert never fails for want of a
 * partition (a clock years off, an imported date). SQLite keeps one table (events.ts).
 */

/** Months made ahead of the current one: two hourly purges that fail still leave a month to spare. */
export const MONTHS_AHEAD = 2;

/** The partition for rows of no month made: normally empty, as housekeeping makes months ahead. */
export const DEFAULT_PARTITION = 'events_default';

/** One month of history: [from, to) in epoch milliseconds. */
export interface EventMonth {
  name: string;
  from: number;
  to: number;
}

/** The UTC month holding `at`, or the one `offset` months after it. */
export function monthOf(at: number, offset = 0): EventMonth {
  const date = new Date(at);
  const from = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1);
  const start = new Date(from);
  const to = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  return { name: `events_${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`, from, to };
}

/** The month partitions `events` has, oldest first (the default partition is not one). */
export async function eventMonths(db: Db): Promise<EventMonth[]> {
  const { rows } = await sql<{ name: string; bound: string }>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'events'::regclass`.execute(db);
  const months: EventMonth[] = [];
  for (const { name, bound } of rows) {
    const range = /FROM \('(-?\d+)'\) TO \('(-?\d+)'\)/.exec(bound);
    if (range) months.push({ name, from: Number(range[1]), to: Number(range[2]) });
  }
  return months.sort((a, b) => a.from - b.from);
}

/**
 * Taken exclusively by whatever changes the partitions, so two nodes never make or drop the same
 * month, and shared by the batch purge (withMonthsSteady).
 */
const LOCK = 'gatehouse events months';

/**
 * Runs `work`, a batch purge of `events` (events.ts), in a transaction that first waits for any
 * making or dropping of months to end: a drop locks its month and then `events`, a batch `events`
 * and then the months it deletes in, and the two would deadlock. Batches share the lock, so they
 * still run side by side. PostgreSQL only.
 */
export function withMonthsSteady<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock_shared(hashtext(${LOCK}))`.execute(trx);
    return work(trx);
  });
}

/**
 * How long attaching or dropping a partition waits for its lock on `events`: requests that come
 * meanwhile queue behind the wait, so past it the change gives up and the next hourly run tries again.
 */
const DDL_LOCK_TIMEOUT = sql.raw(`set local lock_timeout = '1s'`);

/**
 * Makes the partitions of the current month and the next MONTHS_AHEAD ones, where missing. Rows
 * of such a month already in the default partition (written while it was missing) move into it.
 * The partition is made apart and attached. That locks `events` itself only against other
 * changes of its partitions (SHARE UPDATE EXCLUSIVE), but the default partition against
 * everything (ACCESS EXCLUSIVE) until the commit, so a query of `events` that cannot leave the
 * default partition out when it is planned (most cannot) waits meanwhile: at most about a
 * second (DDL_LOCK_TIMEOUT), once a month. Attaching scans the default partition, which holds
 * next to nothing.
 */
export async function prepareMonths(db: Kysely<Database>, dialect: Dialect, now: number): Promise<string[]> {
  return dialect.oneAtATime(db, LOCK, async (trx) => {
    await DDL_LOCK_TIMEOUT.execute(trx);
    const existing = await eventMonths(trx);
    const made: string[] = [];
    for (let offset = 0; offset <= MONTHS_AHEAD; offset++) {
      const month = monthOf(now, offset);
      if (existing.some((m) => m.from < month.to && month.from < m.to)) continue;
      const table = sql.table(month.name);
      // No row of the month may land in the default partition between the move and the attach.
      await sql`lock table ${sql.table(DEFAULT_PARTITION)} in share row exclusive mode`.execute(trx);
      await sql`create table ${table} (like events including defaults)`.execute(trx);
      await sql`with moved as (delete from ${sql.table(DEFAULT_PARTITION)} where at >= ${month.from} and at < ${month.to} returning *)
        insert into ${table} select * from moved`.execute(trx);
      await sql`alter table events attach partition ${table} for values from (${sql.lit(month.from)}) to (${sql.lit(month.to)})`.execute(trx);
      made.push(month.name);
    }
    return made;
  });
}

/**
 * Drops every month that ended before `before`, with the outbox rows and reports of its events
 * (no foreign key can reference a partitioned table by `id` alone, see migration 0013), each
 * month in one transaction; returns how many events went. Dropping a partition locks `events`
 * for an instant, and takes no row-by-row delete, no dead tuples and no vacuum.
 */
export async function dropMonthsBefore(db: Kysely<Database>, dialect: Dialect, before: number): Promise<number> {
  let dropped = 0;
  for (const month of await eventMonths(db)) {
    if (month.to > before) break;
    dropped += await dialect.oneAtATime(db, LOCK, async (trx) => {
      // Another node may have dropped it while this one waited for the lock.
      if (!(await eventMonths(trx)).some((m) => m.name === month.name)) return 0;
      const table = sql.table(month.name);
      // Writers of the month (another node's batch purge) wait from here, readers go on: no
      // batch can lock an outbox row this transaction is about to delete, nor the other way round.
      await sql`lock table ${table} in share row exclusive mode`.execute(trx);
      const { rows } = await sql<{ events: number | string }>`select count(*) as events from ${table}`.execute(trx);
      await sql`delete from webhook_deliveries where event_id in (select id from ${table})`.execute(trx);
      await sql`delete from sign_in_reports where event_id in (select id from ${table})`.execute(trx);
      // Last, so the lock on `events` is held from here to the commit only.
      await DDL_LOCK_TIMEOUT.execute(trx);
      await sql`drop table ${table}`.execute(trx);
      return Number(rows[0]?.events ?? 0);
    });
  }
  return dropped;
}
