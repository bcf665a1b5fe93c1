import { resourceServerTests } from '../../verify/resource-servers.js';

/**
 * gatehouse/verify fails closed with 503 once Gatehouse has been stopped (SIGSTOP) or killed
 * past the staleness bound, and recovers by itself when it is back. `npm test` runs the flows
 * (test/verify/resource-server.process.test.ts); the verifier's fail-closed rule has unit tests
 * with a moved clock in test/verify/verifier.test.ts.
 */
resourceServerTests('outages');
