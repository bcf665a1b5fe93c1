import { describe, it } from 'vitest';
import { signOutsOnBRefusedOnA } from '../../revocation/two-nodes-propagation.js';

/** The benchmark-sized round of test/revocation/two-nodes.process.test.ts: 200 sign-outs on PostgreSQL, one at a time. */
describe('two server processes on one postgres database, at length', () => {
  it('refuse on node A every one of 200 sessions signed out on node B, each within the staleness bound', () => signOutsOnBRefusedOnA('postgres', 200), 120_000);
});
