import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseLocation } from '../../src/storage/kysely/connect.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { newSigningKey } from '../../src/keys/new-key.js';
import { isSealed } from '../../src/keys/private-key-encryption.js';
import { PUBLICATION_DELAY_MS } from '../../src/keys/key-schedule.js';
import type { Clock } from '../../src/core/clock.js';
import { runGatehouse, spawnGatehouse, type Run } from '../helpers/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../helpers/databases.js';

/**
 * `gatehouse keys list|rotate|retire` run in-process (runCli, with its own environment and
 * directory) on a new database for each test, on SQLite and PostgreSQL. The one test of `serve`
 * spawns the real binary: a server is a process of its own.
 */

const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-keys-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const SECRET = 'an operator secret of at least 32 chars';
const DAY = 86_400_000;

function databaseUrl(location: DatabaseLocation): string {
  return location.kind === 'sqlite' ? `sqlite:${location.path}` : location.url;
}

/**
 * Runs `gatehouse …args` in-process, in an empty directory with only `env` set: the same code
 * the binary runs, without a Node.js start for each call. `clock` is the command's idea of now.
 */
function gatehouse(args: string[], env: Record<string, string>, clock?: Clock): Promise<Run> {
  return runGatehouse(args, { cwd, env, ...(clock === undefined ? {} : { clock }) });
}

/** A clock that stands still at `now`, as far as the time of day goes. */
function clockAt(now: number): Clock {
  return { now: () => now, monotonic: () => performance.now() };
}

