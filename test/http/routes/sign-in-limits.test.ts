import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGatehouse } from '../../../src/gatehouse.js';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { expectProblem, loginAttempt, PASSWORD, registerUser, startTestGatehouse, testConfig, type TestGatehouse } from '../../helpers/app.js';
import { testClock } from '../../helpers/clock.js';
import { createTestDatabase, HTTP_DATABASES } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';
import { GatehouseError } from '../../../src/core/errors.js';
import type { PasswordHasher } from '../../../src/core/password-hasher.js';

/**
 * Brute-force limits on POST /v1/auth/login (src/core/sign-in-limits.ts), with the clock in the
 * test's hands. The hasher costs nothing here (these tests sign in hundreds of times); what it
 * is asked to verify is counted where that matters.
 */

const WRONG = 'not the password at all';
/** Addresses the guesses come from, so no test passes just because all came from one. */
const ips = (i: number) => `198.51.100.${(i % 200) + 1}`;

describe.each(HTTP_DATABASES)('sign-in limits on %s', (kind) => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse(kind, {}, { hasher: instantHasher() });
    await registerUser(t.app, 'ann@example.com');
  });
  afterEach(() => t.close());

  const attempt = (email: string, password: string, ip: string): Promise<LightMyRequestResponse> => loginAttempt(t.app, email, password, ip);

  async function failTimes(n: number, email = 'ann@example.com', ip: (i: number) => string = ips): Promise<void> {
    for (let i = 0; i < n; i++) expectProblem(await attempt(email, WRONG, ip(i)), 401, 'invalid_credentials');
  }

  function expectRateLimited(response: LightMyRequestResponse, retryAfterSeconds: number): void {
    expectProblem(response, 429, 'rate_limited');
    expect(response.headers['retry-after']).toBe(String(retryAfterSeconds));
  }

  it('answers ten wrong passwords from ten addresses, then refuses the eleventh attempt with 429 and Retry-After', async () => {
    await failTimes(10);
    expectRateLimited(await attempt('ann@example.com', WRONG, '203.0.113.99'), 30);
  });

  it('counts wrong passwords at reauthentication and password change too, so a stolen access token cannot guess the password', async () => {
    const session = (await attempt('ann@example.com', PASSWORD, '203.0.113.7')).json();
    const headers = { authorization: `Bearer ${session.access_token}` };
    const reauth = (password: string) => t.app.inject({ method: 'POST', url: '/v1/auth/reauth', payload: { password }, headers, remoteAddress: '203.0.113.7' });
    const change = (current: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        payload: { current_password: current, new_password: 'a brand new passphrase' },
        headers,
        remoteAddress: '203.0.113.7',
      });
    for (let i = 0; i < 5; i++) expectProblem(await reauth(WRONG), 401, 'invalid_credentials');
    for (let i = 0; i < 5; i++) expectProblem(await change(WRONG), 401, 'invalid_credentials');
    expectRateLimited(await reauth(PASSWORD), 30);
    expectRateLimited(await change(PASSWORD), 30);
    expectRateLimited(await attempt('ann@example.com', PASSWORD, '198.51.100.200'), 30);
    t.clock.advance(30);
    expect((await reauth(PASSWORD)).statusCode).toBe(204);
  });

  it('refuses even the right password while the account is locked', async () => {
    await failTimes(10);
    expectRateLimited(await attempt('ann@example.com', PASSWORD, '203.0.113.7'), 30);
  });

  it('lets one more attempt through when the delay is over, and doubles the delay after each further failure', async () => {
    await failTimes(10);
    for (const delay of [30, 60, 120, 240, 480, 900, 900]) {
      expectRateLimited(await attempt('ann@example.com', WRONG, '203.0.113.99'), delay);
      t.clock.advance(delay - 1);
      expectRateLimited(await attempt('ann@example.com', WRONG, '203.0.113.99'), 1);
      t.clock.advance(1);
      expectProblem(await attempt('ann@example.com', WRONG, '203.0.113.99'), 401, 'invalid_credentials');
    }
  });

  it('signs in with the right password once the delay is over, and the success starts the count again', async () => {
    await failTimes(10);
    t.clock.advance(30);
    expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
    await failTimes(10);
    expectRateLimited(await attempt('ann@example.com', WRONG, '203.0.113.99'), 30);
  });

  it('does not verify a refused attempt, nor count it as another failure', async () => {
    await failTimes(10);
    const verify = vi.spyOn(t.gatehouse.ctx.hasher, 'verify');
    const verifyNothing = vi.spyOn(t.gatehouse.ctx.hasher, 'verifyNothing');
    for (let i = 0; i < 20; i++) {
      t.clock.advance(1);
      expectProblem(await attempt('ann@example.com', i % 2 ? PASSWORD : WRONG, ips(i)), 429, 'rate_limited');
    }
    expect(verify).not.toHaveBeenCalled();
    expect(verifyNothing).not.toHaveBeenCalled();
    // The lock still ends 30 s after the 10th failure: the 20 refusals did not extend it.
    t.clock.advance(10);
    expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('locks an account at 100 failures within an hour from many addresses, even though its owner signs in between', async () => {
    // 11 rounds of 9 guesses and one sign-in by the owner: the consecutive count never reaches 10.
    for (let round = 0; round < 11; round++) {
      for (let i = 0; i < 9; i++) {
        t.clock.advance(10);
        expectProblem(await attempt('ann@example.com', WRONG, ips(round * 9 + i)), 401, 'invalid_credentials');
      }
      expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
    }
    t.clock.advance(10);
    expectProblem(await attempt('ann@example.com', WRONG, ips(99)), 401, 'invalid_credentials'); // the 100th failure, 1000 s after the first
    expectRateLimited(await attempt('ann@example.com', PASSWORD, '203.0.113.7'), 3600 - 990);
    t.clock.advance(3600 - 990 - 1);
    expectRateLimited(await attempt('ann@example.com', PASSWORD, '203.0.113.7'), 1);
    t.clock.advance(1);
    expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
  });

  it('limits one address trying one password against many emails, without locking those emails elsewhere', async () => {
    const sprayer = '192.0.2.66';
    for (let i = 0; i < 100; i++) {
      t.clock.advance(1);
      expectProblem(await attempt(`user${i}@example.com`, 'Winter2026!', sprayer), 401, 'invalid_credentials');
    }
    expectRateLimited(await attempt('ann@example.com', 'Winter2026!', sprayer), 900 - 99);
    expectRateLimited(await attempt('ann@example.com', PASSWORD, sprayer), 900 - 99);
    // Ann herself, from her own address, is not affected.
    expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
    t.clock.advance(900 - 99);
    expectProblem(await attempt('user0@example.com', 'Winter2026!', sprayer), 401, 'invalid_credentials');
  });

  it('never counts successful sign-ins against an address', async () => {
    const office = '192.0.2.10';
    for (let i = 0; i < 99; i++) expectProblem(await attempt(`typo${i}@example.com`, WRONG, office), 401, 'invalid_credentials');
    for (let i = 0; i < 20; i++) expect((await attempt('ann@example.com', PASSWORD, office)).statusCode).toBe(200);
    expectProblem(await attempt('typo99@example.com', WRONG, office), 401, 'invalid_credentials');
    expectRateLimited(await attempt('ann@example.com', PASSWORD, office), 900);
  });

  it('answers a locked account and an unknown email under the same failures byte for byte alike', async () => {
    for (let i = 0; i < 10; i++) {
      t.clock.advance(2);
      await attempt('ann@example.com', WRONG, ips(i));
      await attempt('nobody@example.com', WRONG, ips(i));
    }
    t.clock.advance(7);
    const locked = await attempt('ann@example.com', PASSWORD, '203.0.113.7');
    const unknown = await attempt('nobody@example.com', PASSWORD, '203.0.113.7');
    expectRateLimited(locked, 23);
    const { date: _a, ...lockedHeaders } = locked.headers;
    const { date: _b, ...unknownHeaders } = unknown.headers;
    expect({ status: unknown.statusCode, headers: unknownHeaders, body: unknown.body }).toEqual({
      status: locked.statusCode,
      headers: lockedHeaders,
      body: locked.body,
    });
    expect(locked.body).not.toMatch(/ann|account|exist|locked/i);
  });
});

