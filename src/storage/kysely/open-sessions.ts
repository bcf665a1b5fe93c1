import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './tables.js';

/**
 * How many sessions are open (neither revoked nor recorded as expired), kept as a ledger rather
 * than counted: a count of the live rows reads every one of them, 1.5 s at a million users.
 * Every statement that opens or closes sessions appends its change in its own transaction, so
 * the ledger is exactly as right as the sessions table. Appending takes no lock that another
 * writer waits for (one counter row would make every sign-in of every PostgreSQL node queue
 * behind the last), and the expiry sweep folds the ledger into one row each minute, so reading
 * it sums a handful of rows.
 */

/** Appends a change of `delta` open sessions, in the transaction that made the change. */
export async function noteOpenSessions(db: Transaction<Database>, delta: number): Promise<void> {
  if (delta !== 0) await db.insertInto('open_session_changes').values({ delta }).execute();
}

export async function countOpenSessions(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('open_session_changes')
    .select((eb) => eb.fn.sum<number | string | bigint | null>('delta').as('open'))
    .executeTakeFirstOrThrow();
  // PostgreSQL's sum of a bigint is a numeric, which pg hands over as a string.
  return Number(row.open ?? 0);
}

/**
 * Replaces the changes written so far by their sum, in one row. Nodes may fold at the same
 * time: each deletes only rows it still finds (on PostgreSQL, a row another fold deleted is
 * skipped once that fold commits) and writes back the sum of exactly those, so nothing is
 * counted twice or lost. It writes first: a SQLite transaction that read before writing could
 * find another process wrote meanwhile and fail instead of waiting its turn.
 */
export async function foldOpenSessionChanges(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const folded = await trx
      .deleteFrom('open_session_changes')
      // One row is folded already: nothing is written then.
      .where((eb) =>
        eb(
          eb.selectFrom('open_session_changes').select((s) => s.fn.countAll().as('rows')),
          '>',
          1,
        ),
      )
      .returning('delta')
      .execute();
    await noteOpenSessions(
      trx,
      folded.reduce((total, row) => total + Number(row.delta), 0),
    );
  });
}

/**
 * Sets the count to what the sessions table says, by appending the difference; returns it.
 * One statement, so the count and the sum are read at one moment (SQLite holds the write lock
 * for it; PostgreSQL reads one snapshot): a change committed meanwhile is in both or in neither.
 * It reads every open session, so only `gatehouse migrate` runs it, not a node: nodes of a
 * version before the ledger (migration 0011) open and close sessions without noting it.
 */
export async function recountOpenSessions(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ delta: number | string }>`
    insert into open_session_changes (delta)
    select difference from (
      select (select count(*) from sessions where revoked_at is null and expiry_recorded_at is null)
           - (select coalesce(sum(delta), 0) from open_session_changes) as difference
    ) as recount
    where difference <> 0
    returning delta`.execute(db);
  return Number(rows[0]?.delta ?? 0);
}