describe('gatehouse keys --help', () => {
  it('lists list, rotate and retire', async () => {
    const { code, stdout } = await gatehouse(['keys', '--help'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: gatehouse keys <command> \[options\]\n/);
    expect(stdout).toMatch(/^ {2}list {4}the signing keys/m);
    expect(stdout).toMatch(/^ {2}rotate {2}add a new signing key/m);
    expect(stdout).toMatch(/^ {2}retire {2}stop publishing a key/m);
  });

  it('says what --force costs in the help of retire', async () => {
    const { code, stdout } = await gatehouse(['keys', 'retire', '--help'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: gatehouse keys retire \(--kid KID \| --expired\) \[--force\]\n/);
    expect(stdout).toContain('their holders must refresh');
  });

  it.each([
    [['keys', 'retire'], 'gatehouse: give either --kid KID or --expired (see: gatehouse keys retire --help)'],
    [['keys', 'retire', '--kid', 'k', '--expired'], 'gatehouse: give either --kid KID or --expired (see: gatehouse keys retire --help)'],
    [
      ['keys', 'retire', '--expired', '--force'],
      'gatehouse: --force goes with --kid: --expired retires only keys that are safe to retire (see: gatehouse keys retire --help)',
    ],
    [['keys', 'rotate', '--now'], 'gatehouse: unknown option --now (see: gatehouse keys rotate --help)'],
    [['keys', 'shred'], 'gatehouse: unknown command "keys shred" (see: gatehouse keys --help)'],
  ])('refuses `gatehouse %j` with exit code 2', async (args, line) => {
    const { code, stdout, stderr } = await gatehouse(args, {});
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${line}\n`);
  });

  // The real binary, as for every run of `serve`: a server takes the whole process (signal
  // handlers, process.exit, its log on stdout), even one that stops at its configuration.
  it('leaves the server, too, unstarted in production without GATEHOUSE_SECRET, before it touches the database', async () => {
    const { code, stdout, stderr } = await spawnGatehouse(['serve'], {
      cwd,
      env: { NODE_ENV: 'production', DATABASE_URL: `sqlite:${join(cwd, 'never', 'gatehouse.db')}` },
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'gatehouse: configuration error: GATEHOUSE_SECRET must be set when NODE_ENV=production: it encrypts the signing keys at rest (try: openssl rand -base64 32)\n',
    );
    expect(existsSync(join(cwd, 'never'))).toBe(false);
  });

  it('refuses to run in production without GATEHOUSE_SECRET', async () => {
    const { code, stderr } = await gatehouse(['keys', 'list'], { NODE_ENV: 'production', DATABASE_URL: `sqlite:${join(cwd, 'never.db')}` });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^gatehouse: configuration error: GATEHOUSE_SECRET must be set when NODE_ENV=production[^\n]*\n$/);
  });
});

describe.each(DATABASES)('gatehouse keys on %s', (kind) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeEach(async () => {
    database = await createTestDatabase(kind);
    env = { DATABASE_URL: databaseUrl(database.location) };
    // Without GATEHOUSE_SECRET keys are sealed with the local secret: beside a SQLite database
    // (new for each test), and for PostgreSQL in ./data, where a server started here made one.
    rmSync(join(cwd, 'data'), { recursive: true, force: true });
    if (kind === 'postgres') {
      mkdirSync(join(cwd, 'data'), { mode: 0o700 });
      writeFileSync(localSecret(), `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    }
  });
  const localSecret = () =>
    database.location.kind === 'sqlite' ? join(dirname(database.location.path), 'gatehouse.secret') : join(cwd, 'data', 'gatehouse.secret');
  afterEach(() => database.drop());

  const listed = async (extra: Record<string, string> = {}, clock?: Clock) => {
    const { code, stdout } = await gatehouse(['keys', 'list', '--json'], { ...env, ...extra }, clock);
    expect(code).toBe(0);
    return JSON.parse(stdout) as Array<{
      kid: string;
      state: string;
      created_at: string;
      activates_at: string;
      retired_at: string | null;
      retirable_from: string | null;
      private_key: string;
    }>;
  };
  /**
   * Keys as a deployment has them a day after a rotation: `old` stopped signing a day ago. The
   * commands then run at `clock`, exactly then.
   */
  const seedRotatedDayAgo = async () => {
    const store = await openStore(database.location);
    try {
      const now = Date.now();
      const old = await newSigningKey({ createdAt: now - 40 * DAY, activatesAt: now - 40 * DAY }, undefined);
      const current = await newSigningKey({ createdAt: now - DAY - PUBLICATION_DELAY_MS, activatesAt: now - DAY }, undefined);
      for (const key of [old, current]) await store.addSigningKey(key);
      return { old: old.kid, current: current.kid, clock: clockAt(now) };
    } finally {
      await store.close();
    }
  };

  it('lists nothing on a new database, then the first key, which signs at once', async () => {
    expect((await gatehouse(['keys', 'list'], env)).stdout).toBe('gatehouse: no signing key yet (the server creates one at its first start)\n');
    const rotated = await gatehouse(['keys', 'rotate'], env);
    expect(rotated.code).toBe(0);
    const [key] = await listed();
    // Sealed without GATEHOUSE_SECRET too: with the local secret, made here as a server would.
    expect(key).toMatchObject({ state: 'signing', private_key: 'sealed', retired_at: null, retirable_from: null });
    expect(key!.activates_at).toBe(key!.created_at);
    expect(rotated.stdout).toBe(`gatehouse: added signing key ${key!.kid}; every node signs with it from ${key!.activates_at}\n`);
    expect(rotated.stderr).toBe('');
  });

  it('rotates in a key that signs only after the publication delay, and says when the old one can go', async () => {
    await gatehouse(['keys', 'rotate'], env);
    const { code, stdout } = await gatehouse(['keys', 'rotate'], env);
    expect(code).toBe(0);
    const [old, next] = await listed();
    expect(old).toMatchObject({ state: 'signing' });
    expect(next).toMatchObject({ state: 'next' });
    expect(Date.parse(next!.activates_at) - Date.parse(next!.created_at)).toBe(PUBLICATION_DELAY_MS);
    // Its last token may live the lifetime and tolerance after the switch, plus a minute.
    expect(Date.parse(old!.retirable_from!)).toBe(Date.parse(next!.activates_at) + (600 + 5 + 60) * 1000);
    expect(stdout).toContain(`gatehouse: key ${old!.kid} keeps verifying; retire it from ${old!.retirable_from} (gatehouse keys retire --expired)\n`);

    const table = (await gatehouse(['keys', 'list'], env)).stdout.split('\n');
    expect(table[0]).toMatch(/^KID +ALG +CREATED +ACTIVATES +STATE +PRIVATE +RETIRABLE FROM$/);
    expect(table[1]).toMatch(new RegExp(`^${old!.kid} +EdDSA +\\S+ +\\S+ +signing +sealed +${old!.retirable_from}$`));
    expect(table[2]).toMatch(new RegExp(`^${next!.kid} +EdDSA +\\S+ +${next!.activates_at} +next +sealed +-$`));
  });

  it('refuses to retire the key that signs, changing nothing, and retires it with --force, saying what that costs', async () => {
    await gatehouse(['keys', 'rotate'], env);
    await gatehouse(['keys', 'rotate'], env);
    const [signer] = await listed();
    const refused = await gatehouse(['keys', 'retire', '--kid', signer!.kid], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^gatehouse: key ${signer!.kid} was not retired: it is the key every node signs with until [^;]+, and tokens it signs may be alive until ${signer!.retirable_from}; retire it once that is over, or now with --force: its tokens are refused at once, so their holders must refresh \\(an app that cannot is signed out\\)\\n$`,
      ),
    );
    expect((await listed())[0]).toMatchObject({ state: 'signing', retired_at: null });

    const forced = await gatehouse(['keys', 'retire', '--kid', signer!.kid, '--force'], env);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`gatehouse: retired key ${signer!.kid}; every node stops accepting its tokens within 30 s\n`);
    expect(forced.stderr).toMatch(/^gatehouse: warning: retired by force although it is the key every node signs with until .*their holders must refresh/);
    expect((await listed()).map((k) => k.state)).toEqual(['retired', 'signing']);
  });

  it('retires with --expired exactly the keys whose tokens have all expired', async () => {
    const { old, current, clock } = await seedRotatedDayAgo();
    const { code, stdout } = await gatehouse(['keys', 'retire', '--expired'], env, clock);
    expect(code).toBe(0);
    expect(stdout).toBe(`gatehouse: retired key ${old}\ngatehouse: every node stops accepting their tokens within 30 s\n`);
    expect((await listed({}, clock)).map((k) => [k.kid, k.state])).toEqual([
      [old, 'retired'],
      [current, 'signing'],
    ]);
    expect((await gatehouse(['keys', 'retire', '--expired'], env, clock)).stdout).toBe('gatehouse: no key was due for retirement\n');
  });

  it('retires one expired key by kid, says so again when it was retired already, and refuses the last key and unknown kids', async () => {
    const { old, current, clock } = await seedRotatedDayAgo();
    expect(await gatehouse(['keys', 'retire', '--kid', old], env, clock)).toMatchObject({
      code: 0,
      stdout: `gatehouse: retired key ${old}; every node stops accepting its tokens within 30 s\n`,
      stderr: '',
    });
    expect(await gatehouse(['keys', 'retire', '--kid', old], env, clock)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^gatehouse: key ${old} was retired already, at \\S+Z\\n$`)),
    });
    expect(await gatehouse(['keys', 'retire', '--kid', current, '--force'], env, clock)).toMatchObject({
      code: 1,
      stderr: `gatehouse: key ${current} was not retired: it is the only key left; rotate first (gatehouse keys rotate)\n`,
    });
    expect(await gatehouse(['keys', 'retire', '--kid', 'nope'], env, clock)).toMatchObject({
      code: 1,
      stderr: 'gatehouse: there is no signing key nope (see: gatehouse keys list)\n',
    });
  });

  it.runIf(kind === 'postgres')('makes no local secret for PostgreSQL, which would be one no server has: it refuses, naming what to set', async () => {
    rmSync(localSecret());
    const { code, stderr } = await gatehouse(['keys', 'rotate'], env);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `gatehouse: there is no local secret at ${localSecret()}: set GATEHOUSE_SECRET to the servers' secret, or run this where a server has made its local secret\n`,
    );
    expect(existsSync(localSecret())).toBe(false);
    expect(await listed()).toEqual([]);
  });

  it('takes a key id that starts with "-" as the value of --kid (key ids are base64url)', async () => {
    await gatehouse(['keys', 'rotate'], env);
    expect(await gatehouse(['keys', 'retire', '--kid', '-csBChvKjCy1nZZYSBfCMAhA'], env)).toMatchObject({
      code: 1,
      stderr: 'gatehouse: there is no signing key -csBChvKjCy1nZZYSBfCMAhA (see: gatehouse keys list)\n',
    });
  });

  it('calls a rotation off: a key that has not started signing retires without --force', async () => {
    await gatehouse(['keys', 'rotate'], env);
    await gatehouse(['keys', 'rotate'], env);
    const [, next] = await listed();
    expect((await gatehouse(['keys', 'retire', '--kid', next!.kid], env)).code).toBe(0);
    expect((await listed()).map((k) => k.state)).toEqual(['signing', 'retired']);
  });

  it('seals keys an older version stored in plain text when rotating with GATEHOUSE_SECRET, and lists them as sealed', async () => {
    const older = await openStore(database.location);
    try {
      await older.addSigningKey(await newSigningKey({ createdAt: Date.now(), activatesAt: Date.now() }, undefined));
    } finally {
      await older.close();
    }
    const { code, stdout } = await gatehouse(['keys', 'rotate'], { ...env, GATEHOUSE_SECRET: SECRET });
    expect(code).toBe(0);
    expect(stdout).toContain('gatehouse: sealed 1 private key stored in plain text\n');
    expect((await listed({ GATEHOUSE_SECRET: SECRET })).map((k) => k.private_key)).toEqual(['sealed', 'sealed']);
    const store = await openStore(database.location);
    try {
      expect((await store.listSigningKeys()).every((k) => isSealed(k.privateJwk) && !k.privateJwk.includes('"d"'))).toBe(true);
    } finally {
      await store.close();
    }
  });

  describe('in a deployment whose keys are sealed', () => {
    const privateKeys = async () => {
      const store = await openStore(database.location);
      try {
        return (await store.listSigningKeys()).map((k) => ({ kid: k.kid, privateJwk: k.privateJwk }));
      } finally {
        await store.close();
      }
    };
    beforeEach(async () => {
      rmSync(localSecret(), { force: true });
      expect((await gatehouse(['keys', 'rotate'], { ...env, GATEHOUSE_SECRET: SECRET })).code).toBe(0);
    });

    it('refuses to rotate without GATEHOUSE_SECRET, in one line naming it, and adds no key and no local secret', async () => {
      const before = await privateKeys();
      const { code, stdout, stderr } = await gatehouse(['keys', 'rotate'], env);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /^gatehouse: the signing keys are sealed, but the local secret \S+gatehouse\.secret is missing: restore it from a backup, or set GATEHOUSE_SECRET [^\n]*\n$/,
      );
      expect(await privateKeys()).toEqual(before);
      expect(existsSync(localSecret())).toBe(false);
    });

    it('refuses to rotate with a secret that does not open the keys, and adds nothing the servers could not open', async () => {
      const before = await privateKeys();
      const { code, stdout, stderr } = await gatehouse(['keys', 'rotate'], { ...env, GATEHOUSE_SECRET: 'not the secret the keys were sealed with' });
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^gatehouse: signing key \S+ cannot be decrypted: GATEHOUSE_SECRET is not the secret it was stored with; nothing was written\n$/);
      expect(await privateKeys()).toEqual(before);
      expect((await gatehouse(['keys', 'rotate'], { ...env, GATEHOUSE_SECRET: SECRET })).code).toBe(0);
      expect((await listed({ GATEHOUSE_SECRET: SECRET })).map((k) => k.private_key)).toEqual(['sealed', 'sealed']);
    });
  });
});
