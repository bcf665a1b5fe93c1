import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';

describe.each(HTTP_DATABASES)('account routes on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind);
  });
  afterAll(() => t.close());

  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
  const changePassword = (token: string, current: string, next: string) =>
    t.app.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(token), payload: { current_password: current, new_password: next } });

  it('GET /v1/me returns the signed-in user, not cacheable', async () => {
    const user = await registerUser(t.app, 'kate@example.com', PASSWORD, 'Kate');
    const { access_token: token } = await signIn(t.app, 'kate@example.com');
    const response = await me(token);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({
      user: { id: user.id, email: 'kate@example.com', name: 'Kate', email_verified: false, created_at: '2026-11-27T09:00:00.000Z' },
    });
  });

  it('GET /v1/me without a token answers 401 token_missing with a Bearer challenge', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/me' });
    expectProblem(response, 401, 'token_missing');
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  describe('POST /v1/me/password', () => {
    it('changes the password, keeps this session and signs out every other one', async () => {
      await registerUser(t.app, 'liam@example.com');
      const here = await signIn(t.app, 'liam@example.com', { ip: '198.51.100.61' });
      const elsewhere = await signIn(t.app, 'liam@example.com', { ip: '198.51.100.62' });
      const response = await changePassword(here.access_token, PASSWORD, 'a brand new passphrase');
      expect(response.statusCode).toBe(204);
      expect((await me(here.access_token)).statusCode).toBe(200);
      expectProblem(await me(elsewhere.access_token), 401, 'session_revoked');
      expect(await t.gatehouse.store.findSession(elsewhere.session.id)).toMatchObject({ revokedReason: 'password_changed' });

      const old = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'liam@example.com', password: PASSWORD } });
      expectProblem(old, 401, 'invalid_credentials');
      await signIn(t.app, 'liam@example.com', { password: 'a brand new passphrase' });
    });

    it('refuses a wrong current password and changes nothing', async () => {
      await registerUser(t.app, 'mia@example.com');
      const here = await signIn(t.app, 'mia@example.com', { ip: '198.51.100.63' });
      const elsewhere = await signIn(t.app, 'mia@example.com', { ip: '198.51.100.64' });
      expectProblem(await changePassword(here.access_token, 'not my password', 'a brand new passphrase'), 401, 'invalid_credentials');
      expect((await me(elsewhere.access_token)).statusCode).toBe(200);
      await signIn(t.app, 'mia@example.com', { ip: '198.51.100.65' });
    });

    it('refuses a weak new password before checking anything else', async () => {
      const here = await signIn(t.app, 'mia@example.com', { ip: '198.51.100.66' });
      const response = await changePassword(here.access_token, PASSWORD, 'short');
      expectProblem(response, 400, 'weak_password');
      expect(response.json().errors[0].pointer).toBe('/body/new_password');
    });
  });
});
