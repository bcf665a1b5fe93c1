import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { PASSWORD, USER_AGENTS } from './app.js';
import { startServer, type RunningServer } from './server-process.js';

/**
 * Gatehouse's pages in Chromium, as the browser tests (test/web/*.browser.test.ts) drive them:
 * pages watched for problems, a browser of their own per device, and the built server they run
 * against. Each test file expects none of the problems after each test, so a page that logs an
 * error, breaks its own CSP or gets a 5xx fails the test that made it, not a later one.
 */

/**
 * Reports CSP violations as console errors, which the watch collects: console messages alone can
 * miss some, and a page that breaks its own CSP looks fine until the blocked part is needed.
 */
export const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`;

export interface PageWatch {
  /** Console errors, uncaught exceptions, CSP violations and 5xx answers seen by Gatehouse's pages. */
  problems: string[];
  /** A new page in `context`, whose problems go into `problems`. */
  watchedPage(context: BrowserContext): Promise<Page>;
}

/**
 * Watches the pages a test file opens. Chromium logs every 4xx fetch as a console error, and a
 * page shows some 4xx answers on purpose (a wrong password, a spent link): `expectedStatuses`
 * are those the file's pages expect, which each file lists with why, so that any other 4xx it
 * logs is a problem.
 */
export function watchPages({ expectedStatuses }: { expectedStatuses: number[] }): PageWatch {
  const expected = new RegExp(`^Failed to load resource: the server responded with a status of (?:${expectedStatuses.join('|')})\\b`);
  const problems: string[] = [];
  async function watchedPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await page.addInitScript(REPORT_CSP_VIOLATIONS);
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      if (expected.test(message.text())) return;
      problems.push(`console error on ${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 500) problems.push(`${response.status()} for ${response.request().method()} ${response.url()}`);
    });
    return page;
  }
  return { problems, watchedPage };
}

/** One device: a browser context of its own (cookies, storage) and the page opened in it. */
export interface Device {
  context: BrowserContext;
  page: Page;
}

export interface WatchedBrowser extends PageWatch {
  /** Starts Chromium (headless; no sandbox, as the tests may run as root). */
  launch(executablePath: string | undefined): Promise<void>;
  /** A device of its own, opened at `url`; `clock`: its pages run on Playwright's clock, installed before they load. */
  openDevice(url: string, options?: { clock?: boolean }): Promise<Device>;
  /** Closes every device opened, then Chromium. */
  close(): Promise<void>;
}

/**
 * Chromium for a test file whose devices are all alike (a desktop Firefox on Ubuntu, as far as
 * Gatehouse can tell), with every page watched as `watchPages` says. It keeps the devices it
 * opens, so that the file's last hook closes them all with `close()`.
 */
export function watchedBrowser(watch: { expectedStatuses: number[] }): WatchedBrowser {
  const { problems, watchedPage } = watchPages(watch);
  const devices: Device[] = [];
  let browser: Browser | undefined;
  return {
    problems,
    watchedPage,
    async launch(executablePath) {
      browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
    },
    async openDevice(url, { clock = false } = {}) {
      const context = await browser!.newContext({ userAgent: USER_AGENTS.firefoxUbuntu, viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(10_000);
      if (clock) await context.clock.install();
      const page = await watchedPage(context);
      await page.goto(url);
      const device = { context, page };
      devices.push(device);
      return device;
    },
    async close() {
      for (const device of devices) await device.context.close();
      await browser?.close();
    },
  };
}

/** The heading named `name` exactly: how a person tells which view the page shows. */
export const heading = (page: Page, name: string) => page.getByRole('heading', { name, exact: true });

/** Fills in and sends the sign-in form, once it shows; what follows is the test's to wait for. */
export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await heading(page, 'Sign in').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The page polls its sessions every 5 s (POLL_MS in src/web/public/devices.js). */
const POLL_MS = 5_000;

/**
 * Moves the clock of a device opened with `clock: true` on by one poll period, and waits for the
 * sign-in form with the page's word that it was signed out: how a device signed out elsewhere
 * learns of it, without the test waiting for the poll in real time (the server's clock is never
 * moved).
 */
export async function signedOutByNextPoll(page: Page): Promise<void> {
  await page.clock.fastForward(POLL_MS);
  await heading(page, 'Sign in').waitFor();
  await page
    .getByRole('alert')
    .filter({ hasText: /signed out/i })
    .waitFor();
}

/**
 * The API requests a page sends while `action` runs: how a test shows that opening an emailed
 * link spends nothing (a mail scanner may open it), or that a button sends just one request.
 */
export async function apiRequestsDuring(page: Page, action: () => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  const listen = (request: Request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/v1/')) sent.push(`${request.method()} ${pathname}`);
  };
  page.on('request', listen);
  try {
    await action();
  } finally {
    page.off('request', listen);
  }
  return sent;
}

/**
 * A port free just now: the server is told it in advance, so that GATEHOUSE_PUBLIC_URL, which
 * the mailed links are on, is the address the browser opens.
 */
export async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** A built Gatehouse server running for the browser, with `close()` to stop it and remove its files. */
export interface Gatehouse {
  server: RunningServer;
  base: string;
  close(): Promise<void>;
}

/**
 * A built Gatehouse server (dist/server.js, as `npm start` runs it) in a directory of its own,
 * with a SQLite database there: the pages are tested as they are served, and each server's
 * accounts are its own. `env` adds to or overrides the settings.
 */
export async function withServer(env: Record<string, string>): Promise<Gatehouse> {
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

/**
 * A server that mails through `smtp`, on a port chosen in advance (`freePort`), so that the links
 * it mails are on the address the browser opens them at.
 */
export async function withMailServer(smtp: { url: string }, env: Record<string, string> = {}): Promise<Gatehouse> {
  const port = await freePort();
  return withServer({ PORT: String(port), GATEHOUSE_PUBLIC_URL: `http://127.0.0.1:${port}`, GATEHOUSE_SMTP_URL: smtp.url, ...env });
}
