import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../src/core/activity.js';
import { recordSessionExpiries } from '../../../src/service/housekeeping.js';
import { bearer, expectProblem, PASSWORD, signIn, startTestGatehouse, USER_AGENTS, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';

interface EventJson {
  id: string;
  type: string;
  at: string;
  session_id: string | null;
  current: boolean;
  ip: string | null;
  location: string | null;
  user_agent: string | null;
  device: { browser: string | null; os: string | null; type: string; label: string } | null;
  actor: string | null;
  detail: Record<string, unknown>;
}

const HOME = { userAgent: USER_AGENTS.firefoxUbuntu, ip: '130.149.7.201' }; // Germany

describe.each(HTTP_DATABASES)('GET /v1/me/activity on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { maxSessions: 3 }, { hasher: instantHasher() });
  });
  afterAll(() => t.close());

  let n = 0;
  /** A new account, registered from HOME. */
  async function newAccount(): Promise<string> {
    const email = `activity-${++n}@example.com`;
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email, password: PASSWORD },
      headers: { 'user-agent': HOME.userAgent },
      remoteAddress: HOME.ip,
    });
    expect(response.statusCode, response.body).toBe(201);
    return email;
  }

  const activity = (token: string, query = '') => t.app.inject({ method: 'GET', url: `/v1/me/activity${query}`, headers: bearer(token) });
  async function events(token: string, query = ''): Promise<EventJson[]> {
    const response = await activity(token, query);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().events;
  }
  const types = async (token: string, query = '') => (await events(token, query)).map((e) => e.type);
  const post = (url: string, token: string | undefined, payload?: object, userAgent = HOME.userAgent): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...(token ? bearer(token) : {}), 'user-agent': userAgent },
      remoteAddress: HOME.ip,
      ...(payload ? { payload } : {}),
    });
  const failSignIn = (email: string) => post('/v1/auth/login', undefined, { email, password: 'not the password at all' });

  describe('each entry', () => {
    it('says what happened, when, from which device and country, in which session', async () => {
      const email = await newAccount();
      t.clock.advance(60);
      const session = await signIn(t.app, email, HOME);
      const [signedIn, created] = await events(session.access_token);
      expect(signedIn).toEqual({
        id: expect.any(String),
        type: 'signed_in',
        at: '2026-11-27T09:01:00.000Z',
        session_id: session.session.id,
        current: true,
        ip: HOME.ip,
        location: 'DE',
        user_agent: HOME.userAgent,
        device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
        actor: session.user.id,
        detail: { new_device: false },
      });
      expect(created).toMatchObject({ type: 'account_created', at: '2026-11-27T09:00:00.000Z', session_id: null, current: false, location: 'DE' });
      t.clock.set(Date.parse('2026-11-27T09:00:00Z'));
    });

    it('is only ever the caller’s own', async () => {
      const mine = await newAccount();
      const theirs = await newAccount();
      const me = await signIn(t.app, mine, HOME);
      const them = await signIn(t.app, theirs, HOME);
      await failSignIn(theirs);
      const seen = await events(me.access_token);
      expect(seen.map((e) => e.session_id)).not.toContain(them.session.id);
      expect(seen.every((e) => e.type !== 'sign_in_failed')).toBe(true);
    });

    it('never carries a password, a token or a hash', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      await failSignIn(email);
      await post('/v1/me/password', session.access_token, { current_password: PASSWORD, new_password: 'an entirely new passphrase' });
      const body = (await activity(session.access_token)).body;
      for (const secret of [PASSWORD, 'not the password at all', 'an entirely new passphrase', session.refresh_token, session.access_token]) {
        expect(body).not.toContain(secret);
      }
      expect(body).not.toMatch(/"[a-z_]*(password|hash|token|secret)":/i);
    });
  });

  describe('records', () => {
    it('sign-ins, failed sign-ins (with their reason) and sign-outs', async () => {
      const email = await newAccount();
      await failSignIn(email);
      const session = await signIn(t.app, email, HOME);
      const other = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows, ip: '198.51.100.9' });
      await post('/v1/auth/logout', other.access_token);
      const seen = await events(session.access_token);
      expect(seen.map((e) => e.type)).toEqual(['signed_out', 'signed_in', 'signed_in', 'sign_in_failed', 'account_created']);
      expect(seen[0]).toMatchObject({ session_id: other.session.id, ip: HOME.ip }); // the client that asked
      expect(seen[3]).toMatchObject({ session_id: null, detail: { reason: 'wrong_password' }, ip: HOME.ip });
    });

    it('a sign-out with the refresh token, and one through OAuth token revocation', async () => {
      const email = await newAccount();
      const keep = await signIn(t.app, email, HOME);
      const a = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows });
      const b = await signIn(t.app, email, { userAgent: USER_AGENTS.safariIphone });
      expect((await post('/v1/auth/logout', undefined, { refresh_token: a.refresh_token })).statusCode).toBe(204);
      expect((await post('/v1/oauth/revoke', undefined, { token: b.access_token })).statusCode).toBe(200);
      const seen = await events(keep.access_token, '?type=signed_out');
      expect(seen.map((e) => e.session_id)).toEqual([b.session.id, a.session.id]);
    });

    it('reauthentication and a failed one, password changes and failed ones', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      const other = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows });
      expect((await post('/v1/auth/reauth', session.access_token, { password: 'wrong password here' })).statusCode).toBe(401);
      expect((await post('/v1/auth/reauth', session.access_token, { password: PASSWORD })).statusCode).toBe(204);
      const change = (current: string) =>
        post('/v1/me/password', session.access_token, { current_password: current, new_password: 'a brand new long passphrase' });
      expect((await change('wrong password here')).statusCode).toBe(401);
      expect((await change(PASSWORD)).statusCode).toBe(204);
      const seen = await events(session.access_token, '?type=reauthenticated,reauth_failed,password_changed,password_change_failed');
      expect(seen.map((e) => [e.type, e.detail])).toEqual([
        ['password_changed', { session_ids: [other.session.id] }],
        ['password_change_failed', { reason: 'wrong_password' }],
        ['reauthenticated', {}],
        ['reauth_failed', { reason: 'wrong_password' }],
      ]);
      expect(seen.every((e) => e.session_id === session.session.id)).toBe(true);
    });

    it('signing out another device, all others, and everywhere', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      const phone = await signIn(t.app, email, { userAgent: USER_AGENTS.safariIphone });
      const laptop = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows });
      const del = (url: string, token: string) => t.app.inject({ method: 'DELETE', url, headers: bearer(token), remoteAddress: HOME.ip });
      expect((await del(`/v1/me/sessions/${phone.session.id}`, session.access_token)).statusCode).toBe(204);
      expect((await del('/v1/me/sessions?scope=others', session.access_token)).json()).toEqual({ revoked: 1 });
      // Nothing left to sign out: no event for nothing.
      expect((await del('/v1/me/sessions?scope=others', session.access_token)).json()).toEqual({ revoked: 0 });
      const again = await signIn(t.app, email, { userAgent: USER_AGENTS.safariIphone });
      expect((await del('/v1/me/sessions?scope=all', session.access_token)).json()).toEqual({ revoked: 2 });
      const seen = await events((await signIn(t.app, email, HOME)).access_token, '?type=session_revoked,other_sessions_revoked,all_sessions_revoked');
      expect(seen.map((e) => [e.type, e.detail.session_ids])).toEqual([
        ['all_sessions_revoked', expect.arrayContaining([session.session.id, again.session.id])],
        ['other_sessions_revoked', [laptop.session.id]],
        ['session_revoked', [phone.session.id]],
      ]);
    });

    it('sessions ended by the session limit', async () => {
      const email = await newAccount();
      const first = await signIn(t.app, email, { userAgent: USER_AGENTS.safariIphone });
      t.clock.advance(1);
      await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows });
      t.clock.advance(1);
      await signIn(t.app, email, { userAgent: 'curl/8.5.0' });
      t.clock.advance(1);
      const fourth = await signIn(t.app, email, HOME);
      const [evicted] = await events(fourth.access_token, '?type=sessions_evicted');
      expect(evicted).toMatchObject({ session_id: fourth.session.id, detail: { session_ids: [first.session.id] } });
    });

    it('refresh-token reuse, naming the client that presented the spent token', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      const watcher = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows });
      expect((await post('/v1/auth/refresh', undefined, { refresh_token: session.refresh_token })).statusCode).toBe(200);
      t.clock.advance(60);
      const thief = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refresh_token: session.refresh_token },
        headers: { 'user-agent': 'curl/8.5.0' },
        remoteAddress: '198.51.100.66',
      });
      expectProblem(thief, 401, 'refresh_token_reused');
      const [reused] = await events(watcher.access_token, '?type=refresh_token_reused');
      expect(reused).toMatchObject({ session_id: session.session.id, actor: 'system', ip: '198.51.100.66', device: { label: 'curl 8.5.0' } });
    });

    it('a lockout, once, when the failures reach the limit', async () => {
      const email = await newAccount();
      for (let i = 0; i < 12; i++) await failSignIn(email); // 10 failures, then refusals
      const session = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD } });
      expectProblem(session, 429, 'rate_limited');
      t.clock.advance(31);
      const signedIn = await signIn(t.app, email, HOME);
      const seen = await events(signedIn.access_token, '?type=account_locked,sign_in_failed');
      expect(seen.filter((e) => e.type === 'sign_in_failed')).toHaveLength(10);
      const locks = seen.filter((e) => e.type === 'account_locked');
      expect(locks).toHaveLength(1);
      expect(locks[0]).toMatchObject({ actor: 'system', detail: { locked_until: expect.stringMatching(/Z$/) } });
      expect(Date.parse(locks[0]!.detail.locked_until as string) - Date.parse(locks[0]!.at)).toBe(30_000);
    });

    it('a session running out, dated when it ran out', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      const start = t.clock.now();
      t.clock.advance(t.config.sessionIdleTtlSeconds + 3600);
      expect(await recordSessionExpiries(t.gatehouse.ctx)).toBeGreaterThanOrEqual(1);
      expect(await recordSessionExpiries(t.gatehouse.ctx)).toBe(0); // once
      const fresh = await signIn(t.app, email, HOME);
      const [expired] = await events(fresh.access_token, '?type=session_expired');
      expect(expired).toMatchObject({ session_id: session.session.id, actor: 'system', device: null, ip: null, detail: { reason: 'idle' } });
      expect(Date.parse(expired!.at)).toBe(start + t.config.sessionIdleTtlSeconds * 1000);
    });
  });

  describe('new devices', () => {
    it('flags a sign-in from a browser, OS, type or country the account has not used, once', async () => {
      const email = await newAccount();
      const newDevice = async (options: { userAgent: string; ip: string }) => {
        const session = await signIn(t.app, email, options);
        const [signedIn] = await events(session.access_token, '?type=signed_in');
        return signedIn!.detail.new_device;
      };
      expect(await newDevice(HOME)).toBe(false); // where the account was registered
      expect(await newDevice({ ...HOME, ip: '130.149.7.9' })).toBe(false); // another address, same country
      expect(await newDevice({ ...HOME, userAgent: HOME.userAgent.replace(/121\.0/g, '122.0') })).toBe(false); // a browser update
      expect(await newDevice({ userAgent: USER_AGENTS.chromeWindows, ip: HOME.ip })).toBe(true);
      expect(await newDevice({ userAgent: USER_AGENTS.chromeWindows, ip: HOME.ip })).toBe(false);
      expect(await newDevice({ ...HOME, ip: '2001:67c:2e8:22::c100:68b' })).toBe(true); // the Netherlands
      expect(await newDevice({ ...HOME, ip: '2001:67c:2e8:22::c100:68b' })).toBe(false);
    });

    it('flags exactly one of several parallel first sign-ins from one new device', async () => {
      const email = await newAccount();
      await Promise.all(Array.from({ length: 8 }, () => signIn(t.app, email, { userAgent: USER_AGENTS.safariIphone, ip: HOME.ip })));
      const reader = await signIn(t.app, email, HOME);
      const seen = (await events(reader.access_token, '?type=signed_in&limit=100')).filter((e) => e.session_id !== reader.session.id);
      expect(seen).toHaveLength(8);
      expect(seen.filter((e) => e.detail.new_device === true)).toHaveLength(1);
    });
  });

  describe('pages', () => {
    it('go newest first, without repeats or gaps, and the last one says it is the last', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      // Several events in the same millisecond: the order between them must still be stable.
      for (let i = 0; i < 22; i++) {
        if (i % 3 === 0) t.clock.advance(1);
        await failSignIn(email);
        if (i === 8 || i === 17) await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows }); // keeps the failures below the lock
      }
      const all = await events(session.access_token, '?limit=100');
      expect(all).toHaveLength(26);
      expect([...all].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).map((e) => e.at)).toEqual(all.map((e) => e.at));

      const pages: EventJson[][] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const response = await activity(session.access_token, `?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.statusCode).toBe(200);
        pages.push(response.json().events);
        cursor = response.json().next_cursor;
      }
      expect(pages.map((p) => p.length)).toEqual([10, 10, 6]);
      expect(pages.flat().map((e) => e.id)).toEqual(all.map((e) => e.id));
    });

    it('end without an empty page when the history fills the last one exactly', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME); // account_created + signed_in
      const first = (await activity(session.access_token, '?limit=1')).json();
      const second = (await activity(session.access_token, `?limit=1&cursor=${first.next_cursor}`)).json();
      expect(first.next_cursor).toEqual(expect.any(String));
      expect(second).toMatchObject({ events: [{ type: 'account_created' }], next_cursor: null });
      expect((await activity(session.access_token, '?limit=2')).json().next_cursor).toBeNull();
    });

    it('hold 20 entries unless asked for another number from 1 to 100', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      for (let i = 0; i < 9; i++) await failSignIn(email);
      for (let i = 0; i < 12; i++) await post('/v1/auth/reauth', session.access_token, { password: PASSWORD });
      expect(await events(session.access_token)).toHaveLength(20);
      for (const limit of ['0', '101', '-1', '1.5', 'ten', '1e1', '0x10', '', '007']) {
        expectProblem(await activity(session.access_token, `?limit=${limit}`), 400, 'validation_failed');
      }
    });

    it('filter by one or several types, and refuse a type that does not exist', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      await failSignIn(email);
      expect(await types(session.access_token, '?type=sign_in_failed')).toEqual(['sign_in_failed']);
      expect(await types(session.access_token, '?type=account_created,signed_in')).toEqual(['signed_in', 'account_created']);
      const refused = await activity(session.access_token, '?type=signed_in,password');
      expectProblem(refused, 400, 'validation_failed');
      expect(refused.json().errors).toEqual([{ pointer: '/query/type', detail: expect.stringContaining(EVENT_TYPES.join(', ')) }]);
    });

    it('refuse a cursor that was not handed out', async () => {
      const email = await newAccount();
      const session = await signIn(t.app, email, HOME);
      for (const cursor of ['nonsense', 'bm90IGEgY3Vyc29y', Buffer.from('12.').toString('base64url'), '%00', 'a'.repeat(300)]) {
        const response = await activity(session.access_token, `?cursor=${cursor}`);
        expectProblem(response, 400, 'validation_failed');
      }
    });

    it('need a valid access token', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me/activity' }), 401, 'token_missing');
      expectProblem(await activity('not-a-token'), 401, 'token_invalid');
    });
  });
});
