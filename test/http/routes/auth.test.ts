import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, USER_AGENTS, type TestGatehouse } from '../../helpers/app.js';

describe.each(HTTP_DATABASES)('auth routes on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind);
  });
  afterAll(() => t.close());

  describe('POST /v1/auth/register', () => {
    it('creates an account and returns the user without any secret', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/register',
        payload: { email: '  Ann.Lee@Example.COM ', password: PASSWORD, name: ' Ann Lee ' },
      });
      expect(response.statusCode).toBe(201);
      const { user } = response.json();
      expect(user).toEqual({
        id: expect.any(String),
        email: 'Ann.Lee@Example.COM',
        name: 'Ann Lee',
        email_verified: false,
        created_at: '2026-11-27T09:00:00.000Z',
      });
      expect(response.body).not.toMatch(/argon2|password/i);
    });

    it('refuses the same email in another case or with spaces as email_taken', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'ann.lee@example.com', password: PASSWORD } });
      expectProblem(response, 409, 'email_taken');
    });

    it('lets exactly one of two simultaneous sign-ups of one email win', async () => {
      const attempts = await Promise.all(
        [1, 2, 3].map(() => t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'race@example.com', password: PASSWORD } })),
      );
      expect(attempts.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
    });

    it('refuses a password shorter than 8 characters as weak_password', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'short@example.com', password: 'seven77' } });
      expectProblem(response, 400, 'weak_password');
    });

    it('accepts any Unicode password and counts characters, not bytes', async () => {
      await registerUser(t.app, 'unicode@example.com', 'пароль🔑密码'); // 9 characters, 25 bytes
      await signIn(t.app, 'unicode@example.com', { password: 'пароль🔑密码' });
    });

    it('never truncates a password: one differing in its 128th character does not match', async () => {
      const long = 'a'.repeat(127) + 'b';
      await registerUser(t.app, 'long@example.com', long);
      const wrong = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'long@example.com', password: 'a'.repeat(128) } });
      expectProblem(wrong, 401, 'invalid_credentials');
      await signIn(t.app, 'long@example.com', { password: long });
    });

    it('refuses a password over 128 characters', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'longer@example.com', password: 'a'.repeat(129) } });
      expectProblem(response, 400, 'validation_failed');
    });

    it.each(['not-an-email', 'a@b', '@example.com', 'ann@', 'ann @example.com', 'a..b@example.com', `${'x'.repeat(65)}@example.com`])(
      'refuses the invalid email %j',
      async (email) => {
        const response = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD } });
        expectProblem(response, 400, 'validation_failed');
        expect(response.json().errors[0].pointer).toBe('/body/email');
      },
    );

    it.each([
      ['a zero-width space', 'ann\u200b@example.com'],
      ['a right-to-left override', 'ann\u202e@example.com'],
      ['a soft hyphen', 'an\u00adn@example.com'],
      ['a C1 control', 'ann\u0085@example.com'],
    ])('refuses an email with %s, which would display as another address, and creates no account', async (_what, email) => {
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD } });
      expectProblem(response, 400, 'validation_failed');
      expect(response.json().errors).toEqual([
        { pointer: '/body/email', detail: 'must not contain control or invisible characters, such as a zero-width space' },
      ]);
      const login = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD } });
      expectProblem(login, 401, 'invalid_credentials');
    });

    it('stores a Unicode domain in its ASCII form, which signs in spelled either way and cannot be registered twice', async () => {
      const user = await registerUser(t.app, 'Zoë@Bücher.example');
      expect(user).toMatchObject({ email: 'Zoë@xn--bcher-kva.example' });
      for (const email of ['zoë@xn--bcher-kva.example', 'ZOË@BÜCHER.example', 'zoë@bücher.example']) {
        expect((await signIn(t.app, email)).user).toMatchObject({ id: user.id });
      }
      const again = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'zoë@xn--bcher-kva.example', password: PASSWORD } });
      expectProblem(again, 409, 'email_taken');
    });
  });

  describe('POST /v1/auth/login', () => {
    it('returns the full TokenResponse with a session describing the device', async () => {
      await registerUser(t.app, 'bob@example.com');
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'BOB@example.com ', password: PASSWORD },
        headers: { 'user-agent': USER_AGENTS.firefoxUbuntu },
        remoteAddress: '198.51.100.20',
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json();
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, user: { email: 'bob@example.com' } });
      expect(body.refresh_token).toMatch(new RegExp(`^${body.session.id}\\.[A-Za-z0-9_-]{71}$`));
      expect(body.session).toMatchObject({
        current: true,
        ip: '198.51.100.20',
        user_agent: USER_AGENTS.firefoxUbuntu,
        device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
      });
    });

    it('answers an unknown email and a wrong password with byte-identical responses', async () => {
      const unknown = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'nobody@example.com', password: PASSWORD } });
      const wrong = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'bob@example.com', password: 'wrong password!' } });
      expectProblem(unknown, 401, 'invalid_credentials');
      expect(wrong.statusCode).toBe(unknown.statusCode);
      expect(wrong.body).toBe(unknown.body);
      const { date: _a, ...unknownHeaders } = unknown.headers;
      const { date: _b, ...wrongHeaders } = wrong.headers;
      expect(wrongHeaders).toEqual(unknownHeaders);
    });

    it('takes the client address from the socket, not from X-Forwarded-For', async () => {
      const session = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.30' });
      const spoofed = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'bob@example.com', password: PASSWORD },
        headers: { 'x-forwarded-for': '1.2.3.4' },
        remoteAddress: '198.51.100.31',
      });
      expect(session.session.ip).toBe('198.51.100.30');
      expect(spoofed.json().session.ip).toBe('198.51.100.31');
    });
    it('uses X-Forwarded-For only from the proxies GATEHOUSE_TRUST_PROXY names', async () => {
      const behindProxy = await startTestGatehouse(kind, { trustProxy: ['192.0.2.0/24'] });
      try {
        await registerUser(behindProxy.app, 'proxied@example.com');
        const login = (remoteAddress: string) =>
          behindProxy.app.inject({
            method: 'POST',
            url: '/v1/auth/login',
            payload: { email: 'proxied@example.com', password: PASSWORD },
            headers: { 'x-forwarded-for': '198.51.100.99' },
            remoteAddress,
          });
        expect((await login('192.0.2.10')).json().session.ip).toBe('198.51.100.99');
        expect((await login('203.0.113.50')).json().session.ip).toBe('203.0.113.50');
      } finally {
        await behindProxy.close();
      }
    });
  });

  describe('POST /v1/auth/logout', () => {
    it('with a Bearer token revokes the current session, whose token then stops working', async () => {
      const { access_token: token } = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.40' });
      const logout = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(token) });
      expect(logout.statusCode).toBe(204);
      expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) }), 401, 'session_revoked');
    });

    it('with only the refresh token revokes that session', async () => {
      const { access_token: token, refresh_token: refreshToken } = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.41' });
      const logout = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refresh_token: refreshToken } });
      expect(logout.statusCode).toBe(204);
      expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) }), 401, 'session_revoked');
      const again = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refresh_token: refreshToken } });
      expectProblem(again, 401, 'session_revoked');
    });

    it('refuses a forged refresh token and changes nothing', async () => {
      const { session, access_token: token } = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.42' });
      const forged = `${session.id}.${'A'.repeat(71)}`;
      expectProblem(await t.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refresh_token: forged } }), 401, 'invalid_refresh_token');
      expectProblem(await t.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refresh_token: 'garbage' } }), 401, 'invalid_refresh_token');
      expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
    });

    it('refuses a token in the query string and leaves the session alive', async () => {
      const { access_token: token } = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.43' });
      expectProblem(await t.app.inject({ method: 'POST', url: `/v1/auth/logout?access_token=${token}` }), 401, 'token_invalid');
      expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
    });

    it('without any credential answers token_missing', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/logout' });
      expectProblem(response, 401, 'token_missing');
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('POST /v1/auth/reauth', () => {
    it('makes an old sign-in fresh again so others can be signed out', async () => {
      const { access_token: token } = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.50' });
      t.clock.advance(601);
      expectProblem(await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=others', headers: bearer(token) }), 403, 'reauth_required');
      const reauth = await t.app.inject({ method: 'POST', url: '/v1/auth/reauth', headers: bearer(token), payload: { password: PASSWORD } });
      expect(reauth.statusCode).toBe(204);
      const revoke = await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=others', headers: bearer(token) });
      expect(revoke.statusCode).toBe(200);
    });

    it('refuses a wrong password with invalid_credentials', async () => {
      const { access_token: token } = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.51' });
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/reauth', headers: bearer(token), payload: { password: 'not it at all' } });
      expectProblem(response, 401, 'invalid_credentials');
    });
  });
});
