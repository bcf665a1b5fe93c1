import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, PASSWORD, registerUser, startTestGatehouse, USER_AGENTS, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';

const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };
const BROWSER = { 'gatehouse-refresh-token': 'cookie', ...SAME_ORIGIN };

/** The Set-Cookie header of a response, as one string. */
function setCookie(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  expect(header, 'a Set-Cookie header').toBeDefined();
  return Array.isArray(header) ? header.join('\n') : String(header);
}

/** name=value of the refresh cookie in a response, ready for a Cookie header. */
function cookieOf(response: LightMyRequestResponse): string {
  return setCookie(response).split(';')[0]!;
}

describe.each(HTTP_DATABASES)('browser mode (the refresh token in an HttpOnly cookie) on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { trustProxy: true, publicUrl: 'http://auth.example.test' }, { hasher: instantHasher() });
  });
  afterAll(() => t.close());

  let n = 0;
  async function newAccount(): Promise<string> {
    const email = `browser-${++n}@example.com`;
    await registerUser(t.app, email);
    return email;
  }
  const login = (email: string, headers: Record<string, string> = BROWSER) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD }, headers });
  const refresh = (cookie: string | undefined, headers: Record<string, string> = BROWSER) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: { ...headers, ...(cookie ? { cookie } : {}) } });
  const logout = (cookie: string | undefined, headers: Record<string, string> = BROWSER) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { ...headers, ...(cookie ? { cookie } : {}) } });
  const sessionsOf = async (accessToken: string) =>
    (await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(accessToken) })).json().sessions as Array<{ id: string }>;

  describe('signing in', () => {
    it('puts the refresh token in an HttpOnly, SameSite=Lax cookie and leaves it out of the body', async () => {
      const response = await login(await newAccount());
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body).not.toHaveProperty('refresh_token');
      expect(body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), session: { current: true } });
      const cookie = setCookie(response);
      expect(cookie).toMatch(/^gatehouse_refresh=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/; Max-Age=1209600; HttpOnly; SameSite=Lax$/);
      expect(cookie).toContain(body.session.id);
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('over HTTPS, names it __Host- and marks it Secure', async () => {
      const response = await login(await newAccount(), { ...BROWSER, 'x-forwarded-proto': 'https' });
      expect(setCookie(response)).toMatch(/^__Host-gatehouse_refresh=[^;]+; Path=\/; Max-Age=1209600; HttpOnly; SameSite=Lax; Secure$/);
    });

    it('is refused from another site, and signs nobody in', async () => {
      const email = await newAccount();
      const crossSite: Array<Record<string, string>> = [
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { origin: 'https://evil.example' },
        {},
      ];
      for (const headers of crossSite) {
        const response = await login(email, { 'gatehouse-refresh-token': 'cookie', ...headers });
        expectProblem(response, 403, 'forbidden');
        expect(response.headers['set-cookie']).toBeUndefined();
      }
      const api = await login(email, {});
      expect(await sessionsOf(api.json().access_token)).toHaveLength(1);
    });

    it('accepts a browser too old for Sec-Fetch-Site when its Origin is Gatehouse’s', async () => {
      const email = await newAccount();
      expect((await login(email, { 'gatehouse-refresh-token': 'cookie', origin: 'http://auth.example.test' })).statusCode).toBe(200);
      expect((await login(email, { 'gatehouse-refresh-token': 'cookie', origin: 'http://localhost:80' })).statusCode).toBe(200);
    });

    it('leaves API clients as they were: the token in the body, no cookie', async () => {
      const response = await login(await newAccount(), {});
      expect(response.json().refresh_token).toEqual(expect.any(String));
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('refuses any other value of the header', async () => {
      const response = await login(await newAccount(), { 'gatehouse-refresh-token': 'body', ...SAME_ORIGIN });
      expectProblem(response, 400, 'validation_failed');
    });
  });

  describe('refreshing', () => {
    it('reads the cookie and rotates it', async () => {
      const first = await login(await newAccount());
      const next = await refresh(cookieOf(first));
      expect(next.statusCode, next.body).toBe(200);
      expect(next.json()).not.toHaveProperty('refresh_token');
      expect(cookieOf(next)).not.toBe(cookieOf(first));
      expect(await sessionsOf(next.json().access_token)).toHaveLength(1);
      // Two tabs with the same cookie at the same moment: both get the same next one.
      const again = await refresh(cookieOf(first));
      expect(cookieOf(again)).toBe(cookieOf(next));
    });

    it('answers 204 without a cookie: the browser is simply not signed in', async () => {
      const response = await refresh(undefined);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
    });

    it('clears the cookie of a session that ended', async () => {
      const first = await login(await newAccount());
      await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(first.json().access_token) });
      const response = await refresh(cookieOf(first));
      expectProblem(response, 401, 'session_revoked');
      expect(setCookie(response)).toMatch(/^gatehouse_refresh=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
    });

    it('is refused from another site, and the cookie keeps working', async () => {
      const first = await login(await newAccount());
      const crossSite: Array<Record<string, string>> = [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }, {}];
      for (const headers of crossSite) {
        const response = await refresh(cookieOf(first), { 'gatehouse-refresh-token': 'cookie', ...headers });
        expectProblem(response, 403, 'forbidden');
        expect(response.headers['set-cookie']).toBeUndefined();
      }
      expect((await refresh(cookieOf(first))).statusCode).toBe(200);
    });

    it('takes no token in the body in browser mode, and needs one in the body otherwise', async () => {
      const first = await login(await newAccount());
      const both = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        headers: { ...BROWSER, cookie: cookieOf(first) },
        payload: { refresh_token: 'x.y' },
      });
      expectProblem(both, 400, 'validation_failed');
      expectProblem(await refresh(cookieOf(first), {}), 400, 'validation_failed');
    });
  });

  describe('signing out', () => {
    it('ends the cookie’s session and clears the cookie', async () => {
      const email = await newAccount();
      const first = await login(email);
      const other = await login(email, {});
      const response = await logout(cookieOf(first));
      expect(response.statusCode).toBe(204);
      expect(setCookie(response)).toContain('Max-Age=0');
      expect((await sessionsOf(other.json().access_token)).map((s) => s.id)).toEqual([other.json().session.id]);
    });

    it('is refused from another site, and the session stays', async () => {
      const first = await login(await newAccount());
      expectProblem(await logout(cookieOf(first), { 'gatehouse-refresh-token': 'cookie', 'sec-fetch-site': 'cross-site' }), 403, 'forbidden');
      expect((await refresh(cookieOf(first))).statusCode).toBe(200);
    });

    it('succeeds for a browser that is no longer signed in', async () => {
      expect((await logout(undefined)).statusCode).toBe(204);
      expect((await logout('gatehouse_refresh=not.valid')).statusCode).toBe(204);
    });

    describe('from a tab with its own access token (the cookie is whoever signed in last in that browser)', () => {
      interface Tab {
        email: string;
        token: string;
        sessionId: string;
        cookie: string;
      }
      /** Signs in in a tab of the browser: the answer's cookie replaces whatever the browser held. */
      async function signInTab(email?: string): Promise<Tab> {
        const account = email ?? (await newAccount());
        const response = await login(account);
        expect(response.statusCode, response.body).toBe(200);
        return { email: account, token: response.json().access_token, sessionId: response.json().session.id, cookie: cookieOf(response) };
      }
      /** Ann signs in in tab A, then Bob in tab B of the same browser: the one cookie is now Bob's. */
      async function annThenBob(): Promise<{ ann: Tab; bob: Tab }> {
        const ann = await signInTab();
        return { ann, bob: await signInTab() };
      }
      const logoutFrom = (accessToken: string, cookie: string | undefined, headers: Record<string, string> = BROWSER) =>
        t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { ...headers, ...bearer(accessToken), ...(cookie ? { cookie } : {}) } });
      const me = (accessToken: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) });
      /** The sessions of an account still active, as an API sign-in on another device lists them (itself left out). */
      const activeSessionsOf = async (email: string) => {
        // Another user agent: a sign-in from the tab's own would replace the tab's session.
        const api = (await login(email, { 'user-agent': USER_AGENTS.safariIphone })).json();
        return (await sessionsOf(api.access_token)).map((s) => s.id).filter((id) => id !== api.session.id);
      };
      const CLEARED = /^gatehouse_refresh=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/;
      /** The access token's signature altered: refused as `token_invalid`, as after a key is retired early. */
      const unverifiable = (token: string) => {
        const at = token.length - 10;
        return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
      };

      it('ends the session that the access token and the cookie share, and clears the cookie', async () => {
        const tab = await signInTab();
        const response = await logoutFrom(tab.token, tab.cookie);
        expect(response.statusCode, response.body).toBe(204);
        expect(setCookie(response)).toMatch(CLEARED);
        expectProblem(await me(tab.token), 401, 'session_revoked');
        expect(await activeSessionsOf(tab.email)).toEqual([]);
      });

      it('ends the access token’s session, not the cookie’s, when another account has signed in in another tab since; that session and its cookie stay', async () => {
        const { ann, bob } = await annThenBob();
        const response = await logoutFrom(ann.token, bob.cookie);
        expect(response.statusCode, response.body).toBe(204);
        expect((await me(bob.token)).statusCode).toBe(200);
        expectProblem(await me(ann.token), 401, 'session_revoked');
        expect(await activeSessionsOf(ann.email)).toEqual([]);
        expect(response.headers['set-cookie']).toBeUndefined();
        expect((await refresh(bob.cookie)).statusCode).toBe(200);
      });

      it('ends the access token’s session and clears a cookie that can no longer be used: malformed, or of a session signed out', async () => {
        const malformed = await signInTab();
        const withGarbage = await logoutFrom(malformed.token, 'gatehouse_refresh=not.valid');
        expect(withGarbage.statusCode, withGarbage.body).toBe(204);
        expect(setCookie(withGarbage)).toMatch(CLEARED);
        expectProblem(await me(malformed.token), 401, 'session_revoked');

        const { ann, bob } = await annThenBob();
        expect((await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(bob.token) })).statusCode).toBe(204);
        const response = await logoutFrom(ann.token, bob.cookie);
        expect(response.statusCode, response.body).toBe(204);
        expect(setCookie(response)).toMatch(CLEARED);
        expectProblem(await me(ann.token), 401, 'session_revoked');
      });

      it('ends the access token’s session and clears the cookie of a session that has expired', async () => {
        const idle = await startTestGatehouse(kind, { publicUrl: 'http://auth.example.test', sessionIdleTtlSeconds: 120 }, { hasher: instantHasher() });
        try {
          for (const email of ['ann@example.com', 'bob@example.com']) await registerUser(idle.app, email);
          const signIn = (email: string, headers: Record<string, string>) =>
            idle.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD }, headers });
          const bob = await signIn('bob@example.com', BROWSER);
          idle.clock.advance(121);
          const ann = (await signIn('ann@example.com', {})).json();
          const response = await idle.app.inject({
            method: 'POST',
            url: '/v1/auth/logout',
            headers: { ...BROWSER, ...bearer(ann.access_token), cookie: cookieOf(bob) },
          });
          expect(response.statusCode, response.body).toBe(204);
          expect(setCookie(response)).toMatch(CLEARED);
          expectProblem(await idle.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(ann.access_token) }), 401, 'session_revoked');
        } finally {
          await idle.close();
        }
      });

      it('ends nothing with a spent cookie of another session, and leaves it for the next refresh to judge', async () => {
        const { ann, bob } = await annThenBob();
        const rotated = await refresh(bob.cookie);
        expect(rotated.statusCode, rotated.body).toBe(200);
        t.clock.advance(t.config.refreshReuseGraceSeconds + 1);
        const response = await logoutFrom(ann.token, bob.cookie);
        expect(response.statusCode, response.body).toBe(204);
        // Presenting the spent token did not count as reuse here: Bob's session lives on.
        expect((await me(rotated.json().access_token)).statusCode).toBe(200);
        expectProblem(await me(ann.token), 401, 'session_revoked');
        expect(response.headers['set-cookie']).toBeUndefined();
        expect((await refresh(cookieOf(rotated))).statusCode).toBe(200);
      });

      it('answers 204, as it always has, to an access token and cookie of a session already over, and clears the cookie', async () => {
        const tab = await signInTab();
        expect((await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(tab.token) })).statusCode).toBe(204);
        const response = await logoutFrom(tab.token, tab.cookie);
        expect(response.statusCode, response.body).toBe(204);
        expect(setCookie(response)).toMatch(CLEARED);
      });

      it('answers session_revoked to an access token whose session is over, and leaves another session’s live cookie, and that session, alone', async () => {
        const { ann, bob } = await annThenBob();
        expect((await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(ann.token) })).statusCode).toBe(204);
        const response = await logoutFrom(ann.token, bob.cookie);
        expectProblem(response, 401, 'session_revoked');
        expect(response.headers['set-cookie']).toBeUndefined();
        expect((await me(bob.token)).statusCode).toBe(200);
        expect((await refresh(bob.cookie)).statusCode).toBe(200);
      });

      it('signs out through the cookie when the access token has expired but names the cookie’s session (a laptop that slept)', async () => {
        const tab = await signInTab();
        t.clock.advance(t.config.accessTokenTtlSeconds + 60);
        const response = await logoutFrom(tab.token, tab.cookie);
        expect(response.statusCode, response.body).toBe(204);
        expect(setCookie(response)).toMatch(CLEARED);
        expect(await activeSessionsOf(tab.email)).toEqual([]);
      });

      it('answers token_expired to an expired access token of another session than the cookie’s, and ends neither', async () => {
        const ann = await signInTab();
        t.clock.advance(t.config.accessTokenTtlSeconds + 60);
        const bob = await signInTab();
        const response = await logoutFrom(ann.token, bob.cookie);
        expectProblem(response, 401, 'token_expired');
        expect(response.headers['set-cookie']).toBeUndefined();
        expect(await activeSessionsOf(ann.email)).toEqual([ann.sessionId]);
        expect((await me(bob.token)).statusCode).toBe(200);
      });

      it('treats an access token it cannot verify like an expired one: it signs out through the cookie of its own session, never another', async () => {
        const { ann, bob } = await annThenBob();
        const refused = await logoutFrom(unverifiable(ann.token), bob.cookie);
        expectProblem(refused, 401, 'token_invalid');
        expect(refused.headers['set-cookie']).toBeUndefined();
        expect((await me(ann.token)).statusCode).toBe(200);
        expect((await me(bob.token)).statusCode).toBe(200);

        const own = await logoutFrom(unverifiable(bob.token), bob.cookie);
        expect(own.statusCode, own.body).toBe(204);
        expect(setCookie(own)).toMatch(CLEARED);
        expectProblem(await me(bob.token), 401, 'session_revoked');
      });

      it('is refused from another site before the access token is looked at, and both sessions stay', async () => {
        const { ann, bob } = await annThenBob();
        const response = await logoutFrom(ann.token, bob.cookie, { 'gatehouse-refresh-token': 'cookie', 'sec-fetch-site': 'cross-site' });
        expectProblem(response, 403, 'forbidden');
        expect(response.headers['set-cookie']).toBeUndefined();
        expect((await me(ann.token)).statusCode).toBe(200);
        expect((await me(bob.token)).statusCode).toBe(200);
      });
    });
  });

  it('uses the __Host- Secure cookie whenever the public address is HTTPS, even over a plain hop from an unnamed proxy', async () => {
    const behindProxy = await startTestGatehouse(kind, { publicUrl: 'https://auth.example.com' }, { hasher: instantHasher() });
    try {
      await registerUser(behindProxy.app, 'proxied@example.com');
      const headers = { 'gatehouse-refresh-token': 'cookie', origin: 'https://auth.example.com' };
      const signedIn = await behindProxy.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'proxied@example.com', password: PASSWORD },
        headers,
      });
      expect(setCookie(signedIn)).toMatch(/^__Host-gatehouse_refresh=[^;]+; Path=\/; Max-Age=1209600; HttpOnly; SameSite=Lax; Secure$/);
      const refreshed = await behindProxy.app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: { ...headers, cookie: cookieOf(signedIn) } });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      // The plain name is not read there: a sibling subdomain could have planted it.
      const planted = await behindProxy.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        headers: { ...headers, cookie: cookieOf(signedIn).replace('__Host-', '') },
      });
      expect(planted.statusCode).toBe(204);
    } finally {
      await behindProxy.close();
    }
  });

  it('never lets the cookie stand in for a Bearer token', async () => {
    const first = await login(await newAccount());
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: cookieOf(first), ...SAME_ORIGIN } });
    expectProblem(me, 401, 'token_missing');
  });
});
