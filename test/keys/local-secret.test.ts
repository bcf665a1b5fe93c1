import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SigningKeyRecord } from '../../src/core/records.js';
import { localSecretPath, resolveKeySecret } from '../../src/keys/local-secret.js';
import { newSigningKey } from '../../src/keys/new-key.js';
import type { DatabaseLocation } from '../../src/storage/kysely/connect.js';

const SECRET = 'an operator secret of at least 32 chars';
const now = Date.parse('2026-12-04T09:00:00Z');

describe('the local key secret', () => {
  let dir: string;
  let database: DatabaseLocation;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-secret-'));
    database = { kind: 'sqlite', path: join(dir, 'data', 'gatehouse.db') };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const noKeys = async (): Promise<SigningKeyRecord[]> => [];

  it('lives beside a SQLite database, and in ./data with PostgreSQL', () => {
    expect(localSecretPath(database)).toBe(join(dir, 'data', 'gatehouse.secret'));
    expect(localSecretPath({ kind: 'postgres', url: 'postgres://localhost/gatehouse' })).toBe(join(process.cwd(), 'data', 'gatehouse.secret'));
  });

  it('is made once, 32 random bytes in a file only its owner can read, and read back the same at every start', async () => {
    const first = await resolveKeySecret(undefined, database, noKeys);
    const path = join(dir, 'data', 'gatehouse.secret');
    expect(first.file).toEqual({ path, created: true });
    expect(Buffer.from(first.value, 'base64url')).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).toBe(`${first.value}\n`);
    const again = await resolveKeySecret(undefined, database, noKeys);
    expect(again).toEqual({ value: first.value, file: { path, created: false } });
  });

  it('gives way to GATEHOUSE_SECRET, and then writes no file', async () => {
    expect(await resolveKeySecret(SECRET, database, noKeys)).toEqual({ value: SECRET, file: undefined });
    expect(() => statSync(join(dir, 'data', 'gatehouse.secret'))).toThrow(/ENOENT/);
  });

  it('is not made anew beside keys already sealed: the start stops and says how to recover', async () => {
    const sealed = await newSigningKey({ createdAt: now, activatesAt: now }, SECRET);
    await expect(resolveKeySecret(undefined, database, async () => [sealed])).rejects.toThrow(
      `the signing keys are sealed, but the local secret ${join(dir, 'data', 'gatehouse.secret')} is missing: restore it from a backup, or set GATEHOUSE_SECRET to the secret they were sealed with`,
    );
  });

  it('is made where only keys in plain text exist (an install from before), so they can be sealed', async () => {
    const plain = await newSigningKey({ createdAt: now, activatesAt: now }, undefined);
    expect((await resolveKeySecret(undefined, database, async () => [plain])).file?.created).toBe(true);
  });

  it('refuses a symbolic link in its place: a planted link would point the keys at a secret its planter knows', async () => {
    const planted = join(dir, 'planted.secret');
    writeFileSync(planted, `${'p'.repeat(43)}\n`, { mode: 0o600 });
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    symlinkSync(planted, join(dir, 'data', 'gatehouse.secret'));
    await expect(resolveKeySecret(undefined, database, noKeys)).rejects.toThrow(/is a symbolic link: the local secret must be a plain file/);
  });

  it.runIf(process.getuid?.() === 0)('refuses a file another user owns', async () => {
    await resolveKeySecret(undefined, database, noKeys);
    chownSync(join(dir, 'data', 'gatehouse.secret'), 65534, 65534);
    await expect(resolveKeySecret(undefined, database, noKeys)).rejects.toThrow(/is not a file of the user running Gatehouse/);
  });

  it('makes none for PostgreSQL when asked only to make one beside SQLite (the CLI)', async () => {
    const postgres: DatabaseLocation = { kind: 'postgres', url: 'postgres://localhost/gatehouse' };
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await expect(resolveKeySecret(undefined, postgres, noKeys, { mayCreate: 'beside-sqlite' })).rejects.toThrow(
        /there is no local secret at .*: set GATEHOUSE_SECRET/,
      );
      expect(() => statSync(join(dir, 'data', 'gatehouse.secret'))).toThrow(/ENOENT/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a file that holds no usable secret', async () => {
    await resolveKeySecret(undefined, database, noKeys);
    writeFileSync(join(dir, 'data', 'gatehouse.secret'), 'short\n');
    await expect(resolveKeySecret(undefined, database, noKeys)).rejects.toThrow(/holds no usable secret/);
  });
});
