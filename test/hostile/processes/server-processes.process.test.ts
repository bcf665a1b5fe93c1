import { serverProcessTests, twoServerProcessTests } from '../../server-process-flows.js';

/**
 * The server process flows that `npm test` leaves out (test/server.test.ts): on PostgreSQL, a
 * token revoked before a restart is refused after it, and two processes on one database answer
 * simultaneous refreshes alike and refuse each other's sign-outs; on SQLite, the sign-out
 * between two processes (test/revocation/two-nodes.process.test.ts runs eight of those).
 */
serverProcessTests('postgres', ['restart']);
twoServerProcessTests('postgres', ['refreshes', 'sign-out']);
twoServerProcessTests('sqlite', ['sign-out']);
