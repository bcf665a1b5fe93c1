import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContextOptions, type Page, type Request, type Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, USER_AGENTS } from '../helpers/app.js';
import { watchPages, type Device } from '../helpers/browser-pages.js';
import { ensureChromium } from '../helpers/chromium.js';
import { call, startServer, type RunningServer } from '../helpers/server-process.js';

/**
 * The devices page as people use it: Debian's Chromium, driven by playwright-core, against the
 * built server. Installs Chromium with apt-get if it is missing (test/helpers/chromium.ts), and
 * skips, saying why, only where it cannot. `UPDATE_SCREENSHOTS=1` also rewrites
 * docs/screenshots/account-{desktop,phone}.png. Where a test would wait for the page's own
 * timers (its 5 s poll, its token renewal), the page runs on Playwright's clock, which the test
 * moves on (`pollNow`); the server's clock is never moved.
 */
const { executablePath, skipReason } = await ensureChromium();
if (skipReason) console.warn(`Skipping the devices page's browser tests: ${skipReason}`);
const updateScreenshots = process.env.UPDATE_SCREENSHOTS === '1';

/** The page polls its sessions every 5 s (POLL_MS in src/web/public/devices.js). */
const POLL_MS = 5_000;
/** A device signed out elsewhere notices within one poll: this bounds waiting for one, with room. */
const POLL_BOUND_MS = 15_000;
/** For what the page shows once the last request is answered (rendering, a log line). */
const SOON = { timeout: 5_000 };
const NEW_PASSWORD = 'a new and longer passphrase';

// MaxMind's documentation addresses, which the bundled database places in Sweden and Britain.
const AT_HOME = '89.160.20.112';
const ABROAD = '81.2.69.142';

let browser: Browser | undefined;
const { problems, watchedPage } = watchPages({
  // Chromium logs every 4xx fetch; 401 (signed out elsewhere, wrong password) and 403
  // (password needed again) are answers the page expects and shows.
  expectedStatuses: [401, 403],
});

/**
 * A browser of its own (cookies, storage) with Gatehouse open in it, watched for problems.
 * `clock`: its pages run on Playwright's clock, installed before they load. Time flows on it as
 * it does outside, and timers fire on time, until a test moves it on (`pollNow`): the page's
 * timers only; the server's clock, which judges tokens and sessions, is never moved.
 */
async function openDevice(base: string, options: BrowserContextOptions & { ip?: string; clock?: boolean } = {}): Promise<Device> {
  const { ip, clock, ...contextOptions } = options;
  const context = await browser!.newContext({
    ...contextOptions,
    // Gatehouse trusts the proxy header in the tests that set one: devices appear to sign in from elsewhere.
    ...(ip ? { extraHTTPHeaders: { 'x-forwarded-for': ip } } : {}),
  });
  context.setDefaultTimeout(10_000);
  if (clock) await context.clock.install();
  const page = await watchedPage(context);
  await page.goto(base + '/');
  return { context, page };
}

const heading = (page: Page, name: string) => page.getByRole('heading', { name, exact: true });
const devicesOf = (page: Page) => page.getByRole('list', { name: 'Devices' }).getByRole('listitem');
const activityOf = (page: Page) => page.getByRole('list', { name: 'Activity' }).getByRole('listitem');
const thisDevice = (page: Page) => devicesOf(page).filter({ hasText: 'This device' });

async function register(page: Page, who: { name: string; email: string; password?: string }): Promise<void> {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await heading(page, 'Create your account').waitFor();
  await page.getByLabel('Name (optional)').fill(who.name);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password ?? PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await heading(page, 'Your account').waitFor();
}

async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await heading(page, 'Sign in').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signedIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await signIn(page, email, password);
  await heading(page, 'Your account').waitFor();
}

/** The session id of the device the page runs on, as its own list says. */
async function ownSessionId(page: Page): Promise<string> {
  const id = await thisDevice(page).getAttribute('data-session-id');
  expect(id).toMatch(/\S/);
  return id!;
}

async function sessionIdsListed(page: Page): Promise<string[]> {
  return devicesOf(page).evaluateAll((items) => items.map((item) => item.getAttribute('data-session-id') ?? ''));
}

/** A poll of the devices list (GET /v1/me/sessions), as the page sends it. */
const isListPoll = (response: Response) => new URL(response.url()).pathname === '/v1/me/sessions' && response.request().method() === 'GET';

/**
 * Moves the clock of the page's browser (opened with `clock: true`) on by one poll period, as if
 * 5 s had passed: the poll due by then goes at once, instead of when the period is up. Only
 * that far, so a page that polled less often would not poll, as it would not in real time. A poll
 * on its way just then is not sent twice: the page schedules the next one when it is answered,
 * and that one goes on time (5 s later), which every wait for a poll here allows for.
 */
const pollNow = (page: Page) => page.clock.fastForward(POLL_MS);

/** Waits for the signed-out sign-in form with its explanation (the page learns of it by polling). */
async function bouncedToSignIn(page: Page): Promise<void> {
  await heading(page, 'Sign in').waitFor({ timeout: POLL_BOUND_MS });
  await page
    .getByRole('alert')
    .filter({ hasText: /signed out/i })
    .waitFor({ timeout: 1000 });
}

/**
 * Has the page record every state its devices list is in from now on (the session ids in order,
 * at each change, into `window.__listStates`): what a person could have seen, however briefly.
 */
