import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';

const SERVICE_KEY = 'svc_' + 'i'.repeat(40);

describe.each(HTTP_DATABASES)('OAuth token endpoints on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { serviceKeys: [SERVICE_KEY] });
    await registerUser(t.app, 'oauth@example.com');
  });
  afterAll(() => t.close());

  let ip = 0;
  const newSession = () => signIn(t.app, 'oauth@example.com', { ip: `198.51.100.${++ip}` });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: token } });
  const form = (fields: Record<string, string>) => ({
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const revoke = (body: Record<string, string>, asForm = false) =>
    t.app.inject({ method: 'POST', url: '/v1/oauth/revoke', ...(asForm ? form(body) : { payload: body }) });
  const introspect = (body: Record<string, string>, options: { asForm?: boolean; key?: string | null } = {}) => {
    const request = options.asForm ? form(body) : { payload: body, headers: {} };
    const key = options.key === undefined ? SERVICE_KEY : options.key;
    return t.app.inject({
      method: 'POST',
      url: '/v1/oauth/introspect',
      payload: request.payload,
      headers: { ...request.headers, ...(key ? bearer(key) : {}) },
    });
  };

  describe('POST /v1/oauth/revoke (RFC 7009)', () => {
    it('ends the session of a refresh token sent as a form, and its access tokens stop at once', async () => {
      const session = await newSession();
      const response = await revoke({ token: session.refresh_token, token_type_hint: 'refresh_token' }, true);
      expect(response.statusCode).toBe(200);
      expectProblem(await me(session.access_token), 401, 'session_revoked');
      expectProblem(await refresh(session.refresh_token), 401, 'session_revoked');
    });

    it('ends the session of an access token sent as JSON, whatever the hint says', async () => {
      const session = await newSession();
      expect((await revoke({ token: session.access_token, token_type_hint: 'refresh_token' })).statusCode).toBe(200);
      expectProblem(await me(session.access_token), 401, 'session_revoked');
    });

    it('answers 200 and changes nothing for tokens it cannot act on', async () => {
      const bystander = await newSession();
      const expired = await newSession();
      t.clock.advance(700);
      for (const token of [
        'not-a-token',
        'a.b',
        `${bystander.session.id}.${'A'.repeat(64)}`,
        expired.access_token,
        bystander.access_token.slice(0, -2) + 'AA',
      ]) {
        const response = await revoke({ token });
        expect(response.statusCode, token).toBe(200);
      }
      const fresh = await refresh(bystander.refresh_token);
      expect(fresh.statusCode).toBe(200);
      expect((await me(fresh.json().access_token)).statusCode).toBe(200);
      expect((await t.gatehouse.store.findSession(expired.session.id))?.revokedAt).toBeNull();
    });

    it('treats a refresh token spent long ago as theft, as a refresh would', async () => {
      const session = await newSession();
      const next = (await refresh(session.refresh_token)).json();
      t.clock.advance(60);
      expect((await revoke({ token: session.refresh_token })).statusCode).toBe(200);
      expectProblem(await me(next.access_token), 401, 'session_revoked');
      expect((await t.gatehouse.store.findSession(session.session.id))?.revokedReason).toBe('refresh_token_reused');
    });

    it.each([
      ['no token', {}, '/body/token'],
      ['an empty token', { token: '' }, '/body/token'],
      ['an unknown hint', { token: 'x', token_type_hint: 'id_token' }, '/body/token_type_hint'],
    ])('refuses %s with a pointer to the field', async (_name, body, pointer) => {
      for (const asForm of [false, true]) {
        const response = await revoke(body as Record<string, string>, asForm);
        expectProblem(response, 400, 'validation_failed');
        expect(response.json().errors[0].pointer).toBe(pointer);
      }
    });

    it('refuses a form that names the token twice, and bodies that are neither JSON nor a form', async () => {
      const twice = await t.app.inject({
        method: 'POST',
        url: '/v1/oauth/revoke',
        payload: 'token=a&token=b',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectProblem(twice, 400, 'validation_failed');
      expect(twice.json().errors[0].pointer).toBe('/body/token');
      const text = await t.app.inject({ method: 'POST', url: '/v1/oauth/revoke', payload: 'token=a', headers: { 'content-type': 'text/plain' } });
      expectProblem(text, 415, 'unsupported_media_type');
    });

    it('accepts forms only on the OAuth endpoints', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/login', ...form({ email: 'oauth@example.com', password: 'x' }) });
      expectProblem(response, 415, 'unsupported_media_type');
    });
  });

  describe('POST /v1/oauth/introspect (RFC 7662)', () => {
    it('needs a service key, not a user token', async () => {
      const session = await newSession();
      const none = await introspect({ token: session.access_token }, { key: null });
      expectProblem(none, 401, 'token_missing');
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expectProblem(await introspect({ token: session.access_token }, { key: session.access_token }), 401, 'token_invalid');
    });

    it('describes a live access token', async () => {
      const session = await newSession();
      const response = await introspect({ token: session.access_token });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const now = Math.floor(t.clock.now() / 1000);
      expect(response.json()).toEqual({
        active: true,
        token_type: 'Bearer',
        sub: session.user.id,
        sid: session.session.id,
        username: 'oauth@example.com',
        iss: t.config.issuer,
        aud: 'gatehouse',
        exp: now + 600,
        iat: now,
        auth_time: now,
        jti: expect.any(String),
      });
    });

    it('describes a live refresh token, sent as a form', async () => {
      const session = await newSession();
      const response = await introspect({ token: session.refresh_token, token_type_hint: 'refresh_token' }, { asForm: true });
      expect(response.json()).toMatchObject({ active: true, token_type: 'refresh_token', sub: session.user.id, sid: session.session.id });
    });

    it('says exactly {"active": false} for revoked, expired, spent, forged and unknown tokens', async () => {
      const revoked = await newSession();
      await revoke({ token: revoked.refresh_token });
      const spent = await newSession();
      await refresh(spent.refresh_token);
      const expiring = await newSession();
      const inactive = [revoked.access_token, revoked.refresh_token, spent.refresh_token, 'garbage', `${spent.session.id}.${'B'.repeat(64)}`];
      for (const token of inactive) expect((await introspect({ token })).body, token).toBe('{"active":false}');
      t.clock.advance(606);
      expect((await introspect({ token: expiring.access_token })).body).toBe('{"active":false}');
    });

    it('never spends a refresh token or counts looking at an old one as theft', async () => {
      const session = await newSession();
      const next = (await refresh(session.refresh_token)).json();
      t.clock.advance(60);
      expect((await introspect({ token: session.refresh_token })).json()).toEqual({ active: false });
      expect((await introspect({ token: next.refresh_token })).json()).toMatchObject({ active: true });
      expect((await refresh(next.refresh_token)).statusCode).toBe(200);
    });
  });
});
