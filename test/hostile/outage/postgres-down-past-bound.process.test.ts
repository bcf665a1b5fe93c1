import { postgresFaultTests } from '../../revocation/postgres-faults.js';

/**
 * Issue 4: two server processes never accept a signed-out session while PostgreSQL is down
 * for longer than the staleness bound, and recover by themselves once it is back. `npm test`
 * runs the dropped connections (test/revocation/postgres-faults.process.test.ts).
 */
postgresFaultTests(['down past the bound']);
