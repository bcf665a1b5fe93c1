import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMAIL_CHANGE_CANCEL_PAGE, EMAIL_CHANGE_PAGE, RESET_PAGE, VERIFY_PAGE } from '../../src/mail/compose.js';
import { expectProblem, startTestGatehouse, type TestGatehouse } from '../helpers/app.js';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PUBLIC_DIR = fileURLToPath(new URL('../../src/web/public/', import.meta.url));
/** Where emailed links lead (src/mail/compose.ts): the page is served there too. */
const LINK_PAGES = [RESET_PAGE, VERIFY_PAGE, EMAIL_CHANGE_PAGE, EMAIL_CHANGE_CANCEL_PAGE];

function expectSecurityHeaders(response: LightMyRequestResponse): void {
  expect(response.headers).toMatchObject({
    'content-security-policy': CSP,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  });
  expect(response.headers['content-security-policy']).not.toContain('unsafe');
}

describe('the devices page', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse('sqlite');
  });
  afterAll(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  it('serves the HTML shell at / with every security header and the exact policy', async () => {
    const response = await get('/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(response);
    expect(response.headers['strict-transport-security']).toBeUndefined(); // plain HTTP
    expect(response.body).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(response.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(response.body).toMatch(/<title>[^<]+<\/title>/);
  });

  it('references only its own assets, and carries no inline script, style or handler', async () => {
    const html = (await get('/')).body;
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).toMatch(/^\/assets\/[\w.-]+$/);
      expect((await get(url)).statusCode, url).toBe(200);
    }
    for (const script of html.match(/<script\b[^>]*>/g) ?? []) expect(script).toMatch(/\bsrc="\/assets\//);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
  });

  it('serves scripts, styles and icons with their content types, revalidated each time', async () => {
    const cases = { '/assets/app.js': 'text/javascript; charset=utf-8', '/assets/style.css': 'text/css; charset=utf-8', '/assets/icon.svg': 'image/svg+xml' };
    for (const [url, type] of Object.entries(cases)) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers.etag).toMatch(/^"[\w-]+"$/);
      expectSecurityHeaders(response);
    }
  });

  it('serves every module the page imports', async () => {
    const scripts = readdirSync(PUBLIC_DIR).filter((name) => name.endsWith('.js'));
    for (const script of scripts) {
      for (const [, imported] of readFileSync(`${PUBLIC_DIR}/${script}`, 'utf8').matchAll(/from '\.\/([\w.-]+)'/g)) {
        expect((await get(`/assets/${imported}`)).statusCode, `${script} imports ${imported}`).toBe(200);
      }
    }
  });

  it('answers 304 to a copy it already gave', async () => {
    const first = await get('/assets/app.js');
    const again = await get('/assets/app.js', { 'if-none-match': first.headers.etag as string });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect((await get('/', { 'if-none-match': 'W/"something-else"' })).statusCode).toBe(200);
  });

  it('answers HEAD like GET, without the body', async () => {
    for (const url of ['/', '/assets/style.css']) {
      const [head, full] = [await t.app.inject({ method: 'HEAD', url }), await get(url)];
      expect(head.statusCode, url).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers['content-type']).toBe(full.headers['content-type']);
      expect(head.headers['content-security-policy']).toBe(CSP);
    }
  });

  it('answers 404 problem+json for a file it does not have', async () => {
    for (const url of ['/assets/nope.js', '/assets/time.d.ts', '/assets/index.html', '/assets/']) {
      expectProblem(await get(url), 404, 'not_found');
    }
  });

  it('never reads a file named by the URL: path traversal finds nothing', async () => {
    const attempts = [
      '/assets/../package.json',
      '/assets/..%2Fpackage.json',
      '/assets/..%2F..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2fpackage.json',
      '/assets/%2E%2E/package.json',
      '/assets/..%5Cpackage.json',
      '/assets/....//package.json',
      '/assets/%252e%252e%252fpackage.json',
      '/assets/.%2F..%2Fweb%2Fpublic%2Fapp.js',
      '/assets//etc/passwd',
      '/assets/%2Fetc%2Fpasswd',
    ];
    for (const url of attempts) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(response.body, url).not.toContain('"gatehouse"');
      expect(response.body, url).not.toContain('root:');
    }
  });

  it('serves the same page, with the same ETag, at each path an emailed link leads to', async () => {
    const page = await get('/');
    for (const url of LINK_PAGES) {
      const linked = await get(url);
      expect(linked.statusCode, url).toBe(200);
      expect(linked.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expectSecurityHeaders(linked);
      expect(linked.body, url).toBe(page.body);
      expect(linked.headers.etag, url).toBe(page.headers.etag);
    }
  });

  it('serves the page at no other path: a name near a link page finds nothing', async () => {
    for (const url of ['/verify-email/', '/verify-email/x', '/verify', '/cancel-email-change.html']) {
      expect((await get(url)).statusCode, url).toBe(404);
    }
  });

  it('leaves <body> unmarked when mail is on, so the page offers "Forgot password?"', async () => {
    const html = (await get('/')).body;
    expect(html).toContain('<body>');
    expect(html).not.toContain('data-mail');
  });

  it('keeps its policy to itself: API answers are unchanged', async () => {
    const response = await get('/healthz');
    expect(response.headers['content-security-policy']).toBeUndefined();
  });

  it('ignores X-Forwarded-Proto from a proxy it does not trust: no HSTS', async () => {
    const response = await get('/', { 'x-forwarded-proto': 'https' });
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('the devices page behind a trusted TLS proxy', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse('sqlite', { trustProxy: true });
  });
  afterAll(() => t.close());

  it('sends HSTS over HTTPS only', async () => {
    const secure = await t.app.inject({ method: 'GET', url: '/', headers: { 'x-forwarded-proto': 'https' } });
    expect(secure.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expectSecurityHeaders(secure);
    const asset = await t.app.inject({ method: 'GET', url: '/assets/app.js', headers: { 'x-forwarded-proto': 'https' } });
    expect(asset.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const plain = await t.app.inject({ method: 'GET', url: '/' });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('the devices page with mail off (GATEHOUSE_MAIL=off)', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse('sqlite', { mail: { kind: 'off' } });
  });
  afterAll(() => t.close());

  it('marks <body data-mail="off"> at / and every link page, with an ETag of its own', async () => {
    const onDisk = readFileSync(`${PUBLIC_DIR}/index.html`, 'utf8');
    for (const url of ['/', ...LINK_PAGES]) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body, url).toBe(onDisk.replace('<body>', '<body data-mail="off">'));
      // Not the unmarked page's: a browser's copy from before mail was turned off is not reused.
      expect(response.headers.etag).not.toBe(`"${createHash('sha256').update(onDisk).digest('base64url').slice(0, 22)}"`);
      const again = await t.app.inject({ method: 'GET', url, headers: { 'if-none-match': response.headers.etag as string } });
      expect(again.statusCode, url).toBe(304);
    }
  });
});
