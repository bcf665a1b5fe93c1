import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, expectProblem, loginAttempt, PASSWORD, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { linkIn, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../helpers/smtp.js';

/**
 * Password reset by email (issue 17), as a person and an attacker meet it: the request, the
 * mail a real SMTP server receives, the link, and what using it does to the account's sessions.
 */

const NEW_PASSWORD = 'a brand new passphrase of mine';
const PUBLIC_URL = 'https://auth.example.com';

describe.each(HTTP_DATABASES)('password reset by email, on %s', (kind) => {
  let smtp: TestSmtpServer;
  let gh: TestGatehouse;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.close());
  beforeEach(async () => {
    smtp.received.length = 0;
    smtp.refuse(false);
    gh = await startTestGatehouse(kind, {
      mail: { kind: 'smtp', url: smtp.url, starttls: 'off' },
      // Alerts have their own tests (mail-alerts.test.ts); here an account gets its verification link and resets.
      mailAlerts: [],
      mailFrom: '"Gatehouse" <no-reply@auth.example.com>',
      publicUrl: PUBLIC_URL,
    });
  });
  afterEach(() => gh.close());

  const ask = (email: string, ip = '203.0.113.9') =>
    gh.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset',
      payload: { email },
      remoteAddress: ip,
      headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0' },
    });
  const confirm = (token: string, newPassword = NEW_PASSWORD) =>
    gh.app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, new_password: newPassword } });

  const RESET_LINK = `${PUBLIC_URL}/reset-password#token=`;

  /** Asks for a link for `email` and returns the token of the reset mail that arrives. */
  async function tokenFor(email: string): Promise<string> {
    const before = smtp.countLinks(RESET_LINK);
    expect((await ask(email)).statusCode).toBe(202);
    return (await smtp.waitForLink(RESET_LINK, before + 1)).token;
  }

  function tokenOf(mail: ReceivedMail): string {
    return new URL(linkIn(mail, RESET_LINK)).hash.slice('#token='.length);
  }

  const resetMails = () => smtp.received.filter((m) => (m.parsed.text ?? '').includes(RESET_LINK));

  it('mails a link on the public URL, in a text and an HTML part, with nothing remote in it', async () => {
    await registerUser(gh.app, 'ann@example.com', PASSWORD, 'Ann');
    const answer = await ask('Ann@Example.com');
    expect(answer.statusCode).toBe(202);
    expect(answer.headers['cache-control']).toBe('no-store');
    const { mail } = await smtp.waitForLink(RESET_LINK);
    expect(mail!.to).toEqual(['ann@example.com']);
    expect(mail!.from).toBe('no-reply@auth.example.com');
    const { parsed } = mail!;
    expect(parsed.subject).toBe('Reset your Gatehouse password');
    expect(parsed.from?.text).toBe('"Gatehouse" <no-reply@auth.example.com>');
    expect(parsed.messageId).toMatch(/^<[A-Za-z0-9_-]{22}@auth\.example\.com>$/);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    const link = linkIn(mail!, `${PUBLIC_URL}/reset-password#token=`);
    // No display name: anyone can register someone else's address with a name of their choosing.
    expect(parsed.text).toMatch(/^Hello,\n/);
    expect(parsed.text).not.toContain('Ann');
    expect(parsed.text).toContain('Firefox 121 on Windows');
    expect(parsed.text).toContain('30 minutes');
    expect(parsed.html).toContain(`href="${link}"`);
    // No image, stylesheet or script from anywhere, and no link but ours.
    expect(parsed.html).not.toMatch(/<img|<link|<script|src=/i);
    for (const href of String(parsed.html).match(/href="[^"]*"/g) ?? []) expect(href.startsWith(`href="${PUBLIC_URL}/`)).toBe(true);
  });

  it('answers byte for byte the same for an account, an unknown address, a disabled and a locked account, and mails only the accounts that may reset', async () => {
    await registerUser(gh.app, 'ann@example.com');
    const bob = await registerUser(gh.app, 'bob@example.com');
    await registerUser(gh.app, 'cy@example.com');
    await gh.gatehouse.store.setUserDisabled({ userId: bob.id, disabled: true, at: gh.clock.now(), by: 'cli', events: () => [] });
    for (let i = 0; i < 10; i++) await loginAttempt(gh.app, 'cy@example.com', 'wrong password!', `198.51.100.${i}`);
    expect((await loginAttempt(gh.app, 'cy@example.com', PASSWORD)).statusCode).toBe(429); // locked
    const answers: Awaited<ReturnType<typeof ask>>[] = [];
    for (const email of ['ann@example.com', 'nobody@example.com', 'bob@example.com', 'cy@example.com']) answers.push(await ask(email));
    const shape = (a: (typeof answers)[number]) => ({ status: a.statusCode, type: a.headers['content-type'], cache: a.headers['cache-control'], body: a.body });
    for (const answer of answers) expect(shape(answer)).toEqual(shape(answers[0]!));
    await smtp.waitForLink(RESET_LINK, 2);
    await gh.gatehouse.mail?.sendDue();
    const mails = resetMails();
    expect(mails.map((m) => m.to[0]).sort()).toEqual(['ann@example.com', 'cy@example.com']);
    // A lock is no reason to refuse a way back in: the locked account's link works.
    expect((await confirm(tokenOf(mails.find((m) => m.to[0] === 'cy@example.com')!))).statusCode).toBe(204);
    expect((await loginAttempt(gh.app, 'cy@example.com', NEW_PASSWORD, '192.0.2.50')).statusCode).toBe(200);
  });

  it('sets the new password, ends every session at once, proves the address and tells the account by mail', async () => {
    const ann = await registerUser(gh.app, 'ann@example.com');
    const laptop = await signIn(gh.app, 'ann@example.com');
    const phone = await signIn(gh.app, 'ann@example.com', {
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
    });
    const token = await tokenFor('ann@example.com');
    expect((await confirm(token)).statusCode).toBe(204);
    // The very next request with either session's access token is refused.
    for (const session of [laptop, phone])
      expectProblem(await gh.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.access_token) }), 401, 'session_revoked');
    expectProblem(await gh.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: phone.refresh_token } }), 401, 'session_revoked');
    expectProblem(await loginAttempt(gh.app, 'ann@example.com', PASSWORD), 401, 'invalid_credentials');
    const fresh = await signIn(gh.app, 'ann@example.com', { password: NEW_PASSWORD });
    expect((await gh.gatehouse.store.findUserById(ann.id))?.emailVerifiedAt).toBe(gh.clock.now());

    const changedMail = () => smtp.received.find((m) => m.parsed.subject === 'Your Gatehouse password was changed');
    await expect.poll(changedMail).toBeDefined();
    const changed = changedMail();
    expect(changed!.to).toEqual(['ann@example.com']);
    expect(changed!.parsed.subject).toBe('Your Gatehouse password was changed');
    expect(changed!.parsed.text).toContain('with a reset link sent to this address');
    expect(changed!.parsed.text).toContain('Every device was signed out (2 sessions).');

    const activity = await gh.app.inject({ method: 'GET', url: '/v1/me/activity?limit=10', headers: bearer(fresh.access_token) });
    const events = activity.json().events as Array<{ type: string; detail: Record<string, unknown>; device: { label: string } | null }>;
    const reset = events.find((e) => e.type === 'password_reset');
    expect(reset?.detail.session_ids).toEqual(expect.arrayContaining([laptop.session.id, phone.session.id]));
    const requested = events.find((e) => e.type === 'password_reset_requested');
    expect(requested).toMatchObject({ detail: { mailed: true }, device: { label: 'Firefox 121 on Windows 10' } });
  });

  it('lets a link work once: of two tabs racing with it exactly one wins, and a second use is link_used', async () => {
    await registerUser(gh.app, 'ann@example.com');
    const token = await tokenFor('ann@example.com');
    const answers = await Promise.all([confirm(token, 'first tab passphrase'), confirm(token, 'second tab passphrase')]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([204, 410]);
    expectProblem(answers.find((a) => a.statusCode === 410)!, 410, 'link_used');
    expectProblem(await confirm(token), 410, 'link_used');
  });

  it('stops a link working after 30 minutes, after a newer link, after a sign-in and after a password change', async () => {
    await registerUser(gh.app, 'ann@example.com');
    const expiring = await tokenFor('ann@example.com');
    gh.clock.advance(30 * 60);
    expectProblem(await confirm(expiring), 410, 'link_expired');

    const older = await tokenFor('ann@example.com');
    const newer = await tokenFor('ann@example.com');
    expectProblem(await confirm(older), 410, 'link_expired');

    const session = await signIn(gh.app, 'ann@example.com');
    expectProblem(await confirm(newer), 410, 'link_expired');

    const beforeChange = await tokenFor('ann@example.com');
    const changed = await gh.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(session.access_token),
      payload: { current_password: PASSWORD, new_password: 'changed it myself, thanks' },
    });
    expect(changed.statusCode).toBe(204);
    expectProblem(await confirm(beforeChange), 410, 'link_expired');
    expect((await loginAttempt(gh.app, 'ann@example.com', 'changed it myself, thanks')).statusCode).toBe(200);
  });

  it('refuses a forged or mangled token and a weak password, and the link still works after a refused password', async () => {
    await registerUser(gh.app, 'ann@example.com');
    const token = await tokenFor('ann@example.com');
    const [id, mac] = token.split('.') as [string, string];
    expectProblem(await confirm(`${id}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`), 400, 'link_invalid');
    expectProblem(await confirm('not-a-token'), 400, 'link_invalid');
    expectProblem(await confirm(token, '123456789012'), 400, 'weak_password');
    expectProblem(await confirm(token, 'ann@example.com'), 400, 'weak_password');
    expect((await confirm(token)).statusCode).toBe(204);
  });

  it('sends one address at most 5 messages an hour however many ask, answering the same throughout', async () => {
    // Its verification link was one of them: a stranger can register someone else's address too.
    await registerUser(gh.app, 'ann@example.com');
    const answers: Awaited<ReturnType<typeof ask>>[] = [];
    for (let i = 0; i < 12; i++) answers.push(await ask('ann@example.com', `198.51.100.${i}`));
    expect(new Set(answers.map((a) => `${a.statusCode} ${a.body}`)).size).toBe(1);
    await smtp.waitFor(5);
    await gh.gatehouse.mail?.sendDue();
    expect(smtp.received).toHaveLength(5);
    expect(resetMails()).toHaveLength(4);
    gh.clock.advance(3600);
    expect((await ask('ann@example.com')).statusCode).toBe(202);
    await smtp.waitForLink(RESET_LINK, 5);
  });

  it('limits requests per client address: rate_limited with Retry-After, the same for any address asked about', async () => {
    for (let i = 0; i < 20; i++) expect((await ask(`someone${i}@example.com`, '192.0.2.77')).statusCode).toBe(202);
    const refused = await ask('ann@example.com', '192.0.2.77');
    expectProblem(refused, 429, 'rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await ask('ann@example.com', '192.0.2.78')).statusCode).toBe(202);
  });

  it('refuses bad input with a problem and no mail', async () => {
    expectProblem(await gh.app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: {} }), 400, 'validation_failed');
    expectProblem(
      await gh.app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: 'a\u0000b@example.com' } }),
      400,
      'validation_failed',
    );
    expectProblem(await gh.app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token: 'x' } }), 400, 'validation_failed');
    await gh.gatehouse.mail?.sendDue();
    expect(smtp.received).toEqual([]);
  });
});

describe('password reset with mail turned off', () => {
  it('is not there: both routes answer 404', async () => {
    const gh = await startTestGatehouse('sqlite', { mail: { kind: 'off' } });
    try {
      expectProblem(await gh.app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: 'ann@example.com' } }), 404, 'not_found');
      expectProblem(
        await gh.app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token: 'x', new_password: NEW_PASSWORD } }),
        404,
        'not_found',
      );
    } finally {
      await gh.close();
    }
  });
});
