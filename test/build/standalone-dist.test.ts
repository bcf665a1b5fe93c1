import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/app.js';
import { call, startServer, type RunningServer } from '../helpers/server-process.js';

/**
 * `npm run build && rm -rf src && node dist/server.js`, on a copy: the built server with the
 * repository's package.json and dependencies (node_modules, linked) and no src/ beside it. Every
 * file it reads at run time (the devices page, the password list) must be in dist/.
 */
describe('the built server without src/', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-standalone-'));
    cpSync(resolve('dist'), join(dir, 'dist'), { recursive: true });
    cpSync(resolve('package.json'), join(dir, 'package.json'));
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
    server = await startServer(dir, {}, { argv: [join(dir, 'dist/server.js')] });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs from a directory that has no src/', () => {
    expect(existsSync(join(dir, 'src'))).toBe(false);
    expect(existsSync(join(dir, 'data', 'gatehouse.db'))).toBe(true);
  });

  it('serves the devices page and its files from dist/', async () => {
    const page = await call(server.url, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.text).toBe(readFileSync(resolve('src/web/public/index.html'), 'utf8'));
    for (const [file, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['icon.svg', 'image/svg+xml'],
    ]) {
      const asset = await call(server.url, 'GET', `/assets/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('content-type')).toBe(type);
      expect(asset.text).toBe(readFileSync(resolve('src/web/public', file!), 'utf8'));
    }
  });

  it('serves the API reference page and its stylesheet', async () => {
    const docs = await call(server.url, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/docs/style.css');
    const style = await call(server.url, 'GET', '/docs/style.css');
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(style.text).toBe(readFileSync(resolve('src/http/openapi/docs.css'), 'utf8'));
  });

  it('refuses a common password (the list is read from dist/) and hashes a good one in its worker', async () => {
    const common = await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'ann@example.com', password: 'Sunshine2024!' } });
    expect(common.status).toBe(400);
    expect(common.body).toMatchObject({ code: 'weak_password', errors: [{ detail: expect.stringContaining('10,000 most common passwords') }] });
    const registered = await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'ann@example.com', password: PASSWORD } });
    expect(registered.status).toBe(201);
    const login = await call(server.url, 'POST', '/v1/auth/login', { body: { email: 'ann@example.com', password: PASSWORD } });
    expect(login.status).toBe(200);
  });

  it('does not start without its password list, rather than accept every common password', async () => {
    await server.stop();
    rmSync(join(dir, 'dist/passwords/common-passwords.txt'));
    await expect(startServer(dir, {}, { argv: [join(dir, 'dist/server.js')] })).rejects.toThrow(/common-passwords\.txt/);
  });
});
