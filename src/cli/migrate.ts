import { ConfigError, loadConfig } from '../config.js';
import { connect } from '../storage/kysely/connect.js';
import { migrateToLatest } from '../storage/migrate.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL and says which. */
async function main(): Promise<void> {
  const { database } = loadConfig();
  const { db } = connect(database);
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length === 0 ? 'gatehouse: schema is up to date' : `gatehouse: applied ${applied.join(', ')}`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(`gatehouse: ${error instanceof ConfigError ? 'configuration error: ' : ''}${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
