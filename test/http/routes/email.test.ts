import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config.js';
import { bearer, expectProblem, loginAttempt, PASSWORD, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { linkIn, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../helpers/smtp.js';

/**
 * The account's address (issue 17): proving it with a mailed link, requiring that before a
 * sign-in, and changing it, with the old address's way back. Against a real SMTP server.
 */

const PUBLIC_URL = 'https://auth.example.com';

describe.each(HTTP_DATABASES)('the account address, on %s', (kind) => {
  let smtp: TestSmtpServer;
  let gh: TestGatehouse;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.close());
  afterEach(() => gh.close());

  async function start(overrides: Partial<Config> = {}): Promise<void> {
    smtp.received.length = 0;
    // Alerts have their own tests (mail-alerts.test.ts): here an account gets the links it asks for.
    gh = await startTestGatehouse(kind, { mail: { kind: 'smtp', url: smtp.url, starttls: 'off' }, publicUrl: PUBLIC_URL, mailAlerts: [], ...overrides });
  }

  /** The token of the `nth` mail received with a link to `page`. */
  async function tokenIn(page: string, nth: number): Promise<{ token: string; mail: ReceivedMail }> {
    const { token, mail } = await smtp.waitForLink(`${PUBLIC_URL}${page}#token=`, nth);
    return { token, mail };
  }

  const post = (url: string, payload?: object, token?: string) =>
    gh.app.inject({ method: 'POST', url, ...(payload ? { payload } : {}), ...(token ? { headers: bearer(token) } : {}) });
  const me = async (token: string) => (await gh.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).json().user;

  describe('verification', () => {
    beforeEach(() => start());

    it('mails a link at registration; using it marks the address verified in /v1/me, the admin API and new access tokens', async () => {
      await registerUser(gh.app, 'ann@example.com', PASSWORD, 'Ann');
      const { token, mail } = await tokenIn('/verify-email', 1);
      expect(mail.to).toEqual(['ann@example.com']);
      expect(mail.parsed.subject).toBe('Confirm your email address for Gatehouse');
      expect(mail.parsed.text).toContain('24 hours');
      const before = await signIn(gh.app, 'ann@example.com');
      expect(before.user).toMatchObject({ email_verified: false });
      expect(decodeJwt(before.access_token).email_verified).toBe(false);

      expect((await post('/v1/auth/email-verification/confirm', { token })).statusCode).toBe(204);
      expect(await me(before.access_token)).toMatchObject({ email_verified: true });
      const refreshed = await post('/v1/auth/refresh', { refresh_token: before.refresh_token });
      expect(decodeJwt(refreshed.json().access_token).email_verified).toBe(true);
      expectProblem(await post('/v1/auth/email-verification/confirm', { token }), 410, 'link_used');
      const activity = await gh.app.inject({ method: 'GET', url: '/v1/me/activity?type=email_verified', headers: bearer(before.access_token) });
      expect(activity.json().events).toMatchObject([{ type: 'email_verified', detail: { email: 'ann@example.com' } }]);
    });

    it('sends a new link on request, and then only the newest works', async () => {
      await registerUser(gh.app, 'ann@example.com');
      const first = await tokenIn('/verify-email', 1);
      const session = await signIn(gh.app, 'ann@example.com');
      const resent = await post('/v1/me/email-verification', undefined, session.access_token);
      expect(resent.statusCode).toBe(202);
      const second = await tokenIn('/verify-email', 2);
      expectProblem(await post('/v1/auth/email-verification/confirm', { token: first.token }), 410, 'link_expired');
      expect((await post('/v1/auth/email-verification/confirm', { token: second.token })).statusCode).toBe(204);
      const again = await post('/v1/me/email-verification', undefined, session.access_token);
      expect(again.json().detail).toBe('Your address is verified already.');
    });

    it('answers a request for a new link alike for any address, and mails only an unverified account', async () => {
      await registerUser(gh.app, 'ann@example.com');
      await registerUser(gh.app, 'bob@example.com');
      const { token, mail: verified } = await tokenIn('/verify-email', 2);
      await post('/v1/auth/email-verification/confirm', { token });
      const unverified = verified.to[0] === 'bob@example.com' ? 'ann@example.com' : 'bob@example.com';
      const answers = await Promise.all(
        ['ann@example.com', 'bob@example.com', 'nobody@example.com'].map((email) => post('/v1/auth/email-verification', { email })),
      );
      for (const answer of answers) expect([answer.statusCode, answer.body]).toEqual([answers[0]!.statusCode, answers[0]!.body]);
      const { mail } = await tokenIn('/verify-email', 3);
      await gh.gatehouse.mail?.sendDue();
      expect(smtp.received).toHaveLength(3);
      expect(mail.to).toEqual([unverified]);
    });

    it('refuses a forged link, and one to an address the account no longer has', async () => {
      const ann = await registerUser(gh.app, 'ann@example.com');
      const { token } = await tokenIn('/verify-email', 1);
      expectProblem(await post('/v1/auth/email-verification/confirm', { token: `${token.slice(0, -2)}xx` }), 400, 'link_invalid');
      await gh.gatehouse.store.setUserDisabled({ userId: ann.id, disabled: true, at: gh.clock.now(), by: 'cli', events: () => [] });
      expectProblem(await post('/v1/auth/email-verification/confirm', { token }), 410, 'link_expired');
    });
  });

  describe('with GATEHOUSE_EMAIL_VERIFICATION=required', () => {
    beforeEach(() => start({ emailVerification: 'required' }));

    it('refuses a sign-in with the right password until the address is verified, creating no session, and tells a wrong password nothing new', async () => {
      const ann = await registerUser(gh.app, 'ann@example.com');
      const { token } = await tokenIn('/verify-email', 1);
      expectProblem(await loginAttempt(gh.app, 'ann@example.com', 'a wrong password!'), 401, 'invalid_credentials');
      for (let i = 0; i < 12; i++) expectProblem(await loginAttempt(gh.app, 'ann@example.com', PASSWORD), 403, 'email_not_verified');
      expect(await gh.gatehouse.store.listUserSessions(ann.id, gh.clock.now())).toEqual([]);
      await post('/v1/auth/email-verification/confirm', { token });
      // Twelve right passwords were no failures: no lock stands in the way now.
      expect((await loginAttempt(gh.app, 'ann@example.com', PASSWORD)).statusCode).toBe(200);
    });
  });

  describe('changing the address', () => {
    beforeEach(() => start());

    async function verifiedAnn() {
      const ann = await registerUser(gh.app, 'ann@example.com', PASSWORD, 'Ann');
      const { token } = await tokenIn('/verify-email', 1);
      await post('/v1/auth/email-verification/confirm', { token });
      return { ...ann, session: await signIn(gh.app, 'ann@example.com') };
    }

    it('changes it only when the new address confirms, telling the old one with a way back', async () => {
      const ann = await verifiedAnn();
      const asked = await post('/v1/me/email', { email: 'Ann@New.example', password: PASSWORD }, ann.session.access_token);
      expect(asked.statusCode, asked.body).toBe(202);
      const toNew = (await tokenIn('/confirm-email-change', 1)).mail;
      const toOld = (await tokenIn('/cancel-email-change', 1)).mail;
      expect(toNew.to).toEqual(['Ann@new.example']);
      expect(toOld.to).toEqual(['ann@example.com']);
      expect(toNew.parsed.subject).toBe('Confirm your new email address for Gatehouse');
      expect(toOld.parsed.subject).toBe("Your Gatehouse account's email address is being changed");
      expect(toOld.parsed.text).toMatch(/Ann@new\.example/i);
      expect(linkIn(toOld, `${PUBLIC_URL}/cancel-email-change#token=`)).toBeTruthy();
      expect(await me(ann.session.access_token)).toMatchObject({ email: 'ann@example.com' });

      const token = new URL(linkIn(toNew, `${PUBLIC_URL}/confirm-email-change#token=`)).hash.slice(7);
      expect((await post('/v1/auth/email-change/confirm', { token })).statusCode).toBe(204);
      expect(await me(ann.session.access_token)).toMatchObject({ email: 'Ann@New.example', email_verified: true });
      expect((await loginAttempt(gh.app, 'ann@new.example', PASSWORD)).statusCode).toBe(200);
      expectProblem(await loginAttempt(gh.app, 'ann@example.com', PASSWORD), 401, 'invalid_credentials');
      expectProblem(await post('/v1/auth/email-change/confirm', { token }), 410, 'link_used');
    });

    it('needs the password, refuses the current address and one another account has', async () => {
      const ann = await verifiedAnn();
      await registerUser(gh.app, 'bob@example.com');
      const change = (email: string, password = PASSWORD) => post('/v1/me/email', { email, password }, ann.session.access_token);
      expectProblem(await change('ann@new.example', 'not my password'), 401, 'invalid_credentials');
      expectProblem(await change('ANN@example.com'), 400, 'validation_failed');
      expectProblem(await change('bob@example.com'), 409, 'email_taken');
      expectProblem(await change('not an address'), 400, 'validation_failed');
    });

    it('refuses the confirmation when another account took the address meanwhile, changing nothing', async () => {
      const ann = await verifiedAnn();
      await post('/v1/me/email', { email: 'shared@example.com', password: PASSWORD }, ann.session.access_token);
      const toNew = (await tokenIn('/confirm-email-change', 1)).mail;
      await registerUser(gh.app, 'shared@example.com');
      const token = new URL(linkIn(toNew, `${PUBLIC_URL}/confirm-email-change#token=`)).hash.slice(7);
      expectProblem(await post('/v1/auth/email-change/confirm', { token }), 409, 'email_taken');
      expect(await me(ann.session.access_token)).toMatchObject({ email: 'ann@example.com' });
    });

    it('cancels from the old address: the change is undone even after it landed, and every session ends at once', async () => {
      const ann = await verifiedAnn();
      const phone = await signIn(gh.app, 'ann@example.com', {
        userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
      });
      await post('/v1/me/email', { email: 'thief@evil.example', password: PASSWORD }, ann.session.access_token);
      const toNew = (await tokenIn('/confirm-email-change', 1)).mail;
      const toOld = (await tokenIn('/cancel-email-change', 1)).mail;
      // The thief confirms first.
      await post('/v1/auth/email-change/confirm', { token: new URL(linkIn(toNew, `${PUBLIC_URL}/confirm-email-change#token=`)).hash.slice(7) });
      const cancel = new URL(linkIn(toOld, `${PUBLIC_URL}/cancel-email-change#token=`)).hash.slice(7);
      expect((await post('/v1/auth/email-change/cancel', { token: cancel })).statusCode).toBe(204);
      for (const session of [ann.session, phone])
        expectProblem(await gh.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.access_token) }), 401, 'session_revoked');
      expect((await gh.gatehouse.store.findUserById(ann.id))?.email).toBe('ann@example.com');
      expect((await loginAttempt(gh.app, 'ann@example.com', PASSWORD)).statusCode).toBe(200);
      expectProblem(await post('/v1/auth/email-change/cancel', { token: cancel }), 410, 'link_used');
      const fresh = await signIn(gh.app, 'ann@example.com');
      const activity = await gh.app.inject({ method: 'GET', url: '/v1/me/activity?type=email_change_cancelled', headers: bearer(fresh.access_token) });
      expect(activity.json().events).toMatchObject([{ detail: { email: 'ann@example.com', reverted: true } }]);
    });
  });

  describe('an intruder who has the password', () => {
    beforeEach(() => start());

    async function verifiedAnn() {
      await registerUser(gh.app, 'ann@example.com', PASSWORD);
      const { token } = await tokenIn('/verify-email', 1);
      await post('/v1/auth/email-verification/confirm', { token });
      return signIn(gh.app, 'ann@example.com');
    }
    const change = (email: string, access: string) => post('/v1/me/email', { email, password: PASSWORD }, access);

    it("cannot void the owner's cancel link by changing the address a second time", async () => {
      const intruder = await verifiedAnn();
      await change('thief@evil.example', intruder.access_token);
      await post('/v1/auth/email-change/confirm', { token: (await tokenIn('/confirm-email-change', 1)).token });
      const ownersCancel = (await tokenIn('/cancel-email-change', 1)).token;
      await change('thief2@evil.example', intruder.access_token);
      await post('/v1/auth/email-change/confirm', { token: (await tokenIn('/confirm-email-change', 2)).token });
      expect((await post('/v1/auth/email-change/cancel', { token: ownersCancel })).statusCode).toBe(204);
      expect(await gh.gatehouse.store.findUserByEmail('ann@example.com')).toMatchObject({ email: 'ann@example.com' });
      expectProblem(await gh.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(intruder.access_token) }), 401, 'session_revoked');
    });

    it('cannot confirm a change it asked for once the owner has reset the password', async () => {
      const intruder = await verifiedAnn();
      await change('thief@evil.example', intruder.access_token);
      const pending = (await tokenIn('/confirm-email-change', 1)).token;
      expect((await post('/v1/auth/password-reset', { email: 'ann@example.com' })).statusCode).toBe(202);
      const reset = (await tokenIn('/reset-password', 1)).token;
      expect((await post('/v1/auth/password-reset/confirm', { token: reset, new_password: 'the owner is back in charge' })).statusCode).toBe(204);
      expectProblem(await post('/v1/auth/email-change/confirm', { token: pending }), 410, 'link_expired');
      expect((await gh.gatehouse.store.findUserByEmail('ann@example.com'))?.email).toBe('ann@example.com');
    });
  });

  describe('with mail turned off', () => {
    beforeEach(() => start({ mail: { kind: 'off' } }));

    it('offers none of it, and registration sends nothing', async () => {
      await registerUser(gh.app, 'ann@example.com');
      const session = await signIn(gh.app, 'ann@example.com');
      expect(session.user).toMatchObject({ email_verified: false });
      for (const [url, payload] of [
        ['/v1/auth/email-verification', { email: 'ann@example.com' }],
        ['/v1/auth/email-verification/confirm', { token: 'x' }],
        ['/v1/auth/email-change/confirm', { token: 'x' }],
        ['/v1/auth/email-change/cancel', { token: 'x' }],
      ] as const)
        expectProblem(await post(url, payload), 404, 'not_found');
      expectProblem(await post('/v1/me/email', { email: 'a@b.example', password: PASSWORD }, session.access_token), 404, 'not_found');
      expect(smtp.received).toEqual([]);
    });
  });
});
