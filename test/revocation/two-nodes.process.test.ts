import { describe, it } from 'vitest';
import type { DatabaseKind } from '../helpers/databases.js';
import { signOutsOnBRefusedOnA } from './two-nodes-propagation.js';

/** A sign-out on node B is refused on node A within the staleness bound (two-nodes-propagation.ts); 200 of them in the slow suite. */
// SQLite has no notice: each sign-out waits for the other node's one-second catch-up, so fewer of them.
const REVOCATIONS: Record<DatabaseKind, number> = { postgres: 10, sqlite: 4 };

describe.each(Object.entries(REVOCATIONS) as [DatabaseKind, number][])('two server processes on one %s database', (kind, count) => {
  it(
    `refuse on node A every one of ${count} sessions signed out on node B, each within the staleness bound`,
    () => signOutsOnBRefusedOnA(kind, count),
    120_000,
  );
});
