import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SigningKeyRecord } from '../core/records.js';
import type { DatabaseLocation } from '../storage/kysely/connect.js';
import { isSealed } from './private-key-encryption.js';

/** The secret that seals the private signing keys, and where it came from. */
export interface KeySecret {
  value: string;
  /** undefined: GATEHOUSE_SECRET; otherwise the local secret's file, and whether this start made it. */
  file: { path: string; created: boolean } | undefined;
}

const FILE_NAME = 'gatehouse.secret';

/**
 * Where the local secret lives: beside a SQLite database, so a backup of the data directory
 * holds both; with PostgreSQL (one node without GATEHOUSE_SECRET, outside production) in
 * ./data, where the quick start keeps its files.
 */
export function localSecretPath(database: DatabaseLocation, cwd = process.cwd()): string {
  const dir = database.kind === 'sqlite' && database.path !== ':memory:' ? dirname(database.path) : 'data';
  return resolve(cwd, dir, FILE_NAME);
}

/**
 * GATEHOUSE_SECRET when it is set; otherwise the local secret, made once (32 random bytes, in
 * a 0600 file) at the first start. No private key is ever written in the clear: a process of
 * another local user, or a copy of the database without the secret, cannot sign tokens.
 * `keys` is read only when the file is missing: beside keys already sealed, a missing file is a
 * lost secret, not a fresh install, and a new one would seal the next key where no node could
 * open it.
 */
export async function resolveKeySecret(
  configured: string | undefined,
  database: DatabaseLocation,
  keys: () => Promise<SigningKeyRecord[]>,
  options: { mayCreate?: 'always' | 'beside-sqlite'; cwd?: string } = {},
): Promise<KeySecret> {
  if (configured !== undefined) return { value: configured, file: undefined };
  const path = localSecretPath(database, options.cwd);
  const existing = readLocalSecret(path);
  if (existing !== undefined) return { value: existing, file: { path, created: false } };
  if ((await keys()).some((k) => isSealed(k.privateJwk))) {
    throw new Error(
      `the signing keys are sealed, but the local secret ${path} is missing: restore it from a backup, or set GATEHOUSE_SECRET to the secret they were sealed with`,
    );
  }
  // A command run elsewhere than the server (another directory, another host) must not make a
  // secret for a PostgreSQL database that no server has: beside a SQLite file it is the server's own.
  if (options.mayCreate === 'beside-sqlite' && database.kind !== 'sqlite') {
    throw new Error(`there is no local secret at ${path}: set GATEHOUSE_SECRET to the servers' secret, or run this where a server has made its local secret`);
  }
  return { value: createLocalSecret(path), file: { path, created: true } };
}

/** The local secret in `path`, or undefined when there is no such file. */
export function readLocalSecret(path: string): string | undefined {
  let fd: number;
  try {
    // Not through a link, and only a file of this user's: in a directory others can write to,
    // a planted file would seal the keys with a secret its planter knows.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new Error(`${path} is a symbolic link: the local secret must be a plain file`);
    throw error;
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid))
      throw new Error(`${path} is not a file of the user running Gatehouse: the local secret must be (chmod 600, chown to that user)`);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const value = text.trim();
  // Same bar as GATEHOUSE_SECRET: the secret keys AES-256 through HKDF.
  if (value.length < 32) throw new Error(`${path} holds no usable secret (at least 32 characters): restore it from a backup, or set GATEHOUSE_SECRET`);
  return value;
}

/**
 * Writes a new secret to `path`, or returns the one another process wrote first. Written to a
 * file of its own, then linked into place: the link either appears whole or fails because the
 * file exists, so processes starting together (`serve --workers`) all end up with one secret.
 */
function createLocalSecret(path: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  const draft = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(draft, `${value}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, path);
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readLocalSecret(path)!;
  } finally {
    unlinkSync(draft);
  }
}