const RECORD_LIST_STATES = `(() => {
  const list = document.getElementById('devices');
  const states = (window.__listStates = []);
  window.__listObserver?.disconnect();
  window.__listObserver = new MutationObserver(() => states.push([...list.children].map((item) => item.dataset.sessionId)));
  window.__listObserver.observe(list, { childList: true });
})()`;

/** A mark that only a reload or a navigation can take away. */
const markPage = (page: Page) => page.evaluate('window.__notReloaded = true');
const stillMarked = (page: Page) => page.evaluate('window.__notReloaded === true');

interface Gatehouse {
  server: RunningServer;
  base: string;
  close(): Promise<void>;
}

async function withServer(env: Record<string, string> = {}): Promise<Gatehouse> {
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  const server = await startServer(cwd, { DATABASE_URL: `sqlite:${join(cwd, 'gatehouse.db')}`, LOG_LEVEL: 'info', ...env });
  return {
    server,
    base: server.url,
    close: async () => {
      await server.stop();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** The servers asked for with `serverOfItsOwn`, each started (once) by `start()`. */
const servers: { start(): Promise<Gatehouse>; started?: Promise<Gatehouse> }[] = [];

/**
 * A server of its own, with its own settings and database, for a group of tests (or one test),
 * asked for as the group is defined; the function resolves to it. All of them start together,
 * in the file's first hook while Chromium starts, and stop together in its last: one after
 * another, as each group came, they took about 1.5 s each to start and 1 s to stop.
 */
function serverOfItsOwn(env: Record<string, string> = {}): () => Promise<Gatehouse> {
  const entry: (typeof servers)[number] = { start: () => (entry.started ??= withServer(env)) };
  servers.push(entry);
  return entry.start;
}

/** The requests the server has logged (method, path, status) from `from` on. */
function logged(server: RunningServer, from: number): { method: string; path: string; status: number }[] {
  return server.logs.slice(from).flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; method: string; path: string; status: number };
      return entry.msg === 'request' ? [{ method: entry.method, path: entry.path, status: entry.status }] : [];
    } catch {
      return [];
    }
  });
}

