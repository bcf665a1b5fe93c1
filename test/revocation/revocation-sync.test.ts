import { afterEach, describe, expect, it } from 'vitest';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { bearer, expectProblem, registerUser, signIn, testConfig } from '../helpers/app.js';
import { testClock, type TestClock } from '../helpers/clock.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../helpers/databases.js';

describe.each(DATABASES)('two nodes on one %s database', (kind) => {
  let database: TestDatabase;
  const nodes: Gatehouse[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close().catch(() => {});
    await database.drop();
  });

  async function twoNodes(): Promise<{ a: Gatehouse; b: Gatehouse; clock: TestClock }> {
    database = await createTestDatabase(kind);
    const clock = testClock();
    const config = testConfig({ database: database.location });
    for (let i = 0; i < 2; i++) nodes.push(await createGatehouse(config, { clock, store: await openStore(database.location), logger: false }));
    const [a, b] = nodes as [Gatehouse, Gatehouse];
    return { a, b, clock };
  }
  /** As if every catch-up of the node failed: no poll, and notices (PostgreSQL) change nothing. */
  const silence = (node: Gatehouse) => {
    node.sync.stop();
    node.sync.catchUp = () => Promise.resolve();
  };
  const me = (node: Gatehouse, token: string) => node.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });

  it('learns a sign-out made on the other node at its next catch-up', async () => {
    const { a, b } = await twoNodes();
    await registerUser(a.app, 'zoe@example.com');
    const session = await signIn(a.app, 'zoe@example.com');
    expect((await me(b, session.access_token)).statusCode).toBe(200);

    await a.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(session.access_token) });
    expectProblem(await me(a, session.access_token), 401, 'session_revoked');
    await b.sync.catchUp();
    expectProblem(await me(b, session.access_token), 401, 'session_revoked');
  });

  it('learns a bulk sign-out (password change) made on the other node, every session of it', async () => {
    const { a, b } = await twoNodes();
    await registerUser(a.app, 'zed@example.com');
    const keep = await signIn(a.app, 'zed@example.com', { ip: '198.51.100.1' });
    const others = [await signIn(a.app, 'zed@example.com', { ip: '198.51.100.2' }), await signIn(b.app, 'zed@example.com', { ip: '198.51.100.3' })];
    const change = await a.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(keep.access_token),
      payload: { current_password: 'correct horse battery staple', new_password: 'another good passphrase' },
    });
    expect(change.statusCode).toBe(204);
    await b.sync.catchUp();
    for (const other of others) expectProblem(await me(b, other.access_token), 401, 'session_revoked');
    expect((await me(b, keep.access_token)).statusCode).toBe(200);
  });

  it('does not trust a view left unconfirmed past the staleness bound: it asks the database', async () => {
    const { a, b, clock } = await twoNodes();
    silence(b);
    await registerUser(a.app, 'ada@example.com');
    const session = await signIn(a.app, 'ada@example.com');
    await a.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(session.access_token) });
    clock.advance(6);
    expect(b.view.isRevoked(session.session.id)).toBe(false); // the view alone would let it in
    expect(b.sync.isFresh()).toBe(false);
    expectProblem(await me(b, session.access_token), 401, 'session_revoked');
    expect((await b.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
  });

  it('answers 503 rather than accept a token when the view is stale and the database unreachable', async () => {
    const { a, b, clock } = await twoNodes();
    silence(b);
    await registerUser(a.app, 'bea@example.com');
    const session = await signIn(a.app, 'bea@example.com');
    await b.store.close();
    clock.advance(6);
    expectProblem(await me(b, session.access_token), 503, 'unavailable');
  });
});
