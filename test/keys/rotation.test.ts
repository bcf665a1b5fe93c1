import { decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY_RELOAD_INTERVAL_MS } from '../../src/keys/key-schedule.js';
import { retireSigningKey, rotateSigningKey } from '../../src/keys/rotation.js';
import { bearer, registerUser, signIn, startTestGatehouse, type SignedIn, type TestGatehouse } from '../helpers/app.js';
import { DATABASES } from '../helpers/databases.js';
import { instantHasher } from '../helpers/hashers.js';

const FIVE_MINUTES = 300;

describe.each(DATABASES)('a key rotation, as a signed-in user sees it, on %s', (kind) => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse(kind, {}, { hasher: instantHasher() });
  });
  afterEach(() => t.close());

  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
  const refresh = async (token: string): Promise<SignedIn> => {
    const response = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: token } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const jwksKids = async () => ((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys as Array<{ kid: string }>).map((k) => k.kid);
  /** What the node's timer does every KEY_RELOAD_INTERVAL_MS (gatehouse.ts). */
  const timerTick = async () => {
    t.clock.advance(KEY_RELOAD_INTERVAL_MS / 1000);
    await t.gatehouse.keys.reload();
  };
  const kid = (token: string) => decodeProtectedHeader(token).kid;
  const lifetime = () => ({ accessTokenTtlSeconds: t.config.accessTokenTtlSeconds, clockToleranceSeconds: t.config.clockToleranceSeconds });

  it('keeps a user signed in before `keys rotate` working, token and refresh, through the rotation and the retirement of the old key', async () => {
    await registerUser(t.app, 'ann@example.com');
    let current = await signIn(t.app, 'ann@example.com');
    const oldKid = kid(current.access_token);

    t.clock.advance(60);
    const added = await rotateSigningKey(t.gatehouse.store, t.clock, t.gatehouse.keySecret);
    await timerTick();
    expect(await jwksKids()).toEqual([oldKid, added.kid]);

    // The app refreshes every five minutes, and uses each token until the next.
    const kidsSeen = new Set<string | undefined>();
    let retired = false;
    for (let minute = 0; minute < 60; minute += 5) {
      t.clock.advance(FIVE_MINUTES);
      const previous = current;
      expect((await me(previous.access_token)).statusCode, `minute ${minute}: the token from before`).toBe(200);
      current = await refresh(previous.refresh_token);
      kidsSeen.add(kid(current.access_token));
      expect((await me(current.access_token)).statusCode, `minute ${minute}: the new token`).toBe(200);
      const outcome = await retireSigningKey(t.gatehouse.store, t.clock, oldKid as string, { lifetime: lifetime(), force: false });
      if (outcome.outcome === 'retired') {
        retired = true;
        await timerTick();
        expect(await jwksKids()).toEqual([added.kid]);
      }
    }
    expect(kidsSeen).toEqual(new Set([oldKid, added.kid]));
    expect(retired).toBe(true);
    expect((await me(current.access_token)).statusCode).toBe(200);
    expect((await me((await refresh(current.refresh_token)).access_token)).statusCode).toBe(200);
  });

  it('refuses tokens of a key retired by force at the next reload; a refresh gets the user a good one', async () => {
    await registerUser(t.app, 'ann@example.com');
    const before = await signIn(t.app, 'ann@example.com');
    const leaked = kid(before.access_token) as string;
    await rotateSigningKey(t.gatehouse.store, t.clock, t.gatehouse.keySecret);
    expect(await retireSigningKey(t.gatehouse.store, t.clock, leaked, { lifetime: lifetime(), force: true })).toMatchObject({ outcome: 'retired' });
    await timerTick();

    const refused = await me(before.access_token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe('token_invalid');
    const after = await refresh(before.refresh_token);
    expect(kid(after.access_token)).not.toBe(leaked);
    expect((await me(after.access_token)).statusCode).toBe(200);
  });
});