/** The account's active sessions, as the API lists them to a sign-in on another device (left out). */
async function activeSessionIdsOf(base: string, email: string): Promise<string[]> {
  // Another user agent than the browser's: a sign-in from the same device would replace its session.
  const signIn = await call(base, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
  expect(signIn.status).toBe(200);
  const listed = await call(base, 'GET', '/v1/me/sessions', { token: signIn.body.access_token });
  return (listed.body.sessions as { id: string }[]).map((session) => session.id).filter((id) => id !== signIn.body.session.id);
}

describe.skipIf(!executablePath)(`the devices page in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    await Promise.all([
      chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] }).then((launched) => (browser = launched)),
      ...servers.map((server) => server.start()),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(
      servers.map((server) =>
        server.started?.then(
          (gatehouse) => gatehouse.close(),
          () => {},
        ),
      ),
    );
  });
  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  describe('two devices signed in as one person', () => {
    let gatehouse: Gatehouse;
    let laptop: Device;
    let phone: Device;
    const person = { name: 'Astrid Lindqvist', email: 'astrid@example.com' };
    const ownServer = serverOfItsOwn({ GATEHOUSE_TRUST_PROXY: 'true' });

    beforeAll(async () => {
      gatehouse = await ownServer();
      [laptop, phone] = await Promise.all([
        openDevice(gatehouse.base, { userAgent: USER_AGENTS.chromeWindows, viewport: { width: 1280, height: 800 }, ip: AT_HOME, clock: true }),
        openDevice(gatehouse.base, {
          userAgent: USER_AGENTS.safariIphone,
          viewport: { width: 360, height: 740 },
          isMobile: true,
          hasTouch: true,
          ip: ABROAD,
          clock: true,
        }),
      ]);
    });
    afterAll(async () => {
      await laptop?.context.close();
      await phone?.context.close();
    });

    it('lets a person create an account on the laptop and sign in on the phone; each lists both, with "This device" on its own', async () => {
      await register(laptop.page, person);
      await signIn(phone.page, person.email, 'not the password');
      await phone.page.getByRole('alert').filter({ hasText: /\S/ }).waitFor();
      await signedIn(phone.page, person.email);

      const laptopId = await ownSessionId(laptop.page);
      const phoneId = await ownSessionId(phone.page);
      expect(laptopId).not.toBe(phoneId);
      // The laptop's page was open before the phone signed in: its next poll brings the phone in.
      await pollNow(laptop.page);
      await expect.poll(() => sessionIdsListed(laptop.page), { timeout: POLL_BOUND_MS }).toEqual(expect.arrayContaining([laptopId, phoneId]));
      expect((await sessionIdsListed(phone.page)).sort()).toEqual([laptopId, phoneId].sort());
      for (const { page, own, other } of [
        { page: laptop.page, own: laptopId, other: phoneId },
        { page: phone.page, own: phoneId, other: laptopId },
      ]) {
        await expect.poll(() => devicesOf(page).count(), SOON).toBe(2);
        await expect.poll(() => thisDevice(page).count(), SOON).toBe(1);
        expect(await thisDevice(page).getAttribute('data-session-id')).toBe(own);
        const otherItem = page.locator(`li[data-session-id="${other}"]`);
        expect(await otherItem.textContent()).not.toContain('This device');
        // Only other devices can be signed out from the list (this one has the header button).
        expect(await otherItem.getByRole('button', { name: /^Sign out / }).count()).toBe(1);
        expect(
          await thisDevice(page)
            .getByRole('button', { name: /^Sign out / })
            .count(),
        ).toBe(0);
      }
      // Each device is described by what the server made of its user agent and address.
      expect(await laptop.page.locator(`li[data-session-id="${phoneId}"]`).textContent()).toMatch(/Safari/);
      expect(await phone.page.locator(`li[data-session-id="${laptopId}"]`).textContent()).toMatch(/Chrome/);
      expect(await laptop.page.locator(`li[data-session-id="${phoneId}"]`).textContent()).toContain(ABROAD);
    });

    it('keeps the refresh token in an HttpOnly, SameSite=Lax cookie that scripts cannot read', async () => {
      const cookies = await laptop.context.cookies(gatehouse.base);
      expect(cookies.map((cookie) => cookie.name)).toEqual(['gatehouse_refresh']);
      const [cookie] = cookies;
      // Over plain http neither Secure nor the __Host- prefix: browsers would drop such a cookie.
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false, domain: '127.0.0.1' });
      expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000 + 3600);
      expect(cookie!.value).toMatch(/^[\w-]+\.[\w-]+$/);
      for (const device of [laptop, phone]) {
        expect(await device.page.evaluate('document.cookie')).not.toContain('gatehouse_refresh');
        // Neither token is kept where a script (or the next person at the computer) finds it.
        const storage = (await device.page.evaluate('JSON.stringify([localStorage, sessionStorage])')) as string;
        expect(storage).not.toMatch(/eyJ|gatehouse_refresh/);
        expect(storage).not.toContain(cookie!.value.split('.')[1]);
      }
    });

    it("shows both sign-ins in the recent activity, the phone's marked as a new device", async () => {
      await phone.page.reload();
      await heading(phone.page, 'Your account').waitFor();
      const signIns = activityOf(phone.page).and(phone.page.locator('[data-event-type="signed_in"]'));
      await expect.poll(() => signIns.count(), SOON).toBe(2);
      // Newest first: the phone's sign-in, from a device the account had not used, then the laptop's.
      expect(await signIns.nth(0).textContent()).toContain('New device');
      expect(await signIns.nth(1).textContent()).not.toContain('New device');
      expect(await activityOf(phone.page).and(phone.page.locator('[data-event-type="sign_in_failed"]')).count()).toBe(1);
    });

    it.runIf(updateScreenshots)('saves screenshots of the account page at desktop and phone width (UPDATE_SCREENSHOTS=1)', async () => {
      const dir = resolve('docs/screenshots');
      mkdirSync(dir, { recursive: true });
      await laptop.page.reload();
      await heading(laptop.page, 'Your account').waitFor();
      await expect.poll(() => devicesOf(laptop.page).count(), SOON).toBe(2);
      await expect.poll(() => activityOf(laptop.page).count(), SOON).toBeGreaterThanOrEqual(3);
      await laptop.page.screenshot({ path: join(dir, 'account-desktop.png'), animations: 'disabled', caret: 'hide' });

      await phone.page.setViewportSize({ width: 390, height: 844 });
      await phone.page.reload();
      await heading(phone.page, 'Your account').waitFor();
      await expect.poll(() => devicesOf(phone.page).count(), SOON).toBe(2);
      await phone.page.screenshot({ path: join(dir, 'account-phone.png'), animations: 'disabled', caret: 'hide' });
      await phone.page.setViewportSize({ width: 360, height: 740 });
      await phone.page.reload();
      await heading(phone.page, 'Your account').waitFor();
    });

    it('fits a phone 360 px wide: no sideways scrolling on the account page or the sign-in form', async () => {
      const fits = async (page: Page) => {
        const [width, scrollWidth] = (await page.evaluate('[window.innerWidth, document.documentElement.scrollWidth]')) as [number, number];
        // 360, not 980: the page declares a device-width viewport.
        expect(width).toBe(360);
        expect(scrollWidth).toBeLessThanOrEqual(width);
      };
      await fits(phone.page);

      const stranger = await openDevice(gatehouse.base, {
        userAgent: USER_AGENTS.safariIphone,
        viewport: { width: 360, height: 740 },
        isMobile: true,
        hasTouch: true,
      });
      try {
        await heading(stranger.page, 'Sign in').waitFor();
        await fits(stranger.page);
        await stranger.page.getByRole('button', { name: 'Create an account' }).click();
        await heading(stranger.page, 'Create your account').waitFor();
        await fits(stranger.page);
      } finally {
        await stranger.context.close();
      }
    });

    it("signs the phone out from the laptop: the phone returns to the sign-in form without a reload, and leaves the laptop's list", async () => {
      const phoneId = await ownSessionId(phone.page);
      const laptopId = await ownSessionId(laptop.page);
      await markPage(phone.page);
      await markPage(laptop.page);

      const item = laptop.page.locator(`li[data-session-id="${phoneId}"]`);
      const button = item.getByRole('button', { name: /^Sign out / });
      // The button names the device it signs out, as the list shows it ("Sign out Safari 17 on iOS").
      const label = /button "Sign out (.+)"/.exec(await button.ariaSnapshot())?.[1];
      expect(label).toBeTruthy();
      expect(await item.textContent()).toContain(label);
      const signedOut = laptop.page.waitForResponse((response) => response.request().method() === 'DELETE' && response.url().includes(phoneId));
      await button.click();
      expect((await signedOut).status()).toBe(204);

      // The phone learns of it by its next poll, sent once the sign-out is done.
      await pollNow(phone.page);
      await bouncedToSignIn(phone.page);
      expect(await stillMarked(phone.page)).toBe(true);
      const [width, scrollWidth] = (await phone.page.evaluate('[window.innerWidth, document.documentElement.scrollWidth]')) as [number, number];
      expect(scrollWidth).toBeLessThanOrEqual(width);
      // Signed out means signed out: the browser no longer holds a refresh token.
      expect(await phone.context.cookies(gatehouse.base)).toEqual([]);

      await expect.poll(() => sessionIdsListed(laptop.page), { timeout: POLL_BOUND_MS }).toEqual([laptopId]);
      expect(await stillMarked(laptop.page)).toBe(true);
    });

    it('changes the password from the page, and the new one signs in', async () => {
      const page = laptop.page;
      await page.getByLabel('Current password').fill(PASSWORD);
      await page.getByLabel('New password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Change password', exact: true }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /password/i })
        .waitFor();
      // The laptop that changed it stays signed in.
      await heading(page, 'Your account').waitFor();

      expect((await call(gatehouse.base, 'POST', '/v1/auth/login', { body: { email: person.email, password: PASSWORD } })).status).toBe(401);
      await signedIn(phone.page, person.email, NEW_PASSWORD);
      await expect.poll(() => devicesOf(phone.page).count(), SOON).toBe(2);
    });

    it('signs this device out with the header button', async () => {
      await laptop.page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await heading(laptop.page, 'Sign in').waitFor();
      expect(await laptop.context.cookies(gatehouse.base)).toEqual([]);
      await laptop.page.reload();
      await heading(laptop.page, 'Sign in').waitFor();
      await phone.page.reload();
      await heading(phone.page, 'Your account').waitFor();
      await expect.poll(() => devicesOf(phone.page).count(), SOON).toBe(1);
    });
  });

  describe('signing out all other devices', () => {
    let gatehouse: Gatehouse;
    let laptop: Device;
    let phone: Device;
    const REAUTH_WINDOW_S = 2;
    // A sign-in counts as fresh for 2 s here, instead of 10 minutes: the test waits it out (on
    // the server's clock, which a test cannot move).
    const ownServer = serverOfItsOwn({ GATEHOUSE_REAUTH_WINDOW: String(REAUTH_WINDOW_S) });

    beforeAll(async () => {
      gatehouse = await ownServer();
      const registered = await call(gatehouse.base, 'POST', '/v1/auth/register', { body: { email: 'sam@example.com', password: PASSWORD, name: 'Sam' } });
      expect(registered.status).toBe(201);
      [laptop, phone] = await Promise.all([
        openDevice(gatehouse.base, { userAgent: USER_AGENTS.firefoxUbuntu }),
        openDevice(gatehouse.base, { userAgent: USER_AGENTS.safariIphone, viewport: { width: 390, height: 844 }, isMobile: true, clock: true }),
      ]);
    });
    afterAll(async () => {
      await laptop?.context.close();
      await phone?.context.close();
    });

    it('asks for the password when the sign-in is no longer fresh, and signs the others out once it is confirmed', async () => {
      // The phone lies still, its clock stopped (after a jump of 10 s on the sign-in form, where no
      // timer waits): it does not poll, so only the reload below tells it it was signed out. Were
      // it to poll in between, as it did when this test ran slowly under load, it would learn of
      // it then, and drop its cookie, leaving the reload nothing to explain.
      await phone.page.clock.pauseAt(Date.now() + 10_000);
      await signedIn(phone.page, 'sam@example.com');
      await signedIn(laptop.page, 'sam@example.com');
      const signedInAt = performance.now();
      const laptopId = await ownSessionId(laptop.page);
      await expect.poll(() => devicesOf(laptop.page).count(), SOON).toBe(2);
      const waitOut = REAUTH_WINDOW_S * 1000 + 500 - (performance.now() - signedInAt);
      if (waitOut > 0) await sleep(waitOut);

      const signOutOthers = laptop.page.getByRole('button', { name: 'Sign out all other devices' });
      const dialog = laptop.page.getByRole('dialog');
      await signOutOthers.click();
      await dialog.getByRole('heading', { name: 'Confirm your password' }).waitFor();
      // Cancelling changes nothing.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await devicesOf(laptop.page).count()).toBe(2);

      await signOutOthers.click();
      await dialog.getByRole('heading', { name: 'Confirm your password' }).waitFor();
      await dialog.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.waitFor({ state: 'hidden' });

      await expect.poll(() => sessionIdsListed(laptop.page), SOON).toEqual([laptopId]);
      await laptop.page
        .getByRole('status')
        .filter({ hasText: /signed out/i })
        .waitFor();
      // The phone is signed out (its page noticing by itself is the test above): a reload says so at once.
      await phone.page.reload();
      await heading(phone.page, 'Sign in').waitFor();
      await phone.page
        .getByRole('alert')
        .filter({ hasText: /signed out/i })
        .waitFor();
      expect(await phone.context.cookies(gatehouse.base)).toEqual([]);
    });
  });

  describe('two accounts in two tabs of one browser', () => {
    const ann = { email: 'ann@example.com', name: 'Ann' };
    const bob = { email: 'bob@example.com', name: 'Bob' };
    // Each test has a server of its own.
    const plainServer = serverOfItsOwn();
    // Short-lived access tokens: the page renews a quarter of the lifetime early, after 6 s.
    const shortTokenServer = serverOfItsOwn({ GATEHOUSE_ACCESS_TOKEN_TTL: '8' });
    let browserOfBoth: Device | undefined;
    afterEach(async () => {
      await browserOfBoth?.context.close();
      browserOfBoth = undefined;
    });

    /**
     * A server with Ann's and Bob's accounts, and one browser with two tabs open on the sign-in
     * form: Ann signs in in tab A, then Bob in tab B, which replaces the browser's one refresh
     * cookie with his. Ann's tab keeps her access token.
     */
    async function annThenBob(ownServer: () => Promise<Gatehouse>) {
      const server = await ownServer();
      const registered = await Promise.all([ann, bob].map((who) => call(server.base, 'POST', '/v1/auth/register', { body: { ...who, password: PASSWORD } })));
      for (const { status } of registered) expect(status).toBe(201);
      const browser = (browserOfBoth = await openDevice(server.base, {
        userAgent: USER_AGENTS.firefoxUbuntu,
        viewport: { width: 1280, height: 800 },
        clock: true,
      }));
      const tabA = browser.page;
      const tabB = await watchedPage(browser.context);
      await tabB.goto(server.base + '/');
      await signedIn(tabA, ann.email);
      // On this side of the sign-in, in real time: her tab started its timers before it showed her account.
      const annSignedInAt = performance.now();
      const annId = await ownSessionId(tabA);
      await signedIn(tabB, bob.email);
      const bobId = await ownSessionId(tabB);
      return { server, browser, tabA, tabB, annId, bobId, annSignedInAt, activeSessionIds: (email: string) => activeSessionIdsOf(server.base, email) };
    }

    it('signs out only Ann when she clicks "Sign out" in her tab after Bob signed in in another tab: Bob stays signed in, and his tab keeps working', async () => {
      const { server, browser, tabA, tabB, annId, bobId, activeSessionIds } = await annThenBob(plainServer);
      expect((await browser.context.cookies(server.base))[0]!.value.startsWith(`${bobId}.`)).toBe(true);
      expect(await tabA.locator('#account-who').textContent()).toContain(ann.email);

      const from = server.server.logs.length;
      // She goes back to her tab. (Chromium gives a tab behind another few animation frames, which
      // held up Playwright's wait for the button to be still by about 2 s.)
      await tabA.bringToFront();
      await tabA.getByRole('button', { name: 'Sign out', exact: true }).click();
      await heading(tabA, 'Sign in').waitFor();
      await expect
        .poll(() => logged(server.server, from).filter((entry) => entry.path === '/v1/auth/logout'), SOON)
        .toEqual([{ method: 'POST', path: '/v1/auth/logout', status: 204 }]);

      // Ann's session is the one that ended; Bob's is still active, his cookie still in the browser.
      const [annsSessions, bobsSessions] = await Promise.all([activeSessionIds(ann.email), activeSessionIds(bob.email)]);
      expect(annsSessions).not.toContain(annId);
      expect(bobsSessions).toContain(bobId);
      expect((await browser.context.cookies(server.base)).map((cookie) => cookie.value.split('.')[0])).toEqual([bobId]);

      // Bob's tab goes on working, before a reload (its next poll) and after it.
      await markPage(tabB);
      const nextPoll = tabB.waitForResponse(isListPoll, { timeout: POLL_BOUND_MS });
      await pollNow(tabB);
      const polled = await nextPoll;
      expect(polled.status()).toBe(200);
      expect(await stillMarked(tabB)).toBe(true);
      await tabB.reload();
      await heading(tabB, 'Your account').waitFor();
      expect(await ownSessionId(tabB)).toBe(bobId);
      // The cookie is the browser's, not the tab's: Ann's tab, reloaded, opens on Bob's account.
      await tabA.reload();
      await heading(tabA, 'Your account').waitFor();
      expect(await ownSessionId(tabA)).toBe(bobId);
      expect(await tabA.locator('#account-who').textContent()).toContain(bob.email);
      expect(await activeSessionIds(bob.email)).toContain(bobId);
    });

    it("does not turn Ann's tab into Bob's account when it renews its access token: it ends her session, which the browser can no longer renew, and asks her to sign in again", async () => {
      const { browser, tabA, tabB, annId, bobId, annSignedInAt, activeSessionIds } = await annThenBob(shortTokenServer);
      // Her tab renews its access token 6 s after her sign-in (a quarter of 8 s early). Rather than
      // wait, the browser's clock moves on, in the order time would pass: first her tab's poll, due
      // 5 s after her sign-in, then the renewal; up to hers, not Bob's, which comes as much later
      // as he signed in after her. The server's clock does not move: her access token is still
      // valid when her tab ends her session with it, as 6 s into its 8.
      const RENEWS_AFTER_MS = 6_000;
      const sinceSignIn = () => performance.now() - annSignedInAt;
      let movedOn = 0;
      if (sinceSignIn() < RENEWS_AFTER_MS - POLL_MS) {
        const annsPoll = tabA.waitForResponse(isListPoll, SOON);
        await pollNow(tabA);
        await annsPoll;
        movedOn = POLL_MS;
      }
      const untilRenewal = RENEWS_AFTER_MS - movedOn - sinceSignIn();
      if (untilRenewal > 0) await browser.context.clock.fastForward(Math.ceil(untilRenewal));
      // Ann's tab renews from the cookie, which is Bob's now.
      await heading(tabA, 'Sign in').waitFor({ timeout: 15_000 });
      expect(await tabA.getByRole('alert').first().textContent()).toContain('another account signed in in this browser');
      await expect.poll(() => activeSessionIds(ann.email), SOON).not.toContain(annId);
      expect(await activeSessionIds(bob.email)).toContain(bobId);
      expect(await tabB.locator('#account-who').textContent()).toContain(bob.email);
    });
  });

  describe('keeping the list right while it changes', () => {
    let gatehouse: Gatehouse;
    let laptop: Device;
    let laptopId: string;
    const email = 'kim@example.com';
    const ownServer = serverOfItsOwn();

    /** Another device signs in (through the API): its session id and access token. */
    async function signInElsewhere(userAgent: string): Promise<{ id: string; token: string }> {
      const answer = await call(gatehouse.base, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD }, headers: { 'user-agent': userAgent } });
      expect(answer.status).toBe(200);
      return { id: answer.body.session.id, token: answer.body.access_token };
    }

    /**
     * Holds the page's next poll of its list: the server answers it at once (the list as it is
     * now), the page receives that answer only once `release()` is called. `release()` then
     * resolves, once the page is done with that answer, to every state its list has been in
     * meanwhile: the session ids in order, recorded by the page itself at each change, and as
     * they are at the end. Done with it: a later poll has been answered (the page polls one at a
     * time, and sends the next only once done with the one before).
     */
    async function holdNextPoll(page: Page): Promise<{ arrived: Promise<void>; release: () => Promise<string[][]> }> {
      let letGo!: () => void;
      const released = new Promise<void>((resolve) => (letGo = resolve));
      let arrived!: (request: Request) => void;
      const held = new Promise<Request>((resolve) => (arrived = resolve));
      await page.route(
        (url) => url.pathname === '/v1/me/sessions' && url.search === '',
        async (route) => {
          if (route.request().method() !== 'GET') return route.fallback();
          const response = await route.fetch();
          arrived(route.request());
          await released;
          await route.fulfill({ response });
        },
        { times: 1 },
      );
      const release = async () => {
        const heldRequest = await held;
        await page.evaluate(RECORD_LIST_STATES);
        const later = page.waitForResponse((response) => isListPoll(response) && response.request() !== heldRequest, { timeout: POLL_BOUND_MS });
        letGo();
        await later;
        return [...((await page.evaluate('window.__listStates')) as string[][]), await sessionIdsListed(page)];
      };
      return { arrived: held.then(() => {}), release };
    }

    beforeAll(async () => {
      gatehouse = await ownServer();
      expect((await call(gatehouse.base, 'POST', '/v1/auth/register', { body: { email, password: PASSWORD, name: 'Kim' } })).status).toBe(201);
      laptop = await openDevice(gatehouse.base, { userAgent: USER_AGENTS.chromeWindows, viewport: { width: 1280, height: 800 }, clock: true });
      await signedIn(laptop.page, email);
      laptopId = await ownSessionId(laptop.page);
    });
    afterAll(async () => {
      await laptop?.context.close();
    });

    it('keeps a device signed out here off the list, even when a poll sent before the sign-out answers after it', async () => {
      const page = laptop.page;
      const firefox = await signInElsewhere(USER_AGENTS.firefoxUbuntu);
      const iphone = await signInElsewhere(USER_AGENTS.safariIphone);
      // This device first, then the others by their last activity.
      await pollNow(page);
      await expect.poll(async () => (await sessionIdsListed(page)).slice(1).sort(), { timeout: POLL_BOUND_MS }).toEqual([firefox.id, iphone.id].sort());
      expect((await sessionIdsListed(page))[0]).toBe(laptopId);

      const held = await holdNextPoll(page);
      await pollNow(page);
      await held.arrived; // a poll is on its way, with firefox still in it
      const signedOut = page.waitForResponse((response) => response.request().method() === 'DELETE' && response.url().includes(firefox.id));
      await page
        .locator(`li[data-session-id="${firefox.id}"]`)
        .getByRole('button', { name: /^Sign out / })
        .click();
      expect((await signedOut).status()).toBe(204);
      await expect.poll(() => sessionIdsListed(page), SOON).toEqual([laptopId, iphone.id]);
      // The answer that was on its way does not bring firefox back, not even for a moment.
      for (const state of await held.release()) expect(state).toEqual([laptopId, iphone.id]);
      await page.unrouteAll();
    });

    it('keeps focus on the same control when a poll reorders and updates the list', async () => {
      const page = laptop.page;
      const firefox = await signInElsewhere(USER_AGENTS.firefoxUbuntu);
      const iphone = await signInElsewhere(USER_AGENTS.safariIphone);
      await pollNow(page);
      await expect.poll(() => sessionIdsListed(page), { timeout: POLL_BOUND_MS }).toEqual(expect.arrayContaining([firefox.id, iphone.id]));
      const before = await sessionIdsListed(page);
      const [, first, second] = before;
      const rest = before.slice(3);

      // The focused device is the one that moves (moving an element takes focus off it).
      const button = page.locator(`li[data-session-id="${second}"]`).getByRole('button', { name: /^Sign out / });
      await button.focus();
      // The next answer lists the other devices the other way round, the focused one active just now.
      let served = false;
      await page.route(
        (url) => url.pathname === '/v1/me/sessions' && url.search === '',
        async (route) => {
          const response = await route.fetch();
          const body = (await response.json()) as { sessions: { id: string; current: boolean; last_active_at: string }[] };
          body.sessions.sort((a, b) => Number(b.current) - Number(a.current) || (a.id === first ? 1 : b.id === first ? -1 : 0));
          for (const session of body.sessions) if (session.id === second) session.last_active_at = new Date().toISOString();
          served = true;
          await route.fulfill({ response, json: body });
        },
        { times: 1 },
      );
      await pollNow(page);
      await expect.poll(() => served, { timeout: POLL_BOUND_MS }).toBe(true);
      await expect.poll(() => sessionIdsListed(page), SOON).toEqual([laptopId, second, ...rest, first]);
      // Strings, as elsewhere in this file: the test's TypeScript has no DOM types.
      const focused = () => page.evaluate("document.activeElement?.closest('li')?.getAttribute('data-session-id') ?? document.activeElement?.tagName");
      expect(await focused()).toBe(second);
      expect(await page.evaluate('document.activeElement?.tagName')).toBe('BUTTON');
      await page.unrouteAll();
    });

    it('says politely when a device is signed out elsewhere', async () => {
      const page = laptop.page;
      const { id: gone } = await signInElsewhere(USER_AGENTS.firefoxUbuntu);
      const elsewhere = await signInElsewhere(USER_AGENTS.safariIphone);
      await pollNow(page);
      await expect.poll(() => sessionIdsListed(page), { timeout: POLL_BOUND_MS }).toEqual(expect.arrayContaining([gone, elsewhere.id]));
      const label = await page.locator(`li[data-session-id="${gone}"] .device-label strong`).textContent();
      expect((await call(gatehouse.base, 'DELETE', `/v1/me/sessions/${gone}`, { token: elsewhere.token })).status).toBe(204);
      const announcer = page.locator('#announcer');
      await pollNow(page);
      await expect.poll(() => announcer.textContent(), { timeout: POLL_BOUND_MS }).toContain(`${label} was signed out.`);
      expect(await announcer.getAttribute('aria-live')).toBe('polite');
      // The lists themselves stay quiet.
      expect(await page.locator('#devices[aria-live], #activity[aria-live]').count()).toBe(0);
    });

    it('shows only this device as soon as "Sign out all other devices" is done, whatever poll was on its way', async () => {
      const page = laptop.page;
      await signInElsewhere(USER_AGENTS.firefoxUbuntu);
      await pollNow(page);
      await expect.poll(() => devicesOf(page).count(), { timeout: POLL_BOUND_MS }).toBeGreaterThanOrEqual(3);

      const held = await holdNextPoll(page);
      await pollNow(page);
      await held.arrived;
      const done = page.waitForResponse((response) => response.request().method() === 'DELETE' && response.url().includes('scope=others'));
      await page.getByRole('button', { name: 'Sign out all other devices' }).click();
      expect((await done).status()).toBe(200);
      await expect.poll(() => sessionIdsListed(page), { timeout: 1000 }).toEqual([laptopId]);
      // The answer that was on its way does not bring the others back, not even for a moment.
      for (const state of await held.release()) expect(state).toEqual([laptopId]);
      await page
        .getByRole('status')
        .filter({ hasText: /signed out/i })
        .waitFor();
      await page.unrouteAll();
    });

    it('stays signed in, and says so, when "Sign out" cannot reach Gatehouse', async () => {
      const page = laptop.page;
      await page.route('**/v1/auth/logout', (route) => route.abort());
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /still signed in/i })
        .waitFor();
      await heading(page, 'Your account').waitFor();
      // Still working: the next poll goes out with a token and is answered.
      const nextPoll = page.waitForResponse(isListPoll, { timeout: POLL_BOUND_MS });
      await pollNow(page);
      const polled = await nextPoll;
      expect(polled.status()).toBe(200);
      expect(await sessionIdsListed(page)).toEqual([laptopId]);
      expect(await laptop.context.cookies(gatehouse.base)).toHaveLength(1);
      await page.unrouteAll();
      // Chromium logs the aborted request; it is what this test asked for.
      problems.splice(0, problems.length, ...problems.filter((problem) => !/ERR_FAILED|net::/.test(problem)));

      await page.reload();
      await heading(page, 'Your account').waitFor();
      expect(await ownSessionId(page)).toBe(laptopId);
      // Once Gatehouse is reachable, the same button signs out.
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await heading(page, 'Sign in').waitFor();
      expect(await laptop.context.cookies(gatehouse.base)).toEqual([]);
    });
  });

  describe('requests forged by another site', () => {
    let gatehouse: Gatehouse;
    let victim: Device;
    let attacker: Server;
    let attackerPort: number;
    let victimSession: string;
    const ownServer = serverOfItsOwn();

    beforeAll(async () => {
      gatehouse = await ownServer();
      expect((await call(gatehouse.base, 'POST', '/v1/auth/register', { body: { email: 'vic@example.com', password: PASSWORD } })).status).toBe(201);
      // The attacker's site: any page that the victim's browser opens, on another origin.
      attacker = createServer((request, response) => {
        const url = new URL(request.url ?? '/', 'http://attacker');
        const action = url.searchParams.get('action');
        const enctype = url.searchParams.get('enctype') ?? 'application/x-www-form-urlencoded';
        const form = action
          ? `<form method="POST" action="${escapeHtml(action)}" enctype="${escapeHtml(enctype)}">` +
            `<input type="hidden" name='{"refresh_token":"' value='cookie"}'></form><script>document.forms[0].submit()</script>`
          : '';
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<!doctype html><title>You won a prize</title><h1>You won a prize</h1>${form}`);
      });
      attacker.listen(0, '127.0.0.1');
      await once(attacker, 'listening');
      attackerPort = (attacker.address() as AddressInfo).port;

      victim = await openDevice(gatehouse.base, { userAgent: USER_AGENTS.chromeWindows });
      await signedIn(victim.page, 'vic@example.com');
      victimSession = await ownSessionId(victim.page);
    });
    afterAll(async () => {
      await victim?.context.close();
      attacker?.close();
    });

    /** The victim's page still works after a reload (the cookie still refreshes), with its session listed. */
    async function victimStillSignedIn(): Promise<void> {
      await victim.page.reload();
      await heading(victim.page, 'Your account').waitFor();
      expect(await ownSessionId(victim.page)).toBe(victimSession);
      expect(await victim.context.cookies(gatehouse.base)).toHaveLength(1);
    }

    // 127.0.0.1 and localhost are different sites: SameSite keeps the cookie off the first
    // kind; another port on the same host is the same site but another origin, so there the
    // cookie goes along and only the server's own check (Sec-Fetch-Site, Origin) stops it.
    const attackers = [
      { kind: 'another site', host: 'localhost' },
      { kind: 'another origin on the same site', host: '127.0.0.1' },
    ];

    for (const { kind, host } of attackers) {
      it(`refuses a script on ${kind} that posts to refresh and logout with the browser's cookie`, async () => {
        const page = await victim.context.newPage();
        try {
          await page.goto(`http://${host}:${attackerPort}/`);
          const forge = (path: string, mode: 'cors' | 'no-cors') =>
            page.evaluate(
              async ({ url, mode }) => {
                try {
                  const init: RequestInit = { method: 'POST', mode, credentials: 'include' };
                  if (mode === 'cors') init.headers = { 'Gatehouse-Refresh-Token': 'cookie' };
                  const answer = await fetch(url, init);
                  return answer.type === 'opaque' ? 'opaque' : `${answer.status} ${await answer.text()}`;
                } catch (error) {
                  return String(error);
                }
              },
              { url: gatehouse.base + path, mode },
            );

          // With the header the browser asks first (CORS preflight); Gatehouse allows no other
          // origin, so the POST is never sent.
          let from = gatehouse.server.logs.length;
          for (const path of ['/v1/auth/refresh', '/v1/auth/logout']) expect(await forge(path, 'cors')).toMatch(/^TypeError/);
          await expect.poll(() => logged(gatehouse.server, from).filter((entry) => entry.method === 'OPTIONS'), SOON).toHaveLength(2);
          expect(logged(gatehouse.server, from).filter((entry) => entry.method === 'POST')).toEqual([]);

          // Without the header ("no-cors") the POST goes, but it is no browser-mode request: the
          // cookie is not used, and the answer is an error, not a token.
          from = gatehouse.server.logs.length;
          for (const path of ['/v1/auth/refresh', '/v1/auth/logout']) expect(await forge(path, 'no-cors')).toBe('opaque');
          await expect.poll(() => logged(gatehouse.server, from).filter((entry) => entry.method === 'POST'), SOON).toHaveLength(2);
          for (const entry of logged(gatehouse.server, from).filter((e) => e.method === 'POST')) expect(entry.status).toBeGreaterThanOrEqual(400);

          // Were a proxy in front to answer the preflight permissively, the browser would send
          // the real request, cookie and all on the same site: Gatehouse itself refuses it.
          await page.route(`${gatehouse.base}/**`, (route) => route.continue());
          from = gatehouse.server.logs.length;
          for (const path of ['/v1/auth/refresh', '/v1/auth/logout']) expect(await forge(path, 'cors')).toMatch(/^TypeError/);
          await expect.poll(() => logged(gatehouse.server, from).filter((entry) => entry.method === 'POST'), SOON).toHaveLength(2);
          expect(logged(gatehouse.server, from).filter((entry) => entry.method === 'POST')).toEqual([
            { method: 'POST', path: '/v1/auth/refresh', status: 403 },
            { method: 'POST', path: '/v1/auth/logout', status: 403 },
          ]);
          await page.unrouteAll();
        } finally {
          await page.close();
        }
        await victimStillSignedIn();
      });

      it(`refuses forms on ${kind} that post to logout and refresh`, async () => {
        const page = await victim.context.newPage();
        try {
          for (const [path, enctype] of [
            ['/v1/auth/logout', 'application/x-www-form-urlencoded'],
            ['/v1/auth/logout', 'text/plain'],
            ['/v1/auth/refresh', 'application/x-www-form-urlencoded'],
            ['/v1/auth/refresh', 'text/plain'],
          ] as const) {
            const target = gatehouse.base + path;
            const answered = page.waitForResponse((response) => response.url() === target && response.request().method() === 'POST');
            await page.goto(`http://${host}:${attackerPort}/?${new URLSearchParams({ action: target, enctype })}`);
            const answer = await answered;
            expect(answer.status(), `${path} as ${enctype}`).toBeGreaterThanOrEqual(400);
            expect(answer.status()).toBeLessThan(500);
            expect(await answer.text()).not.toContain('access_token');
            expect(answer.headers()['set-cookie']).toBeUndefined();
          }
        } finally {
          await page.close();
        }
        await victimStillSignedIn();
      });
    }
  });
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
