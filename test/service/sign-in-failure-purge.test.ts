import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeSignInFailures } from '../../src/service/housekeeping.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/app.js';
import { DATABASES } from '../helpers/databases.js';
import { instantHasher } from '../helpers/hashers.js';

describe.each(DATABASES)('purging sign-in failure counters on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, {}, { hasher: instantHasher() });
  });
  afterAll(() => t.close());

  const fail = (email: string, ip: string) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'wrong password' }, remoteAddress: ip });

  it("keeps counters that still limit, and deletes an email's after a day without failures and an address's after its window", async () => {
    await fail('old@example.com', '198.51.100.1');
    t.clock.advance(20 * 60);
    await fail('recent@example.com', '198.51.100.2');
    // 20 minutes on: the first address's 15-minute window is over, both emails still count.
    expect(await purgeSignInFailures(t.gatehouse.ctx)).toBe(1);
    expect((await t.gatehouse.store.signInLimits('old@example.com', '198.51.100.1')).account?.consecutive).toBe(1);
    t.clock.advance(24 * 3600 - 20 * 60 + 1);
    // Just over a day after the first failure: its email goes, as does the second address; the second email stays.
    expect(await purgeSignInFailures(t.gatehouse.ctx)).toBe(2);
    expect(await t.gatehouse.store.signInLimits('old@example.com', '198.51.100.1')).toEqual({ account: undefined, address: undefined });
    expect((await t.gatehouse.store.signInLimits('recent@example.com', '198.51.100.2')).account?.consecutive).toBe(1);
  });

  it('runs with the hourly purge of ended sessions', async () => {
    await fail('hourly@example.com', '198.51.100.3');
    t.clock.advance(2 * 24 * 3600);
    await t.gatehouse.purge();
    expect(await t.gatehouse.store.signInLimits('hourly@example.com', '198.51.100.3')).toEqual({ account: undefined, address: undefined });
  });
});
