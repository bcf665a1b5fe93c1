import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, USER_AGENTS, type TestGatehouse } from '../../helpers/app.js';
import type { KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { linkIn, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../helpers/smtp.js';

/**
 * Alerts in the inbox (issue 17): what goes to webhooks goes to the account's address too, with
 * no webhook receiver configured, and its "this wasn't me" link works.
 */

const PUBLIC_URL = 'https://auth.example.com';

describe.each(HTTP_DATABASES)('alerts by mail, on %s', (kind) => {
  let smtp: TestSmtpServer;
  let gh: TestGatehouse;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.close());
  afterEach(() => gh.close());

  async function start(overrides: Partial<Config> = {}): Promise<void> {
    smtp.received.length = 0;
    gh = await startTestGatehouse(kind, { mail: { kind: 'smtp', url: smtp.url, starttls: 'off' }, publicUrl: PUBLIC_URL, ...overrides });
  }

  /** Messages received after the account's verification mail, once `count` of them have come. */
  async function alerts(count: number): Promise<ReceivedMail[]> {
    return (await smtp.waitFor(count + 1)).slice(1);
  }

  /** Registers `email` and proves its address with the link of the verification mail: alerts go only to proved addresses. */
  async function verifiedAccount(email: string, name?: string): Promise<void> {
    await registerUser(gh.app, email, PASSWORD, name);
    const { token } = await smtp.waitForLink(`${PUBLIC_URL}/verify-email#token=`);
    const verified = await gh.app.inject({ method: 'POST', url: '/v1/auth/email-verification/confirm', payload: { token } });
    expect(verified.statusCode).toBe(204);
  }

  it('mails a sign-in from a new device, whose "this wasn\'t me" link signs that device out without any webhook configured', async () => {
    await start();
    expect(gh.config.webhookUrl).toBeUndefined();
    await verifiedAccount('ann@example.com', 'Ann');
    await signIn(gh.app, 'ann@example.com', { userAgent: USER_AGENTS.firefoxUbuntu });
    await alerts(1); // registered without a browser: the first sign-in is news too
    const thief = await signIn(gh.app, 'ann@example.com', { userAgent: USER_AGENTS.chromeWindows, ip: '81.2.69.142' });
    const alert = (await alerts(2))[1];
    expect(alert!.to).toEqual(['ann@example.com']);
    expect(alert!.parsed.subject).toBe('New sign-in to your Gatehouse account');
    expect(alert!.parsed.text).toContain('Chrome 120 on Windows 10');
    expect(alert!.parsed.text).toContain('United Kingdom');
    const link = linkIn(alert!, `${PUBLIC_URL}/v1/not-me/`);
    expect(alert!.parsed.html).toContain(`href="${link}"`);
    const reported = await gh.app.inject({ method: 'POST', url: new URL(link).pathname });
    expect(reported.statusCode, reported.body).toBe(200);
    expectProblem(await gh.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(thief.access_token) }), 401, 'session_revoked');
  });

  it('mails a password change, a spent refresh token coming back and devices signed out from elsewhere', async () => {
    await start();
    await verifiedAccount('ann@example.com');
    const laptop = await signIn(gh.app, 'ann@example.com');
    const phone = await signIn(gh.app, 'ann@example.com', { userAgent: USER_AGENTS.safariIphone });
    await alerts(2); // both are new devices: the account was registered without a browser
    const spent = phone.refresh_token;
    expect((await gh.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: spent } })).statusCode).toBe(200);
    gh.clock.advance(60);
    expectProblem(await gh.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: spent } }), 401, 'refresh_token_reused');
    const third = await signIn(gh.app, 'ann@example.com', { userAgent: USER_AGENTS.chromeWindows });
    await alerts(4);
    const out = await gh.app.inject({ method: 'DELETE', url: `/v1/me/sessions/${third.session.id}`, headers: bearer(laptop.access_token) });
    expect(out.statusCode).toBe(204);
    const changed = await gh.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(laptop.access_token),
      payload: { current_password: PASSWORD, new_password: 'a fresh passphrase for ann' },
    });
    expect(changed.statusCode).toBe(204);
    // Sent in any order: the last two were queued in the same millisecond of the test's clock.
    const subjects = (await alerts(6)).map((m) => m.parsed.subject).sort();
    expect(subjects).toEqual(
      [
        'New sign-in to your Gatehouse account',
        'New sign-in to your Gatehouse account',
        'A Gatehouse session was signed out to protect your account',
        'New sign-in to your Gatehouse account',
        'Devices were signed out of your Gatehouse account',
        'Your Gatehouse password was changed',
      ].sort(),
    );
  });

  it('mails only the alerts GATEHOUSE_MAIL_ALERTS lists, and a reset its one "password changed"', async () => {
    await start({ mailAlerts: ['password_changed'] });
    await verifiedAccount('ann@example.com');
    await signIn(gh.app, 'ann@example.com', { userAgent: USER_AGENTS.chromeWindows });
    expect((await gh.app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: 'ann@example.com' } })).statusCode).toBe(202);
    const [reset] = await alerts(1);
    const token = new URL(linkIn(reset!, `${PUBLIC_URL}/reset-password#token=`)).hash.slice(7);
    const confirmed = await gh.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset/confirm',
      payload: { token, new_password: 'reset to something new' },
    });
    expect(confirmed.statusCode).toBe(204);
    await alerts(2);
    await gh.gatehouse.mail?.sendDue();
    expect(smtp.received.slice(1).map((m) => m.parsed.subject)).toEqual(['Reset your Gatehouse password', 'Your Gatehouse password was changed']);
  });

  it('sends no alert to an address the account has not proved, and records why', async () => {
    await start();
    const ann = await registerUser(gh.app, 'ann@example.com');
    await signIn(gh.app, 'ann@example.com', { userAgent: USER_AGENTS.chromeWindows });
    await smtp.waitFor(1); // the verification link
    await gh.gatehouse.mail?.sendDue();
    expect(smtp.received.map((m) => m.parsed.subject)).toEqual(['Confirm your email address for Gatehouse']);
    const withheld = await (gh.gatehouse.store as KyselyStore).db
      .selectFrom('mail_outbox')
      .select(['last_error', 'gave_up_at'])
      .where('user_id', '=', ann.id)
      .where('kind', '=', 'new_device_login')
      .execute();
    expect(withheld).toEqual([{ last_error: 'not sent: alerts go only to an address the account has proved', gave_up_at: expect.anything() }]);
  });
});
