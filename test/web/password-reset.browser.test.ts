import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/app.js';
import { apiRequestsDuring, heading, signedOutByNextPoll, signIn, watchedBrowser, withMailServer } from '../helpers/browser-pages.js';
import type { Device, Gatehouse } from '../helpers/browser-pages.js';
import { ensureChromium } from '../helpers/chromium.js';
import { call } from '../helpers/server-process.js';
import { linkIn, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

/**
 * Password reset as people use it: "Forgot password?" on the devices page, the mail on a real
 * SMTP server, the link opened in Chromium, against the built server (as in
 * devices-page.browser.test.ts, whose skip logic this file shares; the problem watching, the
 * devices and the servers are test/helpers/browser-pages.ts's). The device signed in elsewhere
 * runs on Playwright's clock, which the test moves on to its next poll; the server's clock is
 * never moved.
 */
const { executablePath, skipReason } = await ensureChromium();
if (skipReason) console.warn(`Skipping the password-reset browser tests: ${skipReason}`);

const NEW_PASSWORD = 'a kettle of ferns by the lake';
const CHANGED = 'Your password was changed and every device was signed out. Sign in with your new password.';

const browser = watchedBrowser({
  // Chromium logs every 4xx fetch. These the page expects and shows: a weak password (400), a
  // session ended by the reset (401), a spent link (410).
  expectedStatuses: [400, 401, 410],
});

/** Signs in on the form the page shows, and waits for the account. */
async function signedIn(page: Page, email: string, password: string): Promise<void> {
  await signIn(page, email, password);
  await heading(page, 'Your account').waitFor();
}

describe.skipIf(!executablePath)(`password reset on the devices page in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let smtp: TestSmtpServer;
  let withMail: Gatehouse;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    [, withMail] = await Promise.all([browser.launch(executablePath), withMailServer(smtp)]);
  });
  afterAll(async () => {
    await browser.close();
    await Promise.all([withMail?.close(), smtp?.close()]);
  });
  afterEach(() => {
    expect(browser.problems.splice(0)).toEqual([]);
  });

  describe('with mail on', () => {
    const email = 'noor@example.com';
    let laptop: Device;
    let phone: Device;
    let link: string;

    beforeAll(async () => {
      expect((await call(withMail.base, 'POST', '/v1/auth/register', { body: { email, password: PASSWORD, name: 'Noor' } })).status).toBe(201);
      [laptop, phone] = await Promise.all([browser.openDevice(`${withMail.base}/`, { clock: true }), browser.openDevice(`${withMail.base}/`)]);
      await signedIn(laptop.page, email, PASSWORD);
    });

    it('mails a link to choose a new password from "Forgot password?", saying the same as for an unknown address', async () => {
      const page = phone.page;
      await heading(page, 'Sign in').waitFor();
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Forgot password?' }).click();
      await heading(page, 'Reset your password').waitFor();
      expect(await page.getByLabel('Email').inputValue()).toBe(email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      const accepted = page.getByRole('status').filter({ hasText: 'If an account has this address, a link to choose a new password is on its way.' });
      await accepted.waitFor();
      await heading(page, 'Reset your password').waitFor();

      // The reset mail, among the account's others (its verification link, a new-device alert).
      const resetMail = () => smtp.received.find((m) => (m.parsed.text ?? '').includes('/reset-password#token='));
      await expect.poll(resetMail, { timeout: 10_000 }).toBeDefined();
      const mail = resetMail();
      expect(mail!.to).toEqual([email]);
      link = linkIn(mail!, `${withMail.base}/reset-password#token=`);
      expect(mail!.parsed.html).toContain(`href="${link}"`);

      // An address without an account gets the very same words, and no mail.
      const unknown = await call(withMail.base, 'POST', '/v1/auth/password-reset', { body: { email: 'nobody@example.com' } });
      expect(unknown.status).toBe(202);
      expect(unknown.body.detail).toBe(await accepted.textContent());
    });

    it('opens the link on "Choose a new password" without a call to the API, and takes the token out of the address bar', async () => {
      const page = phone.page;
      const sent = await apiRequestsDuring(page, async () => {
        await page.goto(link);
        await heading(page, 'Choose a new password').waitFor();
      });
      // A mail scanner that opens the link spends nothing; nor is the browser's sign-in restored.
      expect(sent).toEqual([]);
      expect(page.url()).toBe(`${withMail.base}/reset-password`);
      expect(await page.evaluate('location.hash')).toBe('');
      expect(await page.getByLabel('New password', { exact: true }).getAttribute('autocomplete')).toBe('new-password');
    });

    it('says why a weak new password is refused, in the form', async () => {
      const page = phone.page;
      await page.getByLabel('New password', { exact: true }).fill('short');
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /at least \d+ characters/ })
        .waitFor();
      await heading(page, 'Choose a new password').waitFor();
    });

    it('sets the new password, sends the person to sign in with it, and signs every device out', async () => {
      const page = phone.page;
      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set new password' }).click();
      await heading(page, 'Sign in').waitFor();
      expect(await page.getByRole('status').textContent()).toBe(CHANGED);
      // The sign-in form lives at /: a reload shows it there, not the reset form.
      expect(page.url()).toBe(`${withMail.base}/`);
      expect((await call(withMail.base, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } })).status).toBe(401);
      await signedIn(page, email, NEW_PASSWORD);

      // The laptop learns of it by its next poll.
      await signedOutByNextPoll(laptop.page);
    });

    it('opens a link pasted into a tab already at /reset-password, where only the fragment changes', async () => {
      const page = phone.page;
      await page.goto(`${withMail.base}/reset-password`);
      await heading(page, 'Reset your password').waitFor();
      await page.goto(link);
      await heading(page, 'Choose a new password').waitFor();
      expect(page.url()).toBe(`${withMail.base}/reset-password`);
    });

    it('says a link that was used is spent, and offers to ask for a new one', async () => {
      const page = phone.page;
      await page.goto(link);
      await heading(page, 'Choose a new password').waitFor();
      await page.getByLabel('New password', { exact: true }).fill('yet another long passphrase');
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page.getByRole('alert').filter({ hasText: 'This link has already been used' }).waitFor();
      expect(await page.getByLabel('New password', { exact: true }).isHidden()).toBe(true);
      await page.getByRole('button', { name: 'Ask for a new link' }).click();
      await heading(page, 'Reset your password').waitFor();
      expect((await call(withMail.base, 'POST', '/v1/auth/login', { body: { email, password: NEW_PASSWORD } })).status).toBe(200);
    });

    it('asks for an address at /reset-password without a link, with a way back to sign in', async () => {
      const page = phone.page;
      await page.goto(`${withMail.base}/reset-password`);
      await heading(page, 'Reset your password').waitFor();
      await page.getByRole('button', { name: 'Back to sign in' }).click();
      // Signed in on this browser: the account opens on a reload of /, as ever.
      await heading(page, 'Sign in').waitFor();
      expect(page.url()).toBe(`${withMail.base}/`);
      await page.reload();
      await heading(page, 'Your account').waitFor();
    });
  });
});
