import { postgresFaultTests } from './postgres-faults.js';

/**
 * Issue 4: two server processes keep refusing signed-out sessions when PostgreSQL drops every
 * connection. The outage past the staleness bound runs in the slow suite
 * (test/hostile/outage/postgres-down-past-bound.process.test.ts).
 */
postgresFaultTests(['connections dropped']);
