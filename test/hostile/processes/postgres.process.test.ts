import { serverProcessTests, twoServerProcessTests } from '../../server-process-flows.js';

/**
 * The server process flows on PostgreSQL that `npm test` leaves out (test/server.test.ts runs
 * them on SQLite): a token revoked before a restart is refused after it, and two processes on
 * one database answer simultaneous refreshes alike and refuse each other's sign-outs.
 */
serverProcessTests('postgres', ['restart']);
twoServerProcessTests('postgres');
