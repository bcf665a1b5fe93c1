import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatehouse, type Gatehouse } from '../../../src/gatehouse.js';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { expectProblem, registerUser, startTestGatehouse, testConfig, type TestGatehouse } from '../../helpers/app.js';
import { testClock } from '../../helpers/clock.js';
import { createTestDatabase, DATABASES, HTTP_DATABASES, type TestDatabase } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';
import { register, registrationFloodTests } from './registration-flood.js';

/**
 * The per-address limit on POST /v1/auth/register (src/core/address-limits.ts), and sign-in's
 * own share of the hasher: a flood of registrations must not take sign-in down for anyone (the
 * flood with the limit off, sign-in's share alone, runs in the slow suite: test/hostile/floods/).
 */

function expectRateLimited(response: LightMyRequestResponse, retryAfterSeconds: number): void {
  expectProblem(response, 429, 'rate_limited');
  expect(response.headers['retry-after']).toBe(String(retryAfterSeconds));
}

describe.each(HTTP_DATABASES)('the registration limit on %s', (kind) => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('creates 30 accounts from one address in 15 minutes, refuses the 31st with 429 and Retry-After, and creates it once the window ends', async () => {
    t = await startTestGatehouse(kind, {}, { hasher: instantHasher() });
    for (let i = 0; i < 30; i++) expect((await register(t.app, `user${i}@example.com`)).statusCode).toBe(201);
    expectRateLimited(await register(t.app, 'user30@example.com'), 900);
    t.clock.advance(600);
    expectRateLimited(await register(t.app, 'user30@example.com'), 300);
    t.clock.advance(300);
    expect((await register(t.app, 'user30@example.com')).statusCode).toBe(201);
  });

  it('counts attempts for emails already taken, but not inputs refused before any work', async () => {
    t = await startTestGatehouse(kind, { registrationIpMax: 3 }, { hasher: instantHasher() });
    await registerUser(t.app, 'ann@example.com');
    for (let i = 0; i < 5; i++) expectProblem(await register(t.app, 'not an email'), 400, 'validation_failed');
    for (let i = 0; i < 3; i++) expectProblem(await register(t.app, 'ann@example.com'), 409, 'email_taken');
    expectRateLimited(await register(t.app, 'bob@example.com'), 900);
    // The refusal says nothing about the email: a new one and a taken one get the same answer.
    expectRateLimited(await register(t.app, 'ann@example.com'), 900);
  });

  it('counts each address on its own, and an IPv6 client by its /64', async () => {
    t = await startTestGatehouse(kind, { registrationIpMax: 2 }, { hasher: instantHasher() });
    expect((await register(t.app, 'a@example.com', '2001:db8:1:2::1')).statusCode).toBe(201);
    expect((await register(t.app, 'b@example.com', '2001:db8:1:2::ffff')).statusCode).toBe(201);
    expectRateLimited(await register(t.app, 'c@example.com', '2001:db8:1:2:abcd::9'), 900);
    expect((await register(t.app, 'c@example.com', '2001:db8:1:3::1')).statusCode).toBe(201);
    expect((await register(t.app, 'd@example.com', '203.0.113.9')).statusCode).toBe(201);
  });

  it('limits nothing when GATEHOUSE_REGISTER_IP_MAX is 0', async () => {
    t = await startTestGatehouse(kind, { registrationIpMax: 0 }, { hasher: instantHasher() });
    for (let i = 0; i < 40; i++) expect((await register(t.app, `user${i}@example.com`)).statusCode).toBe(201);
  });
});

describe.each(DATABASES)('the registration limit across two nodes on %s', (kind) => {
  let database: TestDatabase;
  const nodes: Gatehouse[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close();
    await database.drop();
  });

  it('is one count, whichever node a registration reaches', async () => {
    database = await createTestDatabase(kind);
    const config = testConfig({ database: database.location, registrationIpMax: 4 });
    const clock = testClock();
    for (let i = 0; i < 2; i++)
      nodes.push(await createGatehouse(config, { clock, store: await openStore(database.location), logger: false, hasher: instantHasher() }));
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => register(nodes[i % 2]!.app, `user${i}@example.com`)));
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(4);
    for (const refused of answers.filter((a) => a.statusCode !== 201)) expectRateLimited(refused, 900);
  });
});

registrationFloodTests(['limit on']);
