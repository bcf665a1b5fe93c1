import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type StoredEvent } from '../../../src/core/activity.js';
import { NOT_ME_PATH, notMeLink } from '../../../src/core/not-me-link.js';
import type { ClientInfo } from '../../../src/core/records.js';
import { bearer, expectProblem, registerUser, signIn, startTestGatehouse, USER_AGENTS, type SignedIn, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';

const PUBLIC_URL = 'https://auth.example.com';
const WEBHOOK_SECRET = 'whsec_' + 'n'.repeat(40);
const DAY = 86_400;
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'user-agent': USER_AGENTS.safariIphone };
const FORM = { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' };

describe.each(HTTP_DATABASES)('the "this wasn\'t me" link on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(
      kind,
      // The receiver is never reached in these tests; only the links matter.
      { webhookUrl: 'http://127.0.0.1:9/hooks', webhookSecret: WEBHOOK_SECRET, publicUrl: PUBLIC_URL },
      { hasher: instantHasher() },
    );
  });
  afterAll(() => t.close());

  let users = 0;
  let ips = 0;
  /** A new account signed in twice: the laptop is the user, the other sign-in the one in question. */
  async function anAccount(options: { userAgent?: string; ip?: string } = {}) {
    const email = `not-me-${++users}@example.com`;
    await registerUser(t.app, email);
    const laptop = await signIn(t.app, email, { userAgent: USER_AGENTS.firefoxUbuntu, ip: `198.51.100.${++ips}` });
    const stranger = await signIn(t.app, email, { userAgent: options.userAgent ?? USER_AGENTS.chromeWindows, ip: options.ip ?? '130.149.7.201' });
    const signedIn = await signInEvent(stranger);
    return { email, laptop, stranger, signedIn, link: pathOf(signedIn) };
  }

  /** The sign-in's own `signed_in` event: the one its notification links to. */
  async function signInEvent(session: SignedIn): Promise<StoredEvent> {
    const events = await t.gatehouse.ctx.store.listUserEvents(session.user.id, { types: ['signed_in'], limit: 100 });
    const found = events.find((e) => e.sessionId === session.session.id);
    if (!found) throw new Error('sign-in wrote no signed_in event');
    return found;
  }

  const pathOf = (event: { id: string; at: number }) => notMeLink(t.gatehouse.ctx.notMeLinks!, event.id, event.at).url.slice(PUBLIC_URL.length);
  const get = (path: string) => t.app.inject({ method: 'GET', url: path, headers: BROWSER });
  const post = (path: string) => t.app.inject({ method: 'POST', url: path, headers: { 'user-agent': USER_AGENTS.safariIphone } });
  const formPost = (path: string) => t.app.inject({ method: 'POST', url: path, headers: FORM, payload: 'confirm=1' });
  const me = (session: SignedIn) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.access_token) });
  const refresh = (session: SignedIn) => t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: session.refresh_token } });
  const tamper = (path: string, part: 0 | 1 | 2, value: (old: string) => string) => {
    const parts = path.slice(NOT_ME_PATH.length + 1).split('.');
    parts[part] = value(parts[part]!);
    return `${NOT_ME_PATH}/${parts.join('.')}`;
  };

  function expectPage(response: LightMyRequestResponse, status: number): void {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body.startsWith('<!doctype html>')).toBe(true);
  }

  function expectLinkErrorPage(response: LightMyRequestResponse, status: number, code: string): void {
    expectPage(response, status);
    expect(response.body).toContain(`<code>${code}</code>`);
    expect(response.body).not.toContain('<form');
  }

  describe('GET: the confirmation page', () => {
    it('asks "Was this you?" about that sign-in’s device, country and time, with one button that posts back', async () => {
      const { link } = await anAccount();
      const response = await get(link);
      expectPage(response, 200);
      expect(response.body).toContain('<html lang="en">');
      expect(response.body).toContain('<title>Was this you? · Gatehouse</title>');
      expect(response.body).toContain('<meta name="viewport"');
      expect(response.body).toContain('Chrome 120 on Windows 10 · Germany · 27 Nov 2026 09:00 UTC');
      expect(response.body).toMatch(/<form method="post">\s*<button type="submit">Sign that session out<\/button>\s*<\/form>/);
      expect(response.body).not.toContain('<script');
    });

    it('changes nothing, however often it is fetched: the session stays signed in and the link stays usable', async () => {
      const { stranger, link } = await anAccount();
      for (let i = 0; i < 10; i++) expectPage(await get(link), 200);
      await t.app.inject({ method: 'HEAD', url: link });
      expect((await me(stranger)).statusCode).toBe(200);
      expect((await post(link)).json()).toMatchObject({ revoked: true });
    });

    it('is sent with headers that keep the URL out of Referer, caches and frames, and let no script run', async () => {
      const { link } = await anAccount();
      const response = await get(link);
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
      expect(csp).not.toContain('unsafe');
      // The inline style is allowed by exactly its hash.
      const style = /<style>(.*?)<\/style>/s.exec(response.body)![1]!;
      expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    });

    it('escapes whatever the database holds about the device: a user agent is the attacker’s text', async () => {
      const { email, laptop } = await anAccount();
      const hostile: ClientInfo = {
        ip: '203.0.113.66',
        userAgent: '<script>alert(1)</script>',
        device: { browser: '<script>alert(1)</script>', os: null, type: 'other', label: '<script>alert("x")</script> & <img src=x onerror=alert(2)>' },
        country: 'DE',
      };
      const other = await signIn(t.app, email, { userAgent: '<script>alert(1)</script>', ip: '203.0.113.66' });
      const forged = newEvent(
        'signed_in',
        t.clock.now(),
        { userId: laptop.user.id, sessionId: other.session.id, client: hostile, detail: { new_device: true } },
        false,
      );
      await t.gatehouse.ctx.store.recordEvents([forged]);
      for (const link of [pathOf(forged), pathOf(await signInEvent(other))]) {
        const response = await get(link);
        expectPage(response, 200);
        expect(response.body).not.toMatch(/<script|<img/i);
      }
      expect((await get(pathOf(forged))).body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;');
    });

    it('says so when the session has already ended, and still offers to report it', async () => {
      const { stranger, link } = await anAccount();
      await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(stranger.access_token) });
      const response = await get(link);
      expectPage(response, 200);
      expect(response.body).toContain('That session has already ended.');
      expect(response.body).toContain('<button type="submit">Report this sign-in</button>');
    });
  });

  describe('POST: signing that session out', () => {
    it('revokes exactly that session: its access token is refused at once, its refresh token too, the user’s others stay', async () => {
      const { laptop, stranger, link } = await anAccount();
      expect((await me(stranger)).statusCode).toBe(200);
      const response = await post(link);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual({ revoked: true, session_id: stranger.session.id, change_password: `${PUBLIC_URL}/` });
      expectProblem(await me(stranger), 401, 'session_revoked');
      expect((await refresh(stranger)).statusCode).toBe(401);
      expect((await me(laptop)).statusCode).toBe(200);
      const sessions = await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(laptop.access_token) });
      expect(sessions.json().sessions.map((s: { id: string }) => s.id)).toEqual([laptop.session.id]);
      expect(await t.gatehouse.ctx.store.findSession(stranger.session.id)).toMatchObject({ revokedReason: 'reported', revokedBy: laptop.user.id });
    });

    it('works once: a second POST, and the page after it, answer 410 link_used', async () => {
      const { link } = await anAccount();
      expect((await post(link)).statusCode).toBe(200);
      expectProblem(await post(link), 410, 'link_used');
      expectLinkErrorPage(await get(link), 410, 'link_used');
    });

    it('from the page’s form answers a page: done, and change the password now on the account page', async () => {
      const { stranger, link } = await anAccount();
      const response = await formPost(link);
      expectPage(response, 200);
      expect(response.body).toContain('Done: that session is signed out.');
      expect(response.body).toContain(`<a href="${PUBLIC_URL}/" rel="noreferrer">Change your password now</a>`);
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['content-security-policy']).toContain("form-action 'self'");
      expectProblem(await me(stranger), 401, 'session_revoked');
      expectLinkErrorPage(await formPost(link), 410, 'link_used');
    });

    it('of a session already signed out answers revoked: false once, then 410', async () => {
      const { laptop, stranger, link } = await anAccount();
      await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(stranger.access_token) });
      expect((await post(link)).json()).toEqual({ revoked: false, session_id: stranger.session.id, change_password: `${PUBLIC_URL}/` });
      expectProblem(await post(link), 410, 'link_used');
      expect((await me(laptop)).statusCode).toBe(200);
    });

    it('also ends the intruder’s later sessions from that device, and forgets the device, so it is flagged again', async () => {
      const { email, laptop, stranger, link } = await anAccount();
      // The intruder signs in again from the same device (another address in the same country).
      const again = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows, ip: '130.149.7.9' });
      expect((await post(link)).json()).toMatchObject({ revoked: true, session_id: stranger.session.id });
      expect((await me(stranger)).statusCode).toBe(401);
      expect((await me(again)).statusCode).toBe(401);
      expect((await me(laptop)).statusCode).toBe(200);
      const next = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows, ip: '130.149.7.201' });
      expect((await signInEvent(next)).detail.new_device).toBe(true);
    });

    it('ends the intruder’s later session even when it replaced the reported one', async () => {
      const { email, stranger, link } = await anAccount();
      // Same user agent and address: this sign-in replaces the reported session.
      const replacing = await signIn(t.app, email, { userAgent: USER_AGENTS.chromeWindows, ip: '130.149.7.201' });
      expect((await me(stranger)).statusCode).toBe(401);
      expect((await post(link)).json()).toMatchObject({ revoked: true });
      expect((await me(replacing)).statusCode).toBe(401);
    });

    it('shows in the user’s activity as sign_in_reported, by the user, from the device that clicked', async () => {
      const { laptop, stranger, signedIn, link } = await anAccount();
      await post(link);
      const activity = await t.app.inject({ method: 'GET', url: '/v1/me/activity?type=sign_in_reported', headers: bearer(laptop.access_token) });
      expect(activity.statusCode, activity.body).toBe(200);
      const events = activity.json().events;
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'sign_in_reported',
        actor: laptop.user.id,
        user_agent: USER_AGENTS.safariIphone,
        detail: { session_ids: [stranger.session.id], reported_event_id: signedIn.id },
      });
    });

    it('lets exactly one of 50 parallel POSTs of one link through', async () => {
      const { link } = await anAccount();
      const responses = await Promise.all(Array.from({ length: 50 }, () => post(link)));
      expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
      for (const r of responses.filter((r) => r.statusCode !== 200)) expectProblem(r, 410, 'link_used');
    });

    it('accepts the form content type here only: the rest of the API stays JSON-only', async () => {
      const login = await t.app.inject({ method: 'POST', url: '/v1/auth/login', headers: FORM, payload: 'email=a%40example.com&password=x' });
      expectProblem(login, 415, 'unsupported_media_type');
    });
  });

  describe('links that cannot be used', () => {
    it('answer 404 when forged, for another event, or with the expiry changed, and end nothing', async () => {
      const { stranger, link } = await anAccount();
      const other = await anAccount();
      const forgeries = [
        tamper(link, 2, (s) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1)),
        tamper(link, 0, () => other.signedIn.id),
        tamper(link, 1, (expiry) => String(Number(expiry) + 30 * DAY)),
        tamper(link, 1, (expiry) => String(Number(expiry) - 1)),
        `${NOT_ME_PATH}/${link.slice(NOT_ME_PATH.length + 1, -5)}`,
      ];
      for (const path of forgeries) {
        expectLinkErrorPage(await get(path), 404, 'not_found');
        expectProblem(await post(path), 404, 'not_found');
        expectLinkErrorPage(await formPost(path), 404, 'not_found');
      }
      expect((await me(stranger)).statusCode).toBe(200);
      expect((await me(other.stranger)).statusCode).toBe(200);
    });

    it('answer 404 for a genuine signature over an event that is not a sign-in', async () => {
      const { laptop } = await anAccount();
      const notASignIn = newEvent('password_changed', t.clock.now(), { userId: laptop.user.id, sessionId: laptop.session.id }, false);
      await t.gatehouse.ctx.store.recordEvents([notASignIn]);
      expectProblem(await post(pathOf(notASignIn)), 404, 'not_found');
      expectProblem(await post(pathOf({ id: 'no-such-event', at: t.clock.now() })), 404, 'not_found');
      expect((await me(laptop)).statusCode).toBe(200);
    });

    it('answer a problem, never a 500, for characters or lengths no token has', async () => {
      for (const token of ['a%00b', '%3Cscript%3E', 'a'.repeat(122), 'a'.repeat(300), '..', 'x.y.z']) {
        for (const method of ['GET', 'POST'] as const) {
          const response = await t.app.inject({ method, url: `${NOT_ME_PATH}/${token}` });
          expect([400, 404], `${method} ${token}: ${response.body}`).toContain(response.statusCode);
        }
      }
    });

    it('expire: the page and the POST answer 410 link_expired from the expiry on, and the session stays', async () => {
      const { stranger, link } = await anAccount();
      t.clock.advance(7 * DAY - 1);
      expectPage(await get(link), 200);
      t.clock.advance(1);
      expectLinkErrorPage(await get(link), 410, 'link_expired');
      expectProblem(await post(link), 410, 'link_expired');
      expectLinkErrorPage(await formPost(link), 410, 'link_expired');
      expect(await t.gatehouse.ctx.store.findSession(stranger.session.id)).toMatchObject({ revokedAt: null });
    });
  });
});
