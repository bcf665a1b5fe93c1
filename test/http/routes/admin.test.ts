import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Role } from '../../../src/core/records.js';
import type { KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import {
  bearer,
  expectProblem,
  loginAttempt,
  PASSWORD,
  registerUser,
  type SignedIn,
  signIn,
  startTestGatehouse,
  type TestGatehouse,
  USER_AGENTS,
} from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { linkIn, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../helpers/smtp.js';

const WEBHOOKS = { webhookUrl: 'http://127.0.0.1:9/hooks', webhookSecret: 'a-webhook-secret-of-at-least-32-characters' };

describe.each(HTTP_DATABASES)('the admin API on %s', (kind) => {
  let t: TestGatehouse;
  let admin: SignedIn;
  let adminId: string;
  beforeAll(async () => {
    // Real argon2: the hashes that must never show are real ones. Webhooks on: admin actions notify.
    t = await startTestGatehouse(kind, WEBHOOKS);
    adminId = (await registerUser(t.app, 'root@example.com')).id;
    await setRole(adminId, 'admin');
    admin = await signIn(t.app, 'root@example.com');
  });
  afterAll(() => t.close());

  let n = 0;
  /** A new ordinary account, signed in once; `email` defaults to a fresh one. */
  async function anAccount(email = `person-${++n}@example.com`): Promise<{ id: string; email: string; session: SignedIn }> {
    const { id } = await registerUser(t.app, email);
    return { id, email, session: await signIn(t.app, email) };
  }

  const setRole = (userId: string, role: Role) => t.gatehouse.store.setUserRole({ userId, role, at: t.clock.now(), events: () => [] });
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token = admin.access_token, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as object }) });
  const json = (response: LightMyRequestResponse, status = 200) => {
    expect(response.statusCode, response.body).toBe(status);
    return response.json();
  };
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: token } });
  const login = (email: string, password: string) => loginAttempt(t.app, email, password);
  const history = async (userId: string, query = '') => json(await call('GET', `/v1/admin/users/${userId}/activity${query}`)).events;
  /** The sessions_revoked notifications written for a user's events (the outbox rows), oldest first. */
  const outbox = async (userId: string) =>
    (t.gatehouse.store as KyselyStore).db
      .selectFrom('webhook_deliveries')
      .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
      .select(['webhook_deliveries.type as notify', 'events.type as event'])
      .where('events.user_id', '=', userId)
      .where('webhook_deliveries.type', '=', 'sessions_revoked')
      .orderBy('events.at')
      .execute();
  /** The messages queued for a user (the mail outbox), whatever became of them. */
  const mailOf = async (userId: string) =>
    (t.gatehouse.store as KyselyStore).db.selectFrom('mail_outbox').select('kind').where('user_id', '=', userId).where('kind', '=', 'password_reset').execute();

  /** Every admin route, for an account and a session of it. */
  const routes = (userId: string, sessionId: string): Array<[method: 'GET' | 'POST' | 'DELETE', url: string]> => [
    ['GET', '/v1/admin/users?email=a'],
    ['GET', `/v1/admin/users/${userId}`],
    ['GET', `/v1/admin/users/${userId}/sessions`],
    ['GET', `/v1/admin/users/${userId}/activity`],
    ['DELETE', `/v1/admin/users/${userId}/sessions/${sessionId}`],
    ['DELETE', `/v1/admin/users/${userId}/sessions`],
    ['POST', `/v1/admin/users/${userId}/disable`],
    ['POST', `/v1/admin/users/${userId}/enable`],
    ['POST', `/v1/admin/users/${userId}/password-reset`],
  ];

  describe('who may use it', () => {
    it('refuses every admin route to a signed-in user who is not an administrator, with 403 forbidden, changing nothing', async () => {
      const caller = await anAccount();
      const target = await anAccount();
      for (const [method, url] of routes(target.id, target.session.session.id)) {
        expectProblem(await call(method, url, caller.session.access_token), 403, 'forbidden');
      }
      expect((await me(target.session.access_token)).statusCode).toBe(200);
      expect(await t.gatehouse.store.findUserById(target.id)).toMatchObject({ disabledAt: null });
    });

    it('refuses a non-administrator before reading the request: bad input gets 403 too, not 400', async () => {
      const caller = await anAccount();
      expectProblem(await call('GET', '/v1/admin/users?limit=1000', caller.session.access_token), 403, 'forbidden');
      expectProblem(await call('GET', '/v1/admin/users/not%20an%20id', caller.session.access_token), 403, 'forbidden');
      expectProblem(await call('POST', `/v1/admin/users/${caller.id}/disable`, caller.session.access_token, { why: 'x' }), 403, 'forbidden');
    });

    it('answers 401 without a token, or with one that is not valid, as every Bearer route does', async () => {
      const target = await anAccount();
      for (const [method, url] of routes(target.id, target.session.session.id)) {
        const missing = await t.app.inject({ method, url });
        expectProblem(missing, 401, 'token_missing');
        expect(missing.headers['www-authenticate']).toBe('Bearer');
        const invalid = await t.app.inject({ method, url, headers: bearer('not.a.token') });
        expectProblem(invalid, 401, 'token_invalid');
      }
    });

    it('reads the role at every request: an administrator who is demoted is refused at the next one, with the same token', async () => {
      const deputy = await anAccount();
      await setRole(deputy.id, 'admin');
      expect((await call('GET', `/v1/admin/users/${adminId}`, deputy.session.access_token)).statusCode).toBe(200);
      await setRole(deputy.id, 'user');
      expectProblem(await call('GET', `/v1/admin/users/${adminId}`, deputy.session.access_token), 403, 'forbidden');
      // Still signed in as a user: demotion ends the administration, not the sessions.
      expect((await me(deputy.session.access_token)).statusCode).toBe(200);
    });
  });

  describe('GET /v1/admin/users', () => {
    let ids: Record<string, string>;
    beforeAll(async () => {
      ids = {};
      for (const email of ['Zoe@Zeta.example', 'zoe.b@zeta.example', 'zoey@zeta.example', 'zed@zeta.example'])
        ids[email] = (await registerUser(t.app, email)).id;
    });
    const find = async (query: string) => json(await call('GET', `/v1/admin/users${query}`));
    const emails = (page: { users: Array<{ email: string }> }) => page.users.map((u) => u.email);

    it('finds accounts by the start of their email, in any case, in email order', async () => {
      expect(emails(await find('?email=ZOE'))).toEqual(['zoe.b@zeta.example', 'Zoe@Zeta.example', 'zoey@zeta.example']);
      expect(emails(await find('?email=%20zoe@zeta.EXAMPLE'))).toEqual(['Zoe@Zeta.example']);
      expect(emails(await find('?email=nobody'))).toEqual([]);
    });

    it('shows each account with its role and state, and no password', async () => {
      const page = await find('?email=zed@');
      expect(page).toEqual({
        users: [
          {
            id: ids['zed@zeta.example'],
            email: 'zed@zeta.example',
            name: null,
            role: 'user',
            email_verified: false,
            disabled_at: null,
            created_at: '2026-11-27T09:00:00.000Z',
            updated_at: '2026-11-27T09:00:00.000Z',
            password_changed_at: '2026-11-27T09:00:00.000Z',
          },
        ],
        next_cursor: null,
      });
    });

    it('pages with next_cursor, with no repeats or gaps, and says when the last page is reached', async () => {
      const first = await find('?email=z&limit=3');
      expect(emails(first)).toEqual(['zed@zeta.example', 'zoe.b@zeta.example', 'Zoe@Zeta.example']);
      expect(first.next_cursor).toEqual(expect.any(String));
      const second = await find(`?email=z&limit=3&cursor=${first.next_cursor}`);
      expect(emails(second)).toEqual(['zoey@zeta.example']);
      expect(second.next_cursor).toBeNull();
      const exact = await find('?email=zoe&limit=3');
      expect(exact.next_cursor).toBeNull();
    });

    it('lists every account without an email, 20 at a time', async () => {
      const page = await find('');
      expect(page.users.length).toBeGreaterThanOrEqual(5);
      expect(page.users.length).toBeLessThanOrEqual(20);
      expect(emails(page)).toContain('root@example.com');
    });

    it.each(['?limit=0', '?limit=101', '?limit=1.5', '?limit=0x10', '?cursor=%25%25', '?cursor=AAAA', '?email=', '?email=a%00b', '?sort=email'])(
      'refuses %s with 400 validation_failed',
      async (query) => {
        expectProblem(await call('GET', `/v1/admin/users${query}`), 400, 'validation_failed');
      },
    );
  });

  describe('GET /v1/admin/users/{id}', () => {
    it('shows the account; 404 not_found for an id no account has', async () => {
      const target = await anAccount();
      expect(json(await call('GET', `/v1/admin/users/${target.id}`)).user).toMatchObject({
        id: target.id,
        email: target.email,
        role: 'user',
        disabled_at: null,
      });
      expectProblem(await call('GET', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
      expectProblem(await call('GET', '/v1/admin/users/bad.id'), 400, 'validation_failed');
    });
  });

  describe('password hashes', () => {
    it('never appear in any answer of any admin route, nor any field named password', async () => {
      const target = await anAccount();
      const hash = (await t.gatehouse.store.findUserById(target.id))!.passwordHash;
      const adminHash = (await t.gatehouse.store.findUserById(adminId))!.passwordHash;
      // The test hasher's stored form (hashers.ts), standing in for an argon2id hash.
      expect(hash).toMatch(/^test-only:/);
      const fields = (value: unknown): string[] =>
        value && typeof value === 'object' ? Object.entries(value).flatMap(([key, inner]) => [key, ...fields(inner)]) : [];
      const answers = [await call('GET', `/v1/admin/users?email=${target.email}`), await call('GET', `/v1/admin/users/${adminId}`)];
      for (const [method, url] of routes(target.id, target.session.session.id)) answers.push(await call(method, url));
      for (const answer of answers) {
        expect(answer.statusCode, answer.body).toBeLessThan(300);
        expect(answer.body).not.toContain(hash);
        expect(answer.body).not.toContain(adminHash);
        expect(answer.body).not.toContain('test-only:');
        expect(answer.body).not.toContain('$argon2');
        if (answer.body !== '') expect(fields(answer.json()).filter((key) => /^password(_hash)?$|hash/i.test(key))).toEqual([]);
      }
    });
  });

  describe('sessions and history of an account', () => {
    it('lists the account’s active sessions in the shape of /v1/me/sessions, with no token in them', async () => {
      const target = await anAccount();
      const phone = await signIn(t.app, target.email, { userAgent: USER_AGENTS.safariIphone, ip: '198.51.100.9' });
      const { sessions } = json(await call('GET', `/v1/admin/users/${target.id}/sessions`));
      expect(sessions.map((s: { id: string }) => s.id).sort()).toEqual([target.session.session.id, phone.session.id].sort());
      expect(sessions.every((s: { current: boolean }) => s.current === false)).toBe(true);
      expect(sessions.find((s: { id: string }) => s.id === phone.session.id)).toMatchObject({
        ip: '198.51.100.9',
        device: { label: 'Mobile Safari 17 on iOS 17' },
      });
      const body = JSON.stringify(sessions);
      expect(body).not.toContain(phone.refresh_token.split('.')[1]);
      expect(body).not.toContain(phone.access_token);
    });

    it('marks as current only the administrator’s own session, in their own list', async () => {
      const { sessions } = json(await call('GET', `/v1/admin/users/${adminId}/sessions`));
      expect(sessions.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id)).toEqual([admin.session.id]);
    });

    it('shows the account’s history as the owner sees it, with paging and the type filter', async () => {
      const target = await anAccount();
      const own = json(await t.app.inject({ method: 'GET', url: '/v1/me/activity', headers: bearer(target.session.access_token) })).events;
      const seen = await history(target.id);
      expect(seen.map((e: { id: string }) => e.id)).toEqual(own.map((e: { id: string }) => e.id));
      expect(seen.map((e: { type: string }) => e.type)).toEqual(['signed_in', 'account_created']);
      expect(seen.every((e: { current: boolean }) => !e.current)).toBe(true);
      const page = json(await call('GET', `/v1/admin/users/${target.id}/activity?limit=1`));
      expect(page.events.map((e: { type: string }) => e.type)).toEqual(['signed_in']);
      expect((await history(target.id, `?cursor=${page.next_cursor}`)).map((e: { type: string }) => e.type)).toEqual(['account_created']);
      expect((await history(target.id, '?type=account_created')).map((e: { type: string }) => e.type)).toEqual(['account_created']);
      expectProblem(await call('GET', `/v1/admin/users/${target.id}/activity?type=nonsense`), 400, 'validation_failed');
      expectProblem(await call('GET', `/v1/admin/users/${target.id}/activity?limit=0`), 400, 'validation_failed');
    });

    it('answers 404 for the sessions or history of an id no account has', async () => {
      expectProblem(await call('GET', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA/sessions'), 404, 'not_found');
      expectProblem(await call('GET', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA/activity'), 404, 'not_found');
    });
  });

  describe('DELETE /v1/admin/users/{id}/sessions/{session_id}', () => {
    it('signs that session out at once, tokens and refresh alike, and leaves the others', async () => {
      const target = await anAccount();
      const other = await signIn(t.app, target.email, { userAgent: USER_AGENTS.safariIphone });
      const response = await call('DELETE', `/v1/admin/users/${target.id}/sessions/${target.session.session.id}`);
      expect(response.statusCode, response.body).toBe(204);
      expectProblem(await me(target.session.access_token), 401, 'session_revoked');
      expectProblem(await refresh(target.session.refresh_token), 401, 'session_revoked');
      expect((await me(other.access_token)).statusCode).toBe(200);
      expect(await t.gatehouse.store.findSession(target.session.session.id)).toMatchObject({ revokedReason: 'admin', revokedBy: adminId });
    });

    it('is in the account’s history as signed out by an administrator, who is the actor, without the administrator’s address', async () => {
      const target = await anAccount();
      await call('DELETE', `/v1/admin/users/${target.id}/sessions/${target.session.session.id}`);
      const [latest] = await history(target.id);
      expect(latest).toMatchObject({
        type: 'signed_out_by_admin',
        actor: adminId,
        session_id: null,
        ip: null,
        device: null,
        location: null,
        detail: { session_ids: [target.session.session.id] },
      });
      expect(await outbox(target.id)).toEqual([{ notify: 'sessions_revoked', event: 'signed_out_by_admin' }]);
    });

    it('answers 404 for a session of another account, or one that ended, changing nothing', async () => {
      const target = await anAccount();
      const stranger = await anAccount();
      expectProblem(await call('DELETE', `/v1/admin/users/${target.id}/sessions/${stranger.session.session.id}`), 404, 'not_found');
      expect((await me(stranger.session.access_token)).statusCode).toBe(200);
      await call('DELETE', `/v1/admin/users/${target.id}/sessions/${target.session.session.id}`);
      expectProblem(await call('DELETE', `/v1/admin/users/${target.id}/sessions/${target.session.session.id}`), 404, 'not_found');
      expect((await history(target.id, '?type=signed_out_by_admin')).length).toBe(1);
    });
  });

  describe('DELETE /v1/admin/users/{id}/sessions', () => {
    it('signs every session of the account out and says how many, with one event', async () => {
      const target = await anAccount();
      const second = await signIn(t.app, target.email, { userAgent: USER_AGENTS.safariIphone });
      expect(json(await call('DELETE', `/v1/admin/users/${target.id}/sessions`))).toEqual({ revoked: 2 });
      expectProblem(await me(target.session.access_token), 401, 'session_revoked');
      expectProblem(await me(second.access_token), 401, 'session_revoked');
      const events = await history(target.id, '?type=signed_out_by_admin');
      expect(events).toHaveLength(1);
      expect([...events[0].detail.session_ids].sort()).toEqual([target.session.session.id, second.session.id].sort());
      expect(json(await call('DELETE', `/v1/admin/users/${target.id}/sessions`))).toEqual({ revoked: 0 });
      expect(await history(target.id, '?type=signed_out_by_admin')).toHaveLength(1);
    });

    it('signs the administrator out too when it is their own account', async () => {
      const deputy = await anAccount();
      await setRole(deputy.id, 'admin');
      expect(json(await call('DELETE', `/v1/admin/users/${deputy.id}/sessions`, deputy.session.access_token))).toEqual({ revoked: 1 });
      expectProblem(await me(deputy.session.access_token), 401, 'session_revoked');
    });
  });

  describe('disabling and enabling', () => {
    it('ends every session at once and refuses sign-in with exactly the answer of a wrong password, and refresh', async () => {
      const target = await anAccount();
      const disabled = json(await call('POST', `/v1/admin/users/${target.id}/disable`));
      expect(disabled.user).toMatchObject({ id: target.id, disabled_at: new Date(t.clock.now()).toISOString() });
      expectProblem(await me(target.session.access_token), 401, 'session_revoked');
      expectProblem(await refresh(target.session.refresh_token), 401, 'session_revoked');

      const bystander = await anAccount();
      const refused = await login(target.email, PASSWORD);
      const wrong = await login(bystander.email, 'not the password at all');
      expectProblem(refused, 401, 'invalid_credentials');
      expect(refused.body).toBe(wrong.body);
      const headers = (r: LightMyRequestResponse) => Object.entries(r.headers).filter(([name]) => name !== 'date');
      expect(headers(refused)).toEqual(headers(wrong));
      expectProblem(await login(target.email, 'not the password at all'), 401, 'invalid_credentials');
    });

    it('records account_disabled with the sessions it ended, and notifies', async () => {
      const target = await anAccount();
      await call('POST', `/v1/admin/users/${target.id}/disable`);
      const [latest] = await history(target.id, '?type=account_disabled');
      expect(latest).toMatchObject({ actor: adminId, ip: null, detail: { session_ids: [target.session.session.id] } });
      expect(await outbox(target.id)).toEqual([{ notify: 'sessions_revoked', event: 'account_disabled' }]);
    });

    it('changes nothing when the account is disabled already', async () => {
      const target = await anAccount();
      const first = json(await call('POST', `/v1/admin/users/${target.id}/disable`));
      t.clock.advance(60);
      const again = json(await call('POST', `/v1/admin/users/${target.id}/disable`));
      expect(again.user.disabled_at).toBe(first.user.disabled_at);
      expect(await history(target.id, '?type=account_disabled')).toHaveLength(1);
    });

    it('lets the account sign in again once enabled, while the sessions it ended stay ended', async () => {
      const target = await anAccount();
      await call('POST', `/v1/admin/users/${target.id}/disable`, admin.access_token, {});
      const enabled = json(await call('POST', `/v1/admin/users/${target.id}/enable`));
      expect(enabled.user).toMatchObject({ id: target.id, disabled_at: null });
      expectProblem(await me(target.session.access_token), 401, 'session_revoked');
      expectProblem(await refresh(target.session.refresh_token), 401, 'session_revoked');
      const again = await signIn(t.app, target.email);
      expect((await me(again.access_token)).statusCode).toBe(200);
      const [latest] = await history(target.id, '?type=account_enabled');
      expect(latest).toMatchObject({ actor: adminId, detail: {} });
    });

    it('refuses an administrator disabling their own account (403), changing nothing', async () => {
      expectProblem(await call('POST', `/v1/admin/users/${adminId}/disable`), 403, 'forbidden');
      expect((await me(admin.access_token)).statusCode).toBe(200);
      expect(await t.gatehouse.store.findUserById(adminId)).toMatchObject({ disabledAt: null });
    });

    it('ends the access of an administrator whom another administrator disables', async () => {
      const deputy = await anAccount();
      await setRole(deputy.id, 'admin');
      json(await call('POST', `/v1/admin/users/${deputy.id}/disable`));
      expectProblem(await call('GET', `/v1/admin/users/${adminId}`, deputy.session.access_token), 401, 'session_revoked');
    });

    it('answers 404 for an id no account has, and 400 for a body that is not empty', async () => {
      expectProblem(await call('POST', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA/disable'), 404, 'not_found');
      expectProblem(await call('POST', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA/enable'), 404, 'not_found');
      const target = await anAccount();
      expectProblem(await call('POST', `/v1/admin/users/${target.id}/disable`, admin.access_token, { reason: 'spam' }), 400, 'validation_failed');
      expect((await me(target.session.access_token)).statusCode).toBe(200);
    });
  });

  describe('a recent sign-in for the actions that lock someone out', () => {
    /** An administrator whose sign-in is older than GATEHOUSE_REAUTH_WINDOW, with a token that is still good. */
    async function staleAdmin(): Promise<{ id: string; token: string }> {
      const deputy = await anAccount();
      await setRole(deputy.id, 'admin');
      t.clock.advance(t.config.reauthWindowSeconds + 1);
      const refreshed = json(await refresh(deputy.session.refresh_token));
      // The administrator of the other checks (and tests) signs in afresh.
      admin = await signIn(t.app, 'root@example.com');
      return { id: deputy.id, token: refreshed.access_token };
    }
    const reauth = (token: string) => t.app.inject({ method: 'POST', url: '/v1/auth/reauth', headers: bearer(token), payload: { password: PASSWORD } });

    it('refuses to disable an account, sign out all its sessions or mail it a reset link without one: 403 reauth_required, changing nothing', async () => {
      const deputy = await staleAdmin();
      const target = await anAccount();
      expectProblem(await call('POST', `/v1/admin/users/${target.id}/disable`, deputy.token, {}), 403, 'reauth_required');
      expectProblem(await call('DELETE', `/v1/admin/users/${target.id}/sessions`, deputy.token), 403, 'reauth_required');
      expectProblem(await call('POST', `/v1/admin/users/${target.id}/password-reset`, deputy.token, {}), 403, 'reauth_required');
      expect(await mailOf(target.id)).toEqual([]);
      expect(await history(target.id, '?type=password_reset_requested')).toEqual([]);
      expect((await me(target.session.access_token)).statusCode).toBe(200);
      expect(await t.gatehouse.store.findUserById(target.id)).toMatchObject({ disabledAt: null });
      expect(await history(target.id, '?type=account_disabled')).toEqual([]);
      expect(await history(target.id, '?type=signed_out_by_admin')).toEqual([]);
      expect(await outbox(target.id)).toEqual([]);
    });

    it('does them once the administrator has confirmed the password (POST /v1/auth/reauth)', async () => {
      const deputy = await staleAdmin();
      const target = await anAccount();
      const other = await anAccount();
      expect((await reauth(deputy.token)).statusCode).toBe(204);
      expect(json(await call('POST', `/v1/admin/users/${other.id}/password-reset`, deputy.token, {}), 202).user).toMatchObject({ id: other.id });
      expect(json(await call('DELETE', `/v1/admin/users/${other.id}/sessions`, deputy.token))).toEqual({ revoked: 1 });
      expect(json(await call('POST', `/v1/admin/users/${target.id}/disable`, deputy.token, {})).user).toMatchObject({
        id: target.id,
        disabled_at: expect.any(String),
      });
      expectProblem(await me(target.session.access_token), 401, 'session_revoked');
    });

    it('asks it before looking at the account: an unknown id gets reauth_required too, so nothing is learnt', async () => {
      const deputy = await staleAdmin();
      expectProblem(await call('POST', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA/disable', deputy.token, {}), 403, 'reauth_required');
      expectProblem(await call('DELETE', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA/sessions', deputy.token), 403, 'reauth_required');
      expectProblem(await call('POST', '/v1/admin/users/AAAAAAAAAAAAAAAAAAAAAA/password-reset', deputy.token, {}), 403, 'reauth_required');
    });

    it('is not asked for reading, signing out one session, or enabling', async () => {
      const deputy = await staleAdmin();
      const target = await anAccount();
      const phone = await signIn(t.app, target.email, { userAgent: USER_AGENTS.safariIphone });
      for (const url of [
        `/v1/admin/users?email=${target.email}`,
        `/v1/admin/users/${target.id}`,
        `/v1/admin/users/${target.id}/sessions`,
        `/v1/admin/users/${target.id}/activity`,
      ]) {
        expect((await call('GET', url, deputy.token)).statusCode, url).toBe(200);
      }
      expect((await call('DELETE', `/v1/admin/users/${target.id}/sessions/${phone.session.id}`, deputy.token)).statusCode).toBe(204);
      await t.gatehouse.store.setUserDisabled({ userId: target.id, disabled: true, at: t.clock.now(), by: 'cli', events: () => [] });
      expect(json(await call('POST', `/v1/admin/users/${target.id}/enable`, deputy.token, {})).user).toMatchObject({ disabled_at: null });
    });
  });
});

describe.each(HTTP_DATABASES)('an administrator mailing a password-reset link, on %s', (kind) => {
  const PUBLIC_URL = 'https://auth.example.com';
  const NEW_PASSWORD = 'a passphrase only the owner knows';
  let smtp: TestSmtpServer;
  let t: TestGatehouse;
  let admin: SignedIn;
  let adminId: string;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    // No alerts: what reaches an account here is its verification link and the reset mails.
    t = await startTestGatehouse(kind, { mail: { kind: 'smtp', url: smtp.url, starttls: 'off' }, publicUrl: PUBLIC_URL, mailAlerts: [] });
    adminId = (await registerUser(t.app, 'root@example.com')).id;
    await t.gatehouse.store.setUserRole({ userId: adminId, role: 'admin', at: t.clock.now(), events: () => [] });
    admin = await signIn(t.app, 'root@example.com');
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  let n = 0;
  async function anAccount(): Promise<{ id: string; email: string; session: SignedIn }> {
    const email = `owner-${++n}@example.com`;
    const { id } = await registerUser(t.app, email);
    return { id, email, session: await signIn(t.app, email) };
  }
  const sendReset = (userId: string, token = admin.access_token) =>
    t.app.inject({ method: 'POST', url: `/v1/admin/users/${userId}/password-reset`, headers: bearer(token) });
  const confirm = (token: string) => t.app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, new_password: NEW_PASSWORD } });
  /** The `count`-th reset mail that has reached `email` (the outbox sends in the background). */
  const mailTo = (email: string, count = 1) =>
    vi.waitFor(
      () => {
        const mails = smtp.received.filter((m) => m.to.includes(email) && (m.parsed.text ?? '').includes('/reset-password#token='));
        if (mails.length < count) throw new Error(`${mails.length} of ${count} messages to ${email} so far`);
        return mails[count - 1] as ReceivedMail;
      },
      { timeout: 10_000, interval: 20 },
    );
  const tokenOf = (mail: ReceivedMail) => new URL(linkIn(mail, `${PUBLIC_URL}/reset-password#token=`)).hash.slice('#token='.length);

  it('mails the account a link with which its owner chooses a new password and signs in, changing nothing before', async () => {
    const target = await anAccount();
    const hashBefore = (await t.gatehouse.store.findUserById(target.id))!.passwordHash;
    const answer = await sendReset(target.id);
    expect(answer.statusCode, answer.body).toBe(202);
    expect(answer.json()).toEqual({ user: expect.objectContaining({ id: target.id, email: target.email, disabled_at: null }) });

    const mail = await mailTo(target.email);
    expect(mail.parsed.subject).toBe('Reset your Gatehouse password');
    // Until the owner uses the link, the password and the sessions stay as they were.
    expect((await t.gatehouse.store.findUserById(target.id))!.passwordHash).toBe(hashBefore);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(target.session.access_token) })).statusCode).toBe(200);

    expect((await confirm(tokenOf(mail))).statusCode).toBe(204);
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(target.session.access_token) }), 401, 'session_revoked');
    expectProblem(await loginAttempt(t.app, target.email, PASSWORD), 401, 'invalid_credentials');
    expect((await loginAttempt(t.app, target.email, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('is in the account’s history as password_reset_requested, with the administrator as actor and without their address', async () => {
    const target = await anAccount();
    expect((await sendReset(target.id)).statusCode).toBe(202);
    const activity = await t.app.inject({ method: 'GET', url: '/v1/me/activity?type=password_reset_requested', headers: bearer(target.session.access_token) });
    expect(activity.json().events).toEqual([
      expect.objectContaining({ type: 'password_reset_requested', actor: adminId, ip: null, device: null, detail: { mailed: true, requested_by: 'admin' } }),
    ]);
  });

  it('voids a link the owner asked for before: only the newest one works', async () => {
    const target = await anAccount();
    const asked = await t.app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: target.email } });
    expect(asked.statusCode).toBe(202);
    const own = tokenOf(await mailTo(target.email));
    expect((await sendReset(target.id)).statusCode).toBe(202);
    const sent = tokenOf(await mailTo(target.email, 2));
    expectProblem(await confirm(own), 410, 'link_expired');
    expect((await confirm(sent)).statusCode).toBe(204);
  });

  it('refuses a disabled account with 403 forbidden, mailing and recording nothing', async () => {
    const target = await anAccount();
    await t.gatehouse.store.setUserDisabled({ userId: target.id, disabled: true, at: t.clock.now(), by: 'cli', events: () => [] });
    const answer = await sendReset(target.id);
    expectProblem(answer, 403, 'forbidden');
    expect(answer.json().detail).toBe('This account is disabled: enable it first, then send the reset link.');
    const history = await t.app.inject({
      method: 'GET',
      url: `/v1/admin/users/${target.id}/activity?type=password_reset_requested`,
      headers: bearer(admin.access_token),
    });
    expect(history.json().events).toEqual([]);
    const queued = await (t.gatehouse.store as KyselyStore).db
      .selectFrom('mail_outbox')
      .select('id')
      .where('user_id', '=', target.id)
      .where('kind', '=', 'password_reset')
      .execute();
    expect(queued).toEqual([]);
  });

  it('answers 404 not_found for an id no account has, and 403 forbidden to a user who is not an administrator', async () => {
    expectProblem(await sendReset('AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
    const target = await anAccount();
    const caller = await anAccount();
    expectProblem(await sendReset(target.id, caller.session.access_token), 403, 'forbidden');
    await t.gatehouse.mail?.sendDue();
    expect(smtp.received.filter((m) => m.to.includes(target.email) && (m.parsed.text ?? '').includes('/reset-password#token='))).toEqual([]);
  });

  it('is not there when mail is off: the path answers 404', async () => {
    const off = await startTestGatehouse(kind, { mail: { kind: 'off' } });
    try {
      const { id } = await registerUser(off.app, 'root@example.com');
      await off.gatehouse.store.setUserRole({ userId: id, role: 'admin', at: off.clock.now(), events: () => [] });
      const root = await signIn(off.app, 'root@example.com');
      const answer = await off.app.inject({ method: 'POST', url: `/v1/admin/users/${id}/password-reset`, headers: bearer(root.access_token) });
      expectProblem(answer, 404, 'not_found');
    } finally {
      await off.close();
    }
  });
});
