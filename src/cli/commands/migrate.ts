import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { withStore } from '../with-store.js';

export const migrate = command({
  name: 'migrate',
  summary: 'apply pending database migrations, and say which',
  usage: 'gatehouse migrate',
  description: `Applies pending migrations to the database at DATABASE_URL (default: SQLite at
./data/gatehouse.db) and prints which, or that the schema is up to date. The server
applies them at start too; this runs them on their own, e.g. before a deploy.
It then recounts the open sessions behind the gatehouse_active_sessions metric, which
nodes of a version before 0011 change without counting: run it once more after the
last of them stopped (docs/operations.md, "Upgrades").`,
  success: 'migrated, or nothing to do',
  options: {},
  async run(_options, io) {
    const config = configOf(io);
    // Loaded here, not at the top: `gatehouse --help` should not wait for database drivers.
    const { migrateDatabase } = await import('../../storage/migrate.js');
    const applied = await migrateDatabase(config.database);
    say(io, applied.length === 0 ? 'gatehouse: schema is up to date' : `gatehouse: applied ${applied.join(', ')}`);
    const corrected = await withStore(config, (store) => store.recountOpenSessions());
    if (corrected !== 0) say(io, `gatehouse: open sessions recounted (the count was off by ${-corrected})`);
    return 0;
  },
});
