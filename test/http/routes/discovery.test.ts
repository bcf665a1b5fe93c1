import { importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';

describe('public keys and health', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse('sqlite');
  });
  afterAll(() => t.close());

  it('publishes the signing key so any service can verify an access token on its own', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(response.statusCode).toBe(200);
    const { keys } = response.json();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty('d'); // never the private part

    await registerUser(t.app, 'nina@example.com');
    const { access_token: token, session, user } = await signIn(t.app, 'nina@example.com');
    const { payload, protectedHeader } = await jwtVerify(token, await importJWK(keys[0], 'EdDSA'), {
      issuer: t.config.issuer,
      audience: t.config.audience,
      currentDate: new Date(t.clock.now()),
    });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys[0].kid });
    expect(payload).toMatchObject({ sub: user.id, sid: session.id, auth_time: payload.iat });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.jti).toEqual(expect.any(String));
  });

  it('answers /healthz and /readyz while the database is reachable', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({
      status: 'ready',
      revocation_view: { fresh: true, confirmed_ms_ago: expect.any(Number) },
    });
  });

  it('answers /readyz with 503 unavailable once the database is gone', async () => {
    const other = await startTestGatehouse('sqlite');
    await other.gatehouse.store.close();
    const response = await other.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'unavailable' });
    await other.close().catch(() => {});
  });
});
