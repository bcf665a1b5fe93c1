import { sql, type Kysely, type RawBuilder, type SelectQueryBuilder, type Transaction } from 'kysely';
import { activityInOneStatement, activityInOneTransaction, type ActivityBatch } from './activity-batch.js';
import type { Database } from './tables.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The PostgreSQL channel revoking statements NOTIFY and every node LISTENs on (revocation/postgres-listener.ts). */
export const REVOCATION_CHANNEL = 'gatehouse_revocations';

/**
 * What differs between the two databases, in one place. SQLite has one writer at a time, so
 * what PostgreSQL needs row locks and advisory locks for, it gets for nothing; the store's
 * statements say what they need (`lockRows`, `claimRows`, …) and each dialect says how.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /**
   * Whether writers of other transactions can run between this one's statements, so a read
   * that decides a write must lock what it read (PostgreSQL). SQLite's one writer holds the
   * whole database from the first write to the commit.
   */
  readonly concurrentWriters: boolean;
  /** Whether statements run on this process's event loop (better-sqlite3 is synchronous; pg sends them to a server). */
  readonly onTheEventLoop: boolean;
  /**
   * Locks the sessions a subquery picks to change, in id order (ORDER BY id FOR UPDATE), as every
   * multi-row write takes them, so two of them (a sign-out everywhere and an activity batch)
   * cannot deadlock on opposite orders. Without concurrent writers, nothing to lock or sort.
   */
  lockRows<O>(query: SelectQueryBuilder<Database, 'sessions', O>): SelectQueryBuilder<Database, 'sessions', O>;
  /** Rows several nodes claim from at once: each skips those another is claiming (FOR UPDATE SKIP LOCKED). */
  claimRows<TB extends keyof Database, O>(query: SelectQueryBuilder<Database, TB, O>): SelectQueryBuilder<Database, TB, O>;
  /** A user's row locked for the length of a sign-in or password change (FOR NO KEY UPDATE, see startSession). */
  lockOwner<TB extends keyof Database, O>(query: SelectQueryBuilder<Database, TB, O>): SelectQueryBuilder<Database, TB, O>;
  /** Email keys in code-point order, as the index of migration 0006 has them. */
  readonly emailKey: RawBuilder<string>;
  /** Tells the other nodes that sessions ended (NOTIFY, sent at commit); SQLite nodes learn it at the one-second catch-up. */
  announceRevocations(db: Db): Promise<void>;
  /** Runs `statement` as one decision among all nodes (a transaction-scoped advisory lock named `lock`). */
  oneAtATime<T>(db: Kysely<Database>, lock: string, statement: (db: Db) => Promise<T>): Promise<T>;
  /** The store's `recordActivity`, as this database writes a batch best. */
  readonly recordActivity: ActivityBatch;
  /**
   * Whether history is kept in monthly partitions (event-months.ts, migration 0013) that
   * housekeeping makes ahead and drops whole, and that no foreign key references, so the store
   * deletes an event's outbox row and report with it. SQLite keeps one table whose references cascade.
   */
  readonly eventsByMonth: boolean;
  /** Brings the planner's statistics up to date where the database does not do it by itself; `opening` at a node's start. */
  refreshStatistics(db: Kysely<Database>, opening: boolean): Promise<void>;
}

export const postgresDialect: Dialect = {
  name: 'postgres',
  concurrentWriters: true,
  onTheEventLoop: false,
  lockRows: (query) => query.orderBy('id').forUpdate(),
  claimRows: (query) => query.forUpdate().skipLocked(),
  // FOR NO KEY UPDATE, not FOR UPDATE: it makes sign-ins and password changes take turns, but
  // lets the foreign-key checks of other transactions' inserts (an event of this user) through,
  // where FOR UPDATE would deadlock with them.
  lockOwner: (query) => query.forNoKeyUpdate(),
  // PostgreSQL's default collation is linguistic, where a prefix's matches need not sort together.
  emailKey: sql<string>`email_key collate "C"`,
  // One notice however many sessions ended: it only tells other nodes to catch up now. Inside a
  // transaction PostgreSQL delivers it at commit, never for a rolled-back revocation.
  announceRevocations: async (db) => {
    await sql`select pg_notify(${REVOCATION_CHANNEL}, '')`.execute(db);
  },
  // Two transactions can both see "no such row" and both write: a lock makes them take turns.
  oneAtATime: (db, lock, statement) =>
    db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${lock}))`.execute(trx);
      return statement(trx);
    }),
  recordActivity: activityInOneStatement,
  eventsByMonth: true,
  // Autovacuum analyzes tables as they change, and migrate.ts after a schema change: nothing to do.
  refreshStatistics: async () => {},
};

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  concurrentWriters: false,
  onTheEventLoop: true,
  lockRows: (query) => query,
  claimRows: (query) => query,
  lockOwner: (query) => query,
  // BINARY, SQLite's default, is UTF-8 byte order: code-point order already.
  emailKey: sql<string>`email_key`,
  announceRevocations: async () => {},
  // One statement is atomic by itself. It runs outside a transaction: a transaction held open
  // across an await would make another connection of this process wait on it synchronously,
  // and neither could go on.
  oneAtATime: (db, _lock, statement) => statement(db),
  recordActivity: activityInOneTransaction,
  eventsByMonth: false,
  // SQLite never gathers statistics by itself, and without them it may pick an index that
  // matches many rows over one that matches few. As its documentation advises for long-lived
  // connections: at open over every table, then periodically; each ANALYZE is bounded by an
  // analysis limit, so it takes milliseconds, not a pass over a big table.
  refreshStatistics: async (db, opening) => {
    await sql.raw(opening ? 'pragma optimize = 0x10002' : 'pragma optimize').execute(db);
  },
};
