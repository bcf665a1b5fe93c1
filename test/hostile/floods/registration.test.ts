import { registrationFloodTests } from '../../http/routes/registration-flood.js';

/**
 * Issue 14: a registration flood with the per-address limit off fills only its own share of the
 * argon2 pool, and sign-in still answers 200 throughout. `npm test` runs the flood with the limit
 * on (test/http/routes/registration-limits.test.ts); the pool's lanes have unit tests there too
 * (test/passwords/argon2-pool.test.ts).
 */
registrationFloodTests(['limit off']);
