import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { bearer, registerUser, signIn, testConfig } from '../helpers/app.js';
import { testClock } from '../helpers/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/** Waits until `done()` holds; fails after `withinMs` (a functional deadline, not a timing claim). */
async function eventually(done: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('revocation notices on PostgreSQL', () => {
  let database: TestDatabase;
  const nodes: Gatehouse[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close().catch(() => {});
    await database.drop();
  });

  async function twoNodes(): Promise<[Gatehouse, Gatehouse]> {
    database = await createTestDatabase('postgres');
    const clock = testClock();
    const config = testConfig({ database: database.location });
    for (let i = 0; i < 2; i++) nodes.push(await createGatehouse(config, { clock, store: await openStore(database.location), logger: false }));
    // Only notices can tell node B now: its once-a-second catch-up is switched off.
    nodes[1]!.sync.stop();
    return nodes as [Gatehouse, Gatehouse];
  }

  async function signOutOnA(a: Gatehouse, email: string): Promise<string> {
    await registerUser(a.app, email);
    const session = await signIn(a.app, email);
    await a.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(session.access_token) });
    return session.session.id;
  }

  it('tell the other node of a sign-out without waiting for its catch-up poll', async () => {
    const [a, b] = await twoNodes();
    const sessionId = await signOutOnA(a, 'cat@example.com');
    await eventually(() => b.view.isRevoked(sessionId), 2000);
  });

  it('keep arriving after the listening connection is killed: the node reconnects by itself', async () => {
    const [a, b] = await twoNodes();
    const url = (database.location as { url: string }).url;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'LISTEN%' and pid <> pg_backend_pid()`,
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(2); // both nodes were listening
    } finally {
      await admin.end();
    }
    const sessionId = await signOutOnA(a, 'dan@example.com');
    await eventually(() => b.view.isRevoked(sessionId), 5000);
  });
});
