import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/app.js';
import { call, SERVER, startServer } from '../helpers/server-process.js';

/**
 * The quick start, as a person runs it (`npm start` in an empty directory), keeps its data
 * private: the review read the signing key out of a 0644 database as another local user.
 */
describe('the data a quick start keeps on disk', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-quick-start-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const data = join(cwd, 'data');
  const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
  const privateKeys = () => {
    const db = new SQLite(join(data, 'gatehouse.db'), { readonly: true });
    try {
      return (db.prepare('select private_jwk from signing_keys').all() as { private_jwk: string }[]).map((row) => row.private_jwk);
    } finally {
      db.close();
    }
  };

  it('is a 0700 directory of 0600 files, with every signing key sealed by a local secret it says how to back up', async () => {
    const server = await startServer(cwd, {});
    try {
      expect((await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'olga@example.com', password: PASSWORD } })).status).toBe(201);
      expect((await call(server.url, 'POST', '/v1/auth/login', { body: { email: 'olga@example.com', password: PASSWORD } })).status).toBe(200);
      expect(mode(data)).toBe('700');
      for (const file of ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm', 'gatehouse.secret']) expect(mode(join(data, file)), file).toBe('600');
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const keys = privateKeys();
    expect(keys).toHaveLength(1);
    for (const key of keys) expect(key).toMatch(/^aes256gcm:/);
    const said = server.logs.find((line) => line.includes('gatehouse.secret'));
    expect(said).toContain(join(data, 'gatehouse.secret'));
    expect(said).toMatch(/back it up/);
  });

  it('opens its keys with the same secret at the next start, and warns, naming each path, about files others can read', async () => {
    chmodSync(data, 0o755);
    chmodSync(join(data, 'gatehouse.db'), 0o644);
    const server = await startServer(cwd, {});
    try {
      expect((await call(server.url, 'POST', '/v1/auth/login', { body: { email: 'olga@example.com', password: PASSWORD } })).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const warnings = server.logs.filter((line) => line.includes('"level":40'));
    expect(warnings.some((line) => line.includes(`"path":"${data}"`) && line.includes('mode 755'))).toBe(true);
    expect(warnings.some((line) => line.includes(`"path":"${join(data, 'gatehouse.db')}"`) && line.includes('mode 644'))).toBe(true);
    expect(privateKeys().every((key) => key.startsWith('aes256gcm:'))).toBe(true);
  });

  it('stops with one clear line, and writes nothing, when the secret that sealed the keys is gone', () => {
    rmSync(join(data, 'gatehouse.secret'));
    const result = spawnSync(process.execPath, [SERVER], { cwd, env: { PATH: process.env.PATH ?? '', PORT: '0' }, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain(
      `the local secret ${join(data, 'gatehouse.secret')} is missing: restore it from a backup, or set GATEHOUSE_SECRET`,
    );
    expect(() => statSync(join(data, 'gatehouse.secret'))).toThrow(/ENOENT/);
  });
});
