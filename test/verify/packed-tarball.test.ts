import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/app.js';
import { call, startServer, type RunningServer } from '../helpers/server-process.js';

const run = promisify(execFile);
const ISSUER = 'https://auth.example.test';
const SERVICE_KEY = Buffer.from(crypto.getRandomValues(new Uint8Array(36))).toString('base64url');

/**
 * npm with this machine's configuration (registry, cache) but nothing of the npm process that
 * may be running these tests (`npm test` sets npm_* variables naming this repository).
 */
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || /^npm_config_(registry|cache|userconfig)$/i.test(name)),
);
const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: npmEnv, encoding: 'utf8', timeout: 120_000 });

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/** Every file under `dir`, as paths relative to it. */
const filesUnder = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' });

describe('@gatehouse/verify, packed and installed into an empty project', () => {
  let dir: string;
  let app: string;
  let packed: Packed;
  let gatehouse: RunningServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-verify-pack-'));
    // `npm pack` runs the package's prepack, which builds its dist/.
    const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], resolve('packages/verify'));
    [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [Packed];
    app = join(dir, 'resource-server');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'resource-server', private: true, type: 'module' }));
    // jose comes from npm's cache when it is there; the registry is asked only otherwise.
    await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)], app);
  });

  afterAll(async () => {
    await gatehouse?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is a small tarball of the build, its manifest and its readme', () => {
    expect(packed.size).toBeLessThan(40_000);
    const paths = packed.files.map((file) => file.path);
    expect(paths.filter((path) => !path.startsWith('dist/')).sort()).toEqual(['README.md', 'package.json']);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs jose and itself, and nothing native: no .node file, no install script', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const installed = Object.keys(lock.packages).filter((path) => path !== '');
    expect(installed.sort()).toEqual(['node_modules/@gatehouse/verify', 'node_modules/jose']);
    expect(Object.values(lock.packages).filter((entry) => entry.hasInstallScript)).toEqual([]);
    const files = filesUnder(join(app, 'node_modules'));
    expect(files.filter((path) => path.endsWith('.node') || path.endsWith('binding.gyp'))).toEqual([]);
  });

  it('verifies a live token of a running Gatehouse in a plain Node script', async () => {
    const home = join(dir, 'gatehouse');
    mkdirSync(home);
    gatehouse = await startServer(home, { GATEHOUSE_ISSUER: ISSUER, GATEHOUSE_SERVICE_KEYS: SERVICE_KEY });
    const registered = await call(gatehouse.url, 'POST', '/v1/auth/register', { body: { email: 'ann@example.com', password: PASSWORD } });
    expect(registered.status).toBe(201);
    const login = await call(gatehouse.url, 'POST', '/v1/auth/login', { body: { email: 'ann@example.com', password: PASSWORD } });
    expect(login.status).toBe(200);
    const { access_token: token, session } = login.body as { access_token: string; session: { id: string } };

    const script = `
      import { answerFor, createVerifier } from '@gatehouse/verify';
      const { url, issuer, serviceKey, token } = JSON.parse(process.env.INPUT);
      const verifier = createVerifier({ issuer, audience: 'gatehouse', serviceKey, jwksUrl: url + '/.well-known/jwks.json', feedUrl: url + '/v1/revocations' });
      await verifier.ready();
      const claims = await verifier.verify(token);
      const refused = answerFor(await verifier.verify(token + 'x').catch((error) => error));
      await verifier.close();
      console.log(JSON.stringify({ claims, refused: { status: refused.status, code: refused.body.code } }));
    `;
    const input = JSON.stringify({ url: gatehouse.url, issuer: ISSUER, serviceKey: SERVICE_KEY, token });
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', INPUT: input },
      encoding: 'utf8',
      timeout: 15_000,
    });
    const answer = JSON.parse(stdout) as { claims: Record<string, unknown>; refused: unknown };
    expect(answer.claims).toMatchObject({ userId: (registered.body as { user: { id: string } }).user.id, sessionId: session.id });
    expect(answer.refused).toEqual({ status: 401, code: 'token_invalid' });
  });
});
