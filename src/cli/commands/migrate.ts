import { command } from '../command.js';
import { configOf, say } from '../io.js';

export const migrate = command({
  name: 'migrate',
  summary: 'apply pending database migrations, and say which',
  usage: 'gatehouse migrate',
  description: `Applies pending migrations to the database at DATABASE_URL (default: SQLite at
./data/gatehouse.db) and prints which, or that the schema is up to date. The server
applies them at start too; this runs them on their own, e.g. before a deploy.`,
  success: 'migrated, or nothing to do',
  options: {},
  async run(_options, io) {
    const { database } = configOf(io);
    // Loaded here, not at the top: `gatehouse --help` should not wait for database drivers.
    const { migrateDatabase } = await import('../../storage/migrate.js');
    const applied = await migrateDatabase(database);
    say(io, applied.length === 0 ? 'gatehouse: schema is up to date' : `gatehouse: applied ${applied.join(', ')}`);
    return 0;
  },
});
