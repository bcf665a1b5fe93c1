import type { Config } from '../config.js';
import type { Store } from '../storage/store.js';

/**
 * Opens the database at DATABASE_URL for one command, brought to the latest schema as the
 * server would (a `user create` on a fresh install must not need a `migrate` first), and
 * closes it when the work is done or failed. A running server learns of what the command
 * changed the way it learns of other nodes' changes: NOTIFY on PostgreSQL, the one-second
 * catch-up on both.
 */
export async function withStore<T>(config: Readonly<Config>, work: (store: Store) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: `gatehouse --help` should not wait for the database drivers.
  const { openStore } = await import('../storage/kysely/kysely-store.js');
  const store = await openStore(config.database);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