describe.each(HTTP_DATABASES)('sign-in limits across a restart on %s', (kind) => {
  it('keeps an account locked when the node restarts on the same database', async () => {
    const database = await createTestDatabase(kind);
    const config = testConfig({ database: database.location });
    const clock = testClock();
    const start = async () => createGatehouse(config, { clock, store: await openStore(database.location), hasher: instantHasher(), logger: false });
    const login = (app: Awaited<ReturnType<typeof start>>['app'], password: string) =>
      app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'ann@example.com', password }, remoteAddress: '203.0.113.7' });
    try {
      const before = await start();
      await registerUser(before.app, 'ann@example.com');
      for (let i = 0; i < 10; i++) expectProblem(await login(before.app, WRONG), 401, 'invalid_credentials');
      await before.close();
      clock.advance(5);
      const after = await start();
      const refused = await login(after.app, PASSWORD);
      expectProblem(refused, 429, 'rate_limited');
      expect(refused.headers['retry-after']).toBe('25');
      await after.close();
    } finally {
      await database.drop();
    }
  });
});

/**
 * Bursts: attempts sent at once, each verified slowly (an instant hasher with a 20 ms delay, as
 * argon2 would take), must not get past a limit that sequential attempts would meet: each
 * counts from the moment it starts.
 */
