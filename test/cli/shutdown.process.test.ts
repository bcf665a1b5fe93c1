import { shutdownUnderLoadTests } from './shutdown-under-load.js';

/**
 * Issue 7, item 6: SIGTERM to a server process under load, on SQLite with one process. The
 * same test on PostgreSQL and with `--workers 2` runs in the slow suite
 * (test/hostile/shutdown/under-load.process.test.ts): what differs there is the database's
 * commit and the supervisor's signal relay, each covered by tests of its own in this suite.
 */
shutdownUnderLoadTests([['sqlite', 'gatehouse serve']]);
