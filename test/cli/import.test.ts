import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { runGatehouse, spawnGatehouse, type Run } from '../helpers/cli.js';
import { createSequelizeSource, SEQUELIZE_LAYOUT, type SequelizeSource } from '../import/sequelize-source.js';

/**
 * `gatehouse import` run in-process (runCli, with its own environment and directory), a real
 * PostgreSQL source, a temp SQLite target. The test of PGPASSWORD and ~/.pgpass spawns the real
 * binary: the pg driver reads those from the process's own environment, not the command's.
 */

const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-import-cli-'));
const target = join(cwd, 'data', 'gatehouse.db');
const DAY = 86_400_000;

/** The environment every run gets, before `env`: HOME is `cwd`, where a test may put a .pgpass. */
function environment(env: Record<string, string>): Record<string, string> {
  return { DATABASE_URL: `sqlite:${target}`, GATEHOUSE_GEOIP_DATABASE: 'off', HOME: cwd, ...env };
}

/** Runs `gatehouse …args` in-process in `cwd`. */
function gatehouse(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runGatehouse(args, { cwd, env: environment(env) });
}

/** Runs the real binary as a script runs it: a child process with only PATH and `env` set besides. */
function spawned(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return spawnGatehouse(args, { cwd, env: environment(env) });
}

