import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, USER_AGENTS, type TestGatehouse } from '../../helpers/app.js';

describe.each(HTTP_DATABASES)('session routes on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind);
  });
  afterAll(() => t.close());

  const list = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(token) });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });

  describe('GET /v1/me/sessions', () => {
    it('lists only the caller’s active sessions, newest activity first, marking the current one', async () => {
      await registerUser(t.app, 'carol@example.com');
      await registerUser(t.app, 'dave@example.com');
      const laptop = await signIn(t.app, 'carol@example.com', { userAgent: USER_AGENTS.firefoxUbuntu, ip: '198.51.100.1' });
      t.clock.advance(60);
      const phone = await signIn(t.app, 'carol@example.com', { userAgent: USER_AGENTS.safariIphone, ip: '198.51.100.2' });
      await signIn(t.app, 'dave@example.com');

      const response = await list(laptop.access_token);
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const { sessions } = response.json();
      expect(sessions.map((s: { id: string }) => s.id)).toEqual([phone.session.id, laptop.session.id]);
      expect(sessions.map((s: { current: boolean }) => s.current)).toEqual([false, true]);
      expect(sessions[0]).toEqual({
        id: phone.session.id,
        current: false,
        created_at: '2026-11-27T09:01:00.000Z',
        last_active_at: '2026-11-27T09:01:00.000Z',
        expires_at: '2026-12-11T09:01:00.000Z',
        ip: '198.51.100.2',
        location: null,
        user_agent: USER_AGENTS.safariIphone,
        device: { browser: 'Mobile Safari 17', os: 'iOS 17', type: 'mobile', label: 'Mobile Safari 17 on iOS 17' },
      });
    });

    it('never contains a token or a hash', async () => {
      const session = await signIn(t.app, 'carol@example.com', { ip: '198.51.100.3' });
      const body = (await list(session.access_token)).body;
      expect(body).not.toContain(session.refresh_token.split('.')[1]);
      expect(body).not.toMatch(/refresh|hash|token/i);
    });
  });

  describe('location', () => {
    const locations = async (token: string) => (await list(token)).json().sessions.map((s: { ip: string; location: string | null }) => [s.ip, s.location]);

    it('shows the country of a sign-in from a public address, at sign-in and in the list', async () => {
      await registerUser(t.app, 'lena@example.com');
      const home = await signIn(t.app, 'lena@example.com', { ip: '130.149.7.201' });
      const travel = await signIn(t.app, 'lena@example.com', { ip: '2001:67c:2e8:22::c100:68b', userAgent: USER_AGENTS.safariIphone });
      expect(home.session.location).toBe('DE');
      expect(travel.session.location).toBe('NL');
      expect((await locations(home.access_token)).sort()).toEqual([
        ['130.149.7.201', 'DE'],
        ['2001:67c:2e8:22::c100:68b', 'NL'],
      ]);
    });

    it('shows no location for a sign-in from this machine or a private network', async () => {
      await registerUser(t.app, 'milo@example.com');
      const local = await signIn(t.app, 'milo@example.com', { ip: '127.0.0.1' });
      await signIn(t.app, 'milo@example.com', { ip: '::1', userAgent: USER_AGENTS.chromeWindows });
      await signIn(t.app, 'milo@example.com', { ip: '::ffff:192.168.1.20', userAgent: USER_AGENTS.safariIphone });
      expect(local.session.location).toBeNull();
      expect((await locations(local.access_token)).sort()).toEqual([
        ['127.0.0.1', null],
        ['192.168.1.20', null],
        ['::1', null],
      ]);
    });

    it('is not taken from an X-Forwarded-For header that no trusted proxy set', async () => {
      await registerUser(t.app, 'nina@example.com');
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'nina@example.com', password: PASSWORD },
        headers: { 'x-forwarded-for': '8.8.8.8' },
        remoteAddress: '127.0.0.1',
      });
      expect(response.json().session).toMatchObject({ ip: '127.0.0.1', location: null });
    });

    it('is the forwarded client’s behind a trusted proxy', async () => {
      const proxied = await startTestGatehouse(kind, { trustProxy: ['127.0.0.1'] });
      try {
        await registerUser(proxied.app, 'olga@example.com');
        const response = await proxied.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload: { email: 'olga@example.com', password: PASSWORD },
          headers: { 'x-forwarded-for': '133.11.0.1' },
          remoteAddress: '127.0.0.1',
        });
        expect(response.json().session).toMatchObject({ ip: '133.11.0.1', location: 'JP' });
      } finally {
        await proxied.close();
      }
    });

    it('is null for everyone when GATEHOUSE_GEOIP_DATABASE=off', async () => {
      const off = await startTestGatehouse(kind, { geoipDatabase: { kind: 'off' } });
      try {
        await registerUser(off.app, 'pia@example.com');
        const session = await signIn(off.app, 'pia@example.com', { ip: '8.8.8.8' });
        expect(session.session.location).toBeNull();
        const { sessions } = (await off.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(session.access_token) })).json();
        expect(sessions).toMatchObject([{ ip: '8.8.8.8', location: null }]);
      } finally {
        await off.close();
      }
    });
  });

  describe('a new sign-in from the same device and address', () => {
    it('replaces that device’s older session, which stops working at once', async () => {
      await registerUser(t.app, 'erin@example.com');
      const first = await signIn(t.app, 'erin@example.com', { userAgent: USER_AGENTS.chromeWindows, ip: '198.51.100.9' });
      const second = await signIn(t.app, 'erin@example.com', { userAgent: USER_AGENTS.chromeWindows, ip: '198.51.100.9' });
      const other = await signIn(t.app, 'erin@example.com', { userAgent: USER_AGENTS.chromeWindows, ip: '198.51.100.10' });
      const ids = (await list(second.access_token)).json().sessions.map((s: { id: string }) => s.id);
      expect(ids.sort()).toEqual([second.session.id, other.session.id].sort());
      expectProblem(await me(first.access_token), 401, 'session_revoked');
      const row = await t.gatehouse.store.findSession(first.session.id);
      expect(row).toMatchObject({ revokedReason: 'replaced', revokedBy: first.user.id });
    });

    it('keeps both sessions when the policy is turned off', async () => {
      const off = await startTestGatehouse(kind, { replaceSameDeviceSessions: false });
      try {
        await registerUser(off.app, 'frank@example.com');
        const first = await signIn(off.app, 'frank@example.com');
        const second = await signIn(off.app, 'frank@example.com');
        const { sessions } = (await off.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(second.access_token) })).json();
        expect(sessions).toHaveLength(2);
        expect((await off.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(first.access_token) })).statusCode).toBe(200);
      } finally {
        await off.close();
      }
    });
  });

  describe('DELETE /v1/me/sessions/{id}', () => {
    it('signs out another device of mine: 204, and its unexpired token is refused on the next request', async () => {
      await registerUser(t.app, 'gina@example.com');
      const laptop = await signIn(t.app, 'gina@example.com', { ip: '198.51.100.11' });
      const phone = await signIn(t.app, 'gina@example.com', { userAgent: USER_AGENTS.safariIphone, ip: '198.51.100.12' });
      const response = await t.app.inject({ method: 'DELETE', url: `/v1/me/sessions/${phone.session.id}`, headers: bearer(laptop.access_token) });
      expect(response.statusCode).toBe(204);
      expectProblem(await me(phone.access_token), 401, 'session_revoked');
      expect((await me(laptop.access_token)).statusCode).toBe(200);
      expect(await t.gatehouse.store.findSession(phone.session.id)).toMatchObject({ revokedReason: 'remote_logout', revokedBy: laptop.user.id });
    });

    it('answers an unknown id and another user’s session alike with 404, and that session stays alive', async () => {
      await registerUser(t.app, 'hank@example.com');
      await registerUser(t.app, 'ivy@example.com');
      const hank = await signIn(t.app, 'hank@example.com');
      const ivy = await signIn(t.app, 'ivy@example.com');
      const foreign = await t.app.inject({ method: 'DELETE', url: `/v1/me/sessions/${ivy.session.id}`, headers: bearer(hank.access_token) });
      const unknown = await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions/AAAAAAAAAAAAAAAAAAAAAA', headers: bearer(hank.access_token) });
      expectProblem(foreign, 404, 'not_found');
      expect(foreign.body).toBe(unknown.body);
      expect((await me(ivy.access_token)).statusCode).toBe(200);
    });

    it('signing out the current session by id works like logout', async () => {
      const hank = await signIn(t.app, 'hank@example.com', { ip: '198.51.100.13' });
      const response = await t.app.inject({ method: 'DELETE', url: `/v1/me/sessions/${hank.session.id}`, headers: bearer(hank.access_token) });
      expect(response.statusCode).toBe(204);
      expectProblem(await me(hank.access_token), 401, 'session_revoked');
    });
  });

  describe('DELETE /v1/me/sessions?scope=…', () => {
    it('scope=others signs out every other session and keeps mine', async () => {
      await registerUser(t.app, 'jane@example.com');
      const a = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.21' });
      const b = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.22' });
      const c = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.23' });
      const response = await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=others', headers: bearer(c.access_token) });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.json()).toEqual({ revoked: 2 });
      expectProblem(await me(a.access_token), 401, 'session_revoked');
      expectProblem(await me(b.access_token), 401, 'session_revoked');
      const { sessions } = (await list(c.access_token)).json();
      expect(sessions.map((s: { id: string }) => s.id)).toEqual([c.session.id]);
      expect(await t.gatehouse.store.findSession(a.session.id)).toMatchObject({ revokedReason: 'logout_others' });
    });

    it('scope=all signs out every session including mine', async () => {
      const a = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.24' });
      const b = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.25' });
      const response = await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=all', headers: bearer(b.access_token) });
      expect(response.json()).toEqual({ revoked: 3 }); // a, b and c from the test before
      expectProblem(await me(a.access_token), 401, 'session_revoked');
      expectProblem(await me(b.access_token), 401, 'session_revoked');
    });

    it('counts a sign-in exactly at the edge of the reauthentication window as fresh', async () => {
      const s = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.26' });
      t.clock.advance(600);
      const response = await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=others', headers: bearer(s.access_token) });
      expect(response.statusCode).toBe(200);
    });

    it('past the window answers 403 reauth_required and signs nobody out', async () => {
      const other = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.28' });
      const mine = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.29' });
      t.clock.advance(601);
      const stale = await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=all', headers: bearer(mine.access_token) });
      expectProblem(stale, 403, 'reauth_required');
      expect(stale.headers['www-authenticate']).toBeUndefined();
      expect((await t.gatehouse.store.findSession(other.session.id))?.revokedAt).toBeNull();
      expect((await t.gatehouse.store.findSession(mine.session.id))?.revokedAt).toBeNull();
    });

    it('says which scopes there are', async () => {
      const s = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.31' });
      const response = await t.app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=everyone', headers: bearer(s.access_token) });
      expect(response.json().errors).toEqual([{ pointer: '/querystring/scope', detail: 'must be one of "others", "all"' }]);
    });

    it.each(['', '?scope=everyone', '?scope=others&scope=all'])('refuses %j with validation_failed', async (query) => {
      const s = await signIn(t.app, 'jane@example.com', { ip: '198.51.100.30' });
      expectProblem(await t.app.inject({ method: 'DELETE', url: `/v1/me/sessions${query}`, headers: bearer(s.access_token) }), 400, 'validation_failed');
    });
  });
});
