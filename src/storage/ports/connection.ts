/**
 * The database behind the other ports: which one, whether it answers, and closing it.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface StoreConnection {
  readonly dialect: 'sqlite' | 'postgres';
  /** Whether statements run on this process's event loop (SQLite), so background work must come in short batches. */
  readonly onTheEventLoop: boolean;

  /** Round-trips to the database; throws when it cannot. */
  ping(): Promise<void>;
  /** Lets the query planner catch up with how the data has grown (hourly; at start by `openStore`). */
  refreshPlannerStatistics(): Promise<void>;
  close(): Promise<void>;
}
