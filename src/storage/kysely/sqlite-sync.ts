import type SQLite from 'better-sqlite3';
import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './tables.js';

/** Runs one compiled statement and returns its first row, or undefined when it has none. */
export type RunSync = <R>(query: CompiledQuery<R>) => R | undefined;

/**
 * SQLite transactions that never yield to the event loop, for hot writes of several statements.
 * A Kysely transaction awaits between its statements; holding SQLite's write lock across those
 * awaits would leave any other connection in the process (another store on the same file, as in
 * the multi-node tests) waiting out its busy_timeout synchronously, while the holder cannot run
 * to let go. Here Kysely only compiles: better-sqlite3 runs the statements back to back, on the
 * process's one connection, taken from Kysely meanwhile so no Kysely transaction is open on it.
 */
export class SqliteSync {
  readonly #db: Kysely<Database>;
  readonly #immediate: <T>(work: (run: RunSync) => T) => T;

  constructor(db: Kysely<Database>, handle: SQLite.Database) {
    this.#db = db;
    const run: RunSync = <R>(query: CompiledQuery<R>) => handle.prepare(query.sql).get(query.parameters as unknown[]) as R | undefined;
    const transaction = handle.transaction((work: (run: RunSync) => unknown) => work(run));
    this.#immediate = <T>(work: (run: RunSync) => T) => transaction.immediate(work) as T;
  }

  /**
   * Runs `work` between BEGIN IMMEDIATE and COMMIT (ROLLBACK when it throws). IMMEDIATE takes
   * the write lock before the first read, so what `work` reads stays true until it commits.
   */
  immediateTransaction<T>(work: (run: RunSync) => T): Promise<T> {
    return this.#db.connection().execute(async () => this.#immediate(work));
  }
}
