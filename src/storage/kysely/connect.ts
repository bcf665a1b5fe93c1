import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { postgresDialect, sqliteDialect, type Dialect } from './dialect.js';
import type { Database } from './tables.js';

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Connection {
  db: Kysely<Database>;
  dialect: Dialect;
  /** SQLite: the connection Kysely uses, for the few writes that must not yield (sqlite-sync.ts). */
  sqlite?: SQLite.Database;
}

const INT8_OID = 20;

export interface ConnectOptions {
  /**
   * Migrations: no limit on how long one statement runs. Rewriting a big table (0013 copies a
   * month of history per statement) takes longer than any request may, and a limit would only
   * roll the migration back to try again, forever.
   */
  longStatements?: boolean;
}

export function connect(location: DatabaseLocation, options: ConnectOptions = {}): Connection {
  if (location.kind === 'sqlite') {
    const sqlite = reusingStatements(openSqlite(location.path));
    return { db: new Kysely({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: sqliteDialect, sqlite };
  }
  const pool = new pg.Pool({
    connectionString: location.url,
    max: 10,
    connectionTimeoutMillis: 5000,
    // Fail fast rather than queue: a statement waiting on a row lock gives up after 5 s, and a
    // query on a connection that went silent (a database behind a dead network path, which
    // never resets the socket) after 30 s, with keepalives to notice sooner. Each failure
    // answers 503 (unavailable.ts) instead of a request, or the catch-up, hanging for ever.
    lock_timeout: 5000,
    query_timeout: options.longStatements ? undefined : 30_000,
    keepAlive: true,
    // Times are bigint epoch milliseconds; they fit a double exactly, so read them as numbers
    // (pg returns int8 as strings by default). Scoped to this pool, not pg's global parsers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // When the server drops an idle connection (restart, failover, idle timeout) the pool emits
  // 'error' and discards that client; unheard, the event would crash the process. Queries that
  // fail still reject to their callers, and /readyz reports an unreachable database.
  pool.on('error', () => {});
  // A client checked out of the pool has no pool listener: a connection cut while it is out
  // (pg_terminate_backend, a restart) emits 'error' on the client itself, which would crash the
  // process. Its query still rejects to its caller, and the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return { db: new Kysely({ dialect: new PostgresDialect({ pool }) }), dialect: postgresDialect };
}

function openSqlite(path: string): SQLite.Database {
  if (path !== ':memory:') createPrivately(path);
  const database = new SQLite(path);
  // WAL lets readers (and other processes: `serve --workers`) run beside the one writer.
  database.pragma('journal_mode = WAL');
  // FULL syncs the WAL at every commit: an acknowledged sign-out must survive a power loss,
  // not only a process crash, and sign-ins are rare enough that the fsync costs nothing visible.
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  // Wait for another process's write instead of failing at once with SQLITE_BUSY.
  database.pragma('busy_timeout = 5000');
  return database;
}

/**
 * The database holds every session's details (and, once, keys in the clear): only the user
 * running Gatehouse may read it. Its directory is made 0700 and the file 0600 before SQLite
 * opens it; SQLite gives the -wal and -shm files the database file's mode. An existing file
 * keeps its mode (gatehouse.ts warns when others can read it).
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Prepared statements kept per SQL text; the hot paths use a few dozen texts. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every statement anew, a noticeable share of a sign-in's CPU; the same text
 * gets the same prepared statement again instead. Safe on the one connection: better-sqlite3
 * runs a statement to completion before the next starts (an iterating one is never reused
 * before it is done, as Kysely's connection mutex is held while it streams), and SQLite
 * re-prepares a statement itself after a schema change.
 */
function reusingStatements(database: SQLite.Database): SQLite.Database {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, SQLite.Statement>();
  database.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (statement === undefined) {
      statement = prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(source, statement);
    }
    return statement;
  }) as SQLite.Database['prepare'];
  return database;
}

/** True when the error is the database refusing a duplicate key, on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