describe.each(HTTP_DATABASES)('sign-in limits under parallel attempts on %s', (kind) => {
  let t: TestGatehouse;
  let verified: () => number;
  beforeEach(async () => {
    t = await startTestGatehouse(kind, { signInIpMaxFailures: 12 }, { hasher: instantHasher() });
    await registerUser(t.app, 'ann@example.com');
    const hasher: PasswordHasher = t.gatehouse.ctx.hasher;
    const slow =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return f(...a);
      };
    const [realVerify, realVerifyNothing] = [hasher.verify.bind(hasher), hasher.verifyNothing.bind(hasher)];
    const verify = vi.spyOn(hasher, 'verify').mockImplementation(slow(realVerify));
    const verifyNothing = vi.spyOn(hasher, 'verifyNothing').mockImplementation(slow(realVerifyNothing));
    verified = () => verify.mock.calls.length + verifyNothing.mock.calls.length;
  });
  afterEach(() => t.close());

  const attempt = (email: string, password: string, ip: string): Promise<LightMyRequestResponse> => loginAttempt(t.app, email, password, ip);
  const statuses = (responses: LightMyRequestResponse[]) => responses.map((r) => r.statusCode).sort();

  it('verifies exactly 10 of 30 parallel wrong passwords for one email from 30 addresses, and refuses the other 20', async () => {
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt('ann@example.com', WRONG, `198.51.100.${i + 1}`)));
    expect(statuses(responses)).toEqual([...Array<number>(10).fill(401), ...Array<number>(20).fill(429)]);
    expect(verified()).toBe(10);
    // The refused ones did not extend the lock: it ends 30 s after the burst.
    t.clock.advance(30);
    expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
  });

  it('lets exactly one of a parallel burst through when a lock ends', async () => {
    for (let i = 0; i < 10; i++) await attempt('ann@example.com', WRONG, `198.51.100.${i + 1}`);
    t.clock.advance(30);
    const before = verified();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt('ann@example.com', WRONG, `198.51.100.${i + 1}`)));
    expect(statuses(responses)).toEqual([401, ...Array<number>(19).fill(429)]);
    expect(verified() - before).toBe(1);
  });

  it('verifies exactly the address limit of 30 parallel attempts from one address on 30 emails', async () => {
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => attempt(i === 0 ? 'ann@example.com' : `user${i}@example.com`, WRONG, '192.0.2.66')),
    );
    expect(statuses(responses)).toEqual([...Array<number>(12).fill(401), ...Array<number>(18).fill(429)]);
    expect(verified()).toBe(12);
    expect((await t.gatehouse.store.signInLimits('nobody@example.com', '192.0.2.66')).address?.windowCount).toBe(12);
  });

  it('counts a /64 of IPv6 addresses as one address, and another /64 apart', async () => {
    for (let i = 0; i < 12; i++)
      expectProblem(await attempt(`user${i}@example.com`, WRONG, `2001:db8:1:2:${i.toString(16)}:${i}:0:1`), 401, 'invalid_credentials');
    expectProblem(await attempt('ann@example.com', PASSWORD, '2001:db8:1:2:ffff::9'), 429, 'rate_limited');
    expectProblem(await attempt('user0@example.com', WRONG, '2001:db8:1:3::1'), 401, 'invalid_credentials');
    // The limit's key is the prefix; the session still records the full address.
    const ok = await attempt('ann@example.com', PASSWORD, '2001:db8:1:3::abcd');
    expect(ok.statusCode).toBe(200);
    const sessions = await t.gatehouse.store.listUserSessions(ok.json<{ user: { id: string } }>().user.id, t.clock.now());
    expect(sessions.map((s) => s.client.ip)).toEqual(['2001:db8:1:3::abcd']);
  });

  it('resets the consecutive count on success, and counts the success against neither the hour nor the address', async () => {
    for (let i = 0; i < 9; i++) await attempt('ann@example.com', WRONG, '203.0.113.7');
    expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
    expect(await t.gatehouse.store.signInLimits('ann@example.com', '203.0.113.7')).toEqual({
      account: { consecutive: 0, lastFailureAt: t.clock.now(), windowStart: t.clock.now(), windowCount: 9 },
      address: { windowStart: t.clock.now(), windowCount: 9 },
    });
  });

  it('refuses with 503, counting nothing, while the hasher is too busy to check a password', async () => {
    t.gatehouse.ctx.hasher.saturated = () => true;
    for (let i = 0; i < 12; i++) expectProblem(await attempt('ann@example.com', PASSWORD, '203.0.113.7'), 503, 'unavailable');
    expect(await t.gatehouse.store.signInLimits('ann@example.com', '203.0.113.7')).toEqual({ account: undefined, address: undefined });
    t.gatehouse.ctx.hasher.saturated = () => false;
    expect((await attempt('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
  });

  it('refuses with 503, verifying nothing, when the attempt cannot be counted', async () => {
    vi.spyOn(t.gatehouse.store, 'claimSignInAttempt').mockRejectedValue(new GatehouseError('unavailable', 'The database is unavailable.'));
    expectProblem(await attempt('ann@example.com', PASSWORD, '203.0.113.7'), 503, 'unavailable');
    expect(verified()).toBe(0);
  });
});
