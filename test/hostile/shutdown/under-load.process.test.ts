import { shutdownUnderLoadTests } from '../../cli/shutdown-under-load.js';

/**
 * Issue 7, item 6, the rest of the matrix: SIGTERM under load on PostgreSQL, and with
 * `--workers 2` on both databases. `npm test` runs SQLite with one process
 * (test/cli/shutdown.process.test.ts).
 */
shutdownUnderLoadTests([
  ['postgres', 'gatehouse serve'],
  ['sqlite', 'gatehouse serve --workers 2'],
  ['postgres', 'gatehouse serve --workers 2'],
]);