describe('gatehouse import', () => {
  let source: SequelizeSource;

  beforeAll(async () => {
    source = await createSequelizeSource();
    const ann = await source.addUser({ email: 'ann@example.com', name: 'Ann' });
    await source.addLogin({ userId: ann, createdAt: new Date(Date.now() - DAY) });
    await source.addLogin({ userId: ann, createdAt: new Date(Date.now() - DAY), tokenDeleted: true });
    await source.addUser({ email: 'bob@example.com' });
    await source.addUser({ email: 'BOB@example.com' });
  });
  afterAll(async () => {
    await source.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('has help, with its options and what exit code 0 means', async () => {
    const { code, stdout } = await gatehouse(['import', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Usage: gatehouse import --from postgres:\/\/… \[--source NAME\] \[--schema NAME\] \[--emails-verified\] \[--dry-run\] \[--json\]\n/,
    );
    expect(stdout).toMatch(/^ {2}--dry-run {2,}read and check everything, write nothing/m);
    expect(stdout).toContain('  0  done (users it could not import are counted in the report, by reason)\n');
    expect((await gatehouse(['--help'])).stdout).toMatch(/^ {2}import +bring users and their sign-ins from an Express \+ Sequelize app$/m);
  });

  it.each([
    [[], 'gatehouse: --from is required: --from postgres://user@host:5432/database, the password in PGPASSWORD or ~/.pgpass (see: gatehouse import --help)'],
    [
      ['--from', 'mysql://ann:hunter22@db/app'],
      'gatehouse: --from must be a postgres:// or postgresql:// URL; what was given is not shown, as it may hold a password (see: gatehouse import --help)',
    ],
    // A "/" in the password: no valid URL, and no telling which part of it is the password.
    [
      ['--from', 'postgres://ann:p/ss@db/app'],
      'gatehouse: --from is not a valid URL (not shown, as it may hold a password): a password with "/", "?" or "#" must be percent-encoded ("%2F", "%3F", "%23"), or better, left out and given in PGPASSWORD or ~/.pgpass (see: gatehouse import --help)',
    ],
    [
      ['--from', 'postgres://db/app', '--source', 'my app'],
      'gatehouse: --source must be 1 to 64 letters, digits, ".", "_" or "-"; got "my app" (see: gatehouse import --help)',
    ],
  ])('refuses `gatehouse import %j` with exit code 2, touching nothing', async (args, line) => {
    const { code, stdout, stderr } = await gatehouse(['import', ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${line}\n`);
    expect(existsSync(target)).toBe(false);
  });

  it('reports in a dry run without creating the Gatehouse database, then imports, then finds nothing new', async () => {
    const dry = await gatehouse(['import', '--from', source.url, '--source', 'app', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      [
        'gatehouse import from app (dry run: nothing was written)',
        'users:    1 to import, 0 already imported, 2 skipped',
        '  skipped: 2 duplicate email',
        'sessions: 1 to import, 0 already imported, 1 skipped',
        '  skipped: 1 revoked',
        'The skipped users are listed by source id with --json.',
        '',
      ].join('\n'),
    );
    // Not a terminal: plain lines on stderr, ending with the summary.
    expect(dry.stderr).toMatch(/checked 3 users from app\n$/);
    expect(existsSync(target)).toBe(false);

    const real = await gatehouse(['import', '--from', source.url, '--source', 'app']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toBe(dry.stdout.replace(' (dry run: nothing was written)', '').replaceAll('to import', 'imported'));
    const store = await openStore({ kind: 'sqlite', path: target });
    try {
      const ann = (await store.findUserByEmail('ann@example.com'))!;
      expect(ann).toMatchObject({ name: 'Ann', passwordHash: expect.stringMatching(/^\$2b\$04\$/) });
      expect(await store.listUserSessions(ann.id, Date.now())).toHaveLength(1);
    } finally {
      await store.close();
    }

    const again = await gatehouse(['import', '--from', source.url, '--source', 'app', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report).toMatchObject({
      source: 'app',
      dry_run: false,
      users: { imported: 0, already_imported: 1, passwords_updated: 0, skipped: { duplicate_email: 2, email_taken: 0 } },
      sessions: { imported: 0, already_imported: 1, skipped: { revoked: 1, expired: 0 } },
      skipped_users_truncated: false,
    });
    expect(report.skipped_users.map((u: { reason: string }) => u.reason)).toEqual(['duplicate_email', 'duplicate_email']);
  });

  it('stops with exit code 1 and one line naming what the source lacks', async () => {
    const incomplete = await createSequelizeSource(
      SEQUELIZE_LAYOUT.replace(/CREATE TABLE "BlacklistTokens"[^;]*;/, '').replace('"token_deleted" BOOLEAN DEFAULT false,', ''),
    );
    try {
      const { code, stdout, stderr } = await gatehouse(['import', '--from', incomplete.url, '--dry-run']);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      const masked = incomplete.url.replace(':postgres@', ':***@');
      expect(stderr).toBe(
        `gatehouse: ${masked}: the source does not have the Express + Sequelize layout: table "User_Logins" has no column for whether the token was deleted (looked for token_deleted, tokenDeleted); no table "BlacklistTokens" or "BlacklistToken" or "blacklist_tokens" in schema "public"\n`,
      );
    } finally {
      await incomplete.drop();
    }
  });

  it('takes the password from PGPASSWORD, or from ~/.pgpass, when the URL has none', async () => {
    // Spawned: the pg driver reads PGPASSWORD and ~/.pgpass (under HOME) from the process's own
    // environment, as libpq does, not from the command's.
    const url = new URL(source.url);
    url.password = '';
    const args = ['import', '--from', url.toString(), '--source', 'app', '--dry-run'];
    const refused = await spawned(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^gatehouse: cannot read the source database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+: /);

    const withVariable = await spawned(args, { PGPASSWORD: decodeURIComponent(new URL(source.url).password) });
    expect(withVariable.code, withVariable.stderr).toBe(0);
    expect(withVariable.stdout).toMatch(/^gatehouse import from app \(dry run: nothing was written\)\nusers: /);

    // pgpass wants the file readable by its owner only.
    writeFileSync(join(cwd, '.pgpass'), `${url.hostname}:${url.port}:*:postgres:${decodeURIComponent(new URL(source.url).password)}\n`, { mode: 0o600 });
    try {
      const withFile = await spawned(args);
      expect(withFile.code, withFile.stderr).toBe(0);
      expect(withFile.stdout).toBe(withVariable.stdout);
    } finally {
      rmSync(join(cwd, '.pgpass'));
    }
  });

  it('never shows a password given as a query parameter either', async () => {
    const url = new URL(source.url);
    url.password = '';
    url.searchParams.set('password', 'not-the-password-4321');
    const { code, stderr } = await gatehouse(['import', '--from', url.toString(), '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^gatehouse: cannot read the source database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+\?password=\*\*\*: password authentication failed/,
    );
    expect(stderr).not.toContain('not-the-password-4321');
  });

  it('never shows the source password, even when the source refuses it', async () => {
    const wrong = new URL(source.url);
    wrong.password = 'not-the-password-4321';
    const { code, stderr } = await gatehouse(['import', '--from', wrong.toString(), '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^gatehouse: cannot read the source database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+: password authentication failed/);
    expect(stderr).not.toContain('not-the-password-4321');
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
