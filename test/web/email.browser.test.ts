import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/app.js';
import { apiRequestsDuring, heading, signedOutByNextPoll, signIn, watchedBrowser, withMailServer, withServer } from '../helpers/browser-pages.js';
import type { Device, Gatehouse } from '../helpers/browser-pages.js';
import { ensureChromium } from '../helpers/chromium.js';
import { call } from '../helpers/server-process.js';
import { linkIn, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp.js';

/**
 * The account's address on the devices page, as people use it: the links on a real SMTP server,
 * opened in Chromium, against the built server (as in password-reset.browser.test.ts, whose
 * skip logic this file shares; the problem watching, the devices and the servers are
 * test/helpers/browser-pages.ts's). The device signed in elsewhere runs on Playwright's clock,
 * which the test moves on to its next poll; the server's clock is never moved.
 */
const { executablePath, skipReason } = await ensureChromium();
if (skipReason) console.warn(`Skipping the email browser tests: ${skipReason}`);

const browser = watchedBrowser({
  // Chromium logs every 4xx fetch. These the page expects and shows: a wrong password (401),
  // an address not yet confirmed (403), a session ended by a cancelled change (401), a spent link (410).
  expectedStatuses: [401, 403, 410],
});

const banner = (page: Page) => page.getByRole('region', { name: 'Confirm your address' });
const emailCard = (page: Page) => page.getByRole('region', { name: 'Change email' });

async function register(page: Page, email: string): Promise<void> {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await heading(page, 'Create your account').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
}

/**
 * Opens an emailed link in `page`: its view must show without a call to the API (a mail scanner
 * that opens it changes nothing), with the token gone from the address bar.
 */
async function openLink(page: Page, link: string, title: string): Promise<void> {
  const sent = await apiRequestsDuring(page, async () => {
    await page.goto(link);
    await heading(page, title).waitFor();
  });
  expect(sent).toEqual([]);
  expect(page.url()).toBe(link.slice(0, link.indexOf('#')));
  expect(await page.evaluate('location.hash')).toBe('');
}

describe.skipIf(!executablePath)(`the account's address on the devices page in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let smtp: TestSmtpServer;
  let optional: Gatehouse;
  let required: Gatehouse;
  let withoutMail: Gatehouse;

  /**
   * The link starting with `base + path` in the `nth` (from 1) message to `address` that has one,
   * once it has arrived; other mails (a new device's sign-in) are passed over.
   */
  async function linkTo(address: string, path: string, nth = 1): Promise<{ link: string; mail: ReceivedMail }> {
    const prefix = `${path}#token=`;
    const mails = () => smtp.received.filter((mail) => mail.to.includes(address) && (mail.parsed.text ?? '').includes(prefix));
    await expect.poll(() => mails().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(nth);
    const mail = mails()[nth - 1]!;
    return { link: linkIn(mail, prefix), mail };
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    [, optional, required, withoutMail] = await Promise.all([
      browser.launch(executablePath),
      withMailServer(smtp),
      withMailServer(smtp, { GATEHOUSE_EMAIL_VERIFICATION: 'required' }),
      withServer({ GATEHOUSE_MAIL: 'off' }),
    ]);
  });
  afterAll(async () => {
    await browser.close();
    await Promise.all([optional?.close(), required?.close(), withoutMail?.close(), smtp?.close()]);
  });
  afterEach(() => {
    expect(browser.problems.splice(0)).toEqual([]);
  });

  describe('one person, from registering to changing the address', () => {
    const email = 'lena@example.com';
    const newEmail = 'lena.new@example.com';
    let laptop: Device;
    let firstLink: string;
    let newestLink: string;

    beforeAll(async () => {
      laptop = await browser.openDevice(`${optional.base}/`, { clock: true });
    });

    it('mails a link on registering, and the account asks to confirm the address', async () => {
      await register(laptop.page, email);
      await heading(laptop.page, 'Your account').waitFor();
      await banner(laptop.page).waitFor();
      expect(await banner(laptop.page).textContent()).toContain(`We sent a link to ${email}.`);
      const { link, mail } = await linkTo(email, `${optional.base}/verify-email`);
      expect(mail.parsed.subject).toMatch(/confirm/i);
      firstLink = link;
    });

    it('mails a newer link from "Send a new link", after which only the newest works', async () => {
      await banner(laptop.page).getByRole('button', { name: 'Send a new link' }).click();
      await banner(laptop.page).getByRole('status').filter({ hasText: 'A new link is on its way to your address.' }).waitFor();
      newestLink = (await linkTo(email, `${optional.base}/verify-email`, 2)).link;
      expect(newestLink).not.toBe(firstLink);

      const page = await browser.watchedPage(laptop.context);
      await openLink(page, firstLink, 'Confirm your address');
      await page.getByRole('button', { name: 'Confirm my address' }).click();
      await page.getByRole('alert').filter({ hasText: 'This link no longer works: it expired, a newer link was sent' }).waitFor();
      expect(await page.getByRole('button', { name: 'Confirm my address' }).isHidden()).toBe(true);
      await page.close();
    });

    it('confirms the address only once "Confirm my address" is pressed on the page the link opens', async () => {
      const page = await browser.watchedPage(laptop.context);
      await openLink(page, newestLink, 'Confirm your address');
      const sent = await apiRequestsDuring(page, async () => {
        await page.getByRole('button', { name: 'Confirm my address' }).click();
        await page.getByRole('status').filter({ hasText: 'Your address is confirmed.' }).waitFor();
      });
      expect(sent).toEqual(['POST /v1/auth/email-verification/confirm']);
      // Signed in in this browser: the way on leads to the account, which asks no more.
      await page.getByRole('button', { name: 'Go to your account' }).click();
      await heading(page, 'Your account').waitFor();
      expect(page.url()).toBe(`${optional.base}/`);
      expect(await banner(page).isHidden()).toBe(true);
      await page.close();

      await laptop.page.reload();
      await heading(laptop.page, 'Your account').waitFor();
      expect(await banner(laptop.page).isHidden()).toBe(true);
      const signedIn = await call(optional.base, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
      const me = await call(optional.base, 'GET', '/v1/me', { token: signedIn.body.access_token });
      expect(me.body.user.email_verified).toBe(true);
    });

    it('changes the address once the new address confirms, after the password is given', async () => {
      const card = emailCard(laptop.page);
      await card.getByLabel('New email').fill(newEmail);
      await card.getByLabel('Your password').fill('not the password');
      await card.getByRole('button', { name: 'Change email' }).click();
      await card.getByRole('alert').filter({ hasText: 'Your password is not right.' }).waitFor();

      await card.getByLabel('Your password').fill(PASSWORD);
      await card.getByRole('button', { name: 'Change email' }).click();
      await card
        .getByRole('status')
        .filter({ hasText: `A link to confirm the new address is on its way to ${newEmail}.` })
        .waitFor();
      expect(await card.getByLabel('New email').inputValue()).toBe('');
      const confirmation = await linkTo(newEmail, `${optional.base}/confirm-email-change`);
      const notice = await linkTo(email, `${optional.base}/cancel-email-change`);
      expect(notice.mail.parsed.text).toContain(newEmail);

      // The new mailbox may be read anywhere: a browser that is not signed in.
      const elsewhere = await browser.openDevice(`${optional.base}/`);
      await openLink(elsewhere.page, confirmation.link, 'Confirm your new address');
      await elsewhere.page.getByRole('button', { name: 'Confirm my new address' }).click();
      await elsewhere.page.getByRole('status').filter({ hasText: 'Your address is changed. Sign in with your new address.' }).waitFor();
      await elsewhere.page.getByRole('button', { name: 'Go to sign in' }).click();
      await signIn(elsewhere.page, newEmail);
      await heading(elsewhere.page, 'Your account').waitFor();
      expect(await elsewhere.page.locator('#account-who').textContent()).toContain(newEmail);
      expect((await call(optional.base, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } })).status).toBe(401);
    });

    it('keeps the address when the old address cancels a change, and signs out every device', async () => {
      const thirdEmail = 'lena.third@example.com';
      const signedIn = await call(optional.base, 'POST', '/v1/auth/login', { body: { email: newEmail, password: PASSWORD } });
      expect(signedIn.status).toBe(200);
      const changed = await call(optional.base, 'POST', '/v1/me/email', {
        token: signedIn.body.access_token,
        body: { email: thirdEmail, password: PASSWORD },
      });
      expect(changed.status).toBe(202);
      const confirmLink = (await linkTo(thirdEmail, `${optional.base}/confirm-email-change`)).link;
      const cancelLink = (await linkTo(newEmail, `${optional.base}/cancel-email-change`)).link;

      const fresh = await browser.openDevice(`${optional.base}/`);
      const page = fresh.page;
      await openLink(page, cancelLink, 'Cancel the email change');
      expect(await page.getByRole('region', { name: 'Cancel the email change' }).textContent()).toContain('signs out every device');
      await page.getByRole('button', { name: 'Cancel the change and sign out everywhere' }).click();
      await page.getByRole('status').filter({ hasText: 'The change is cancelled' }).waitFor();
      expect(await page.getByRole('status').textContent()).toContain('choose a new one');

      // Every session ended: the API refuses the old access token, and the laptop learns of it by its next poll.
      expect((await call(optional.base, 'GET', '/v1/me', { token: signedIn.body.access_token })).status).toBe(401);
      await signedOutByNextPoll(laptop.page);

      // The address stays, and the change's own link no longer works.
      const again = await call(optional.base, 'POST', '/v1/auth/login', { body: { email: newEmail, password: PASSWORD } });
      expect(again.status).toBe(200);
      expect(again.body.user.email).toBe(newEmail);
      expect((await call(optional.base, 'POST', '/v1/auth/email-change/confirm', { body: { token: confirmLink.split('#token=')[1] } })).status).toBe(410);

      // The way on: a new password.
      await page.getByRole('button', { name: 'Choose a new password' }).click();
      await heading(page, 'Reset your password').waitFor();
      expect(page.url()).toBe(`${optional.base}/reset-password`);
    });
  });

  describe('with GATEHOUSE_EMAIL_VERIFICATION=required', () => {
    it('lets an account sign in only once its address is confirmed, and sends a new link from the sign-in form', async () => {
      const email = 'omar@example.com';
      const { page } = await browser.openDevice(`${required.base}/`);
      await register(page, email);
      await heading(page, 'Sign in').waitFor();
      await page
        .getByRole('status')
        .filter({ hasText: `Your account is created. Open the link we sent to ${email}` })
        .waitFor();
      await linkTo(email, `${required.base}/verify-email`);

      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'Confirm your email address first' }).waitFor();
      await page.getByRole('button', { name: 'Send a new link' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'If this address belongs to an account that still has to confirm it, a new link is on its way.' })
        .waitFor();
      const { link } = await linkTo(email, `${required.base}/verify-email`, 2);

      await openLink(page, link, 'Confirm your address');
      await page.getByRole('button', { name: 'Confirm my address' }).click();
      await page.getByRole('status').filter({ hasText: 'Your address is confirmed.' }).waitFor();
      await page.getByRole('button', { name: 'Go to your account' }).click();
      await signIn(page, email);
      await heading(page, 'Your account').waitFor();
      expect(await banner(page).isHidden()).toBe(true);
    });
  });

  describe('with mail off', () => {
    it('says nothing of the address: no banner, no "Change email", and link pages show the start', async () => {
      const { page } = await browser.openDevice(`${withoutMail.base}/`);
      await register(page, 'mo@example.com');
      await heading(page, 'Your account').waitFor();
      await page.getByRole('heading', { name: 'Change password' }).waitFor();
      expect(await banner(page).count()).toBe(0);
      expect(await emailCard(page).count()).toBe(0);
      await page.goto(`${withoutMail.base}/verify-email#token=anything`);
      await heading(page, 'Your account').waitFor();
    });

    it('offers no "Forgot password?", and the API has no password reset', async () => {
      const device = await browser.openDevice(`${withoutMail.base}/`);
      await heading(device.page, 'Sign in').waitFor();
      await device.page.getByRole('button', { name: 'Create an account' }).waitFor();
      expect(await device.page.getByRole('button', { name: 'Forgot password?' }).count()).toBe(0);
      expect(await device.page.getByText('Forgot password?').isVisible()).toBe(false);
      const answer = await call(withoutMail.base, 'POST', '/v1/auth/password-reset', { body: { email: 'anyone@example.com' } });
      expect(answer.status).toBe(404);
    });
  });
});
