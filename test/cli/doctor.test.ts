import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { newSigningKey } from '../../src/keys/new-key.js';
import { connect, type DatabaseLocation } from '../../src/storage/kysely/connect.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import { runGatehouse, spawnGatehouse, type Run } from '../helpers/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../helpers/databases.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

/**
 * `gatehouse doctor` run in-process (runCli, with its own environment and directory), before
 * any database and on SQLite and PostgreSQL databases in every state it tells apart, and its
 * mail check against a real SMTP server on loopback. One failing run spawns the real binary,
 * for the exit code a monitoring script reads.
 */

const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-doctor-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const SECRET = 'an operator secret of at least 32 chars';
const OTHER_SECRET = 'not the secret the keys were sealed with';

function databaseUrl(location: DatabaseLocation): string {
  return location.kind === 'sqlite' ? `sqlite:${location.path}` : location.url;
}

/**
 * Runs `gatehouse doctor` in-process, in an empty directory with only `env` set (`clock`: its
 * idea of now), and reads its report.
 */
async function doctor(env: Record<string, string>, clock?: Clock) {
  return readReport(await runGatehouse(['doctor'], { cwd, env, ...(clock === undefined ? {} : { clock }) }));
}

/** Runs the real binary (dist/cli/gatehouse.js) as a script would, with only PATH and `env` set, and reads its report. */
async function spawnedDoctor(env: Record<string, string>) {
  return readReport(await spawnGatehouse(['doctor'], { cwd, env }));
}

/** What a doctor reported: one `status name detail` line per check. */
function readReport(result: Run) {
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  const checks = Object.fromEntries(
    lines.map((line) => {
      const [, status, name, detail] = /^(ok|warn|fail) +(\S+) +(.*)$/.exec(line) ?? [];
      return [name, { status, detail }];
    }),
  ) as Record<string, { status: string; detail: string }>;
  return { code: result.code, stdout: result.stdout, stderr: result.stderr, lines, checks };
}

/** A port on loopback that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  return port;
}

/** A clock that stands still at `now`, as far as the time of day goes. */
function clockAt(now: number): Clock {
  return { now: () => now, monotonic: () => performance.now() };
}

describe('gatehouse doctor, before any database', () => {
  // The real binary: that a failed check reaches the shell as exit code 1.
  it('fails the configuration check with its one-line reason, and exits 1', async () => {
    const report = await spawnedDoctor({ GATEHOUSE_ACCESS_TOKEN_TTL: 'ten minutes' });
    expect(report.code).toBe(1);
    expect(report.stdout).toBe('fail config    GATEHOUSE_ACCESS_TOKEN_TTL must be a whole number from 1 to 86400; got "ten minutes"\n');
  });

  it('fails in production without GATEHOUSE_SECRET', async () => {
    const report = await doctor({ NODE_ENV: 'production' });
    expect(report.code).toBe(1);
    expect(report.checks.config).toEqual({ status: 'fail', detail: expect.stringMatching(/^GATEHOUSE_SECRET must be set when NODE_ENV=production/) });
  });

  it('fails in production without GATEHOUSE_SMTP_URL, unless mail is turned off', async () => {
    const report = await doctor({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET });
    expect(report.code).toBe(1);
    expect(report.checks.config).toEqual({ status: 'fail', detail: expect.stringMatching(/^GATEHOUSE_SMTP_URL must be set when NODE_ENV=production/) });
    const off = await doctor({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, GATEHOUSE_MAIL: 'off', DATABASE_URL: `sqlite:${join(cwd, 'none', 'g.db')}` });
    expect(off.checks.config!.status).toBe('ok');
  });

  it('warns about a SQLite database that does not exist yet, without creating it, and exits 0', async () => {
    const path = join(cwd, 'not-yet', 'gatehouse.db');
    const report = await doctor({ DATABASE_URL: `sqlite:${path}`, GATEHOUSE_SECRET: SECRET });
    expect(report.code).toBe(0);
    expect(report.lines).toEqual([
      'ok   config    loads; not production (NODE_ENV is not "production")',
      `warn database  no database at ${path} yet: the server creates it at its first start`,
      `warn mail      writes .eml files to ${join(cwd, 'data', 'mail')} (GATEHOUSE_SMTP_URL is not set): messages do not leave this machine`,
    ]);
    expect(existsSync(join(cwd, 'not-yet'))).toBe(false);
  });

  it('fails when PostgreSQL cannot be reached', async () => {
    const port = await closedPort();
    const report = await doctor({ DATABASE_URL: `postgres://gatehouse:pw@127.0.0.1:${port}/gatehouse`, GATEHOUSE_SECRET: SECRET });
    expect(report.code).toBe(1);
    expect(report.checks.database).toEqual({ status: 'fail', detail: expect.stringMatching(/^cannot be reached: .*ECONNREFUSED/) });
  });
});

describe.each(DATABASES)('gatehouse doctor on %s', (kind) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeEach(async () => {
    // Empty, as some tests migrate it only part of the way.
    database = await createTestDatabase(kind, { empty: true });
    // Mail off: these are the database's checks (the mail check has its own tests below).
    env = { DATABASE_URL: databaseUrl(database.location), GATEHOUSE_SECRET: SECRET, GATEHOUSE_MAIL: 'off' };
  });
  afterEach(() => database.drop());

  const withStore = async (work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<void>) => {
    const store = await openStore(database.location);
    try {
      await work(store);
    } finally {
      await store.close();
    }
  };
  const addKey = (secret: string | undefined, createdAt = Date.now()) =>
    withStore(async (store) => store.addSigningKey(await newSigningKey({ createdAt, activatesAt: createdAt }, secret)));

  it('passes every check on a database a server has set up, and exits 0', async () => {
    await addKey(SECRET);
    const report = await doctor(env);
    expect(report.code).toBe(0);
    expect(report.stderr).toBe('');
    expect(Object.keys(report.checks)).toEqual(['config', 'database', 'schema', 'keys', 'clock', 'mail']);
    for (const check of Object.values(report.checks)) expect(check.status).toBe('ok');
    expect(report.checks.schema!.detail).toMatch(/^up to date \(\d+ migrations\)$/);
    expect(report.checks.keys!.detail).toMatch(/^signing with \S+$/);
    expect(report.checks.clock!.detail).toMatch(kind === 'postgres' ? / ms (behind|ahead of) the PostgreSQL server's clock/ : /SQLite has no clock of its own/);
  });

  it('says which migrations are pending, without applying them', async () => {
    const { db } = connect(database.location);
    try {
      await new Migrator({ db, provider: migrationProvider }).migrateTo('0003-activity');
    } finally {
      await db.destroy();
    }
    const report = await doctor(env);
    expect(report.code).toBe(0);
    expect(report.checks.schema).toEqual({
      status: 'warn',
      detail: expect.stringMatching(/^\d+ migrations? pending: 0004-signing-key-rotation(, \S+)* \(the server applies them at start; or: gatehouse migrate\)$/),
    });
    expect(report.checks.keys).toEqual({ status: 'warn', detail: 'not checked until the schema is up to date' });
    expect((await doctor(env)).checks.schema!.status).toBe('warn'); // still pending: nothing was migrated
  });

  it('fails when a key cannot be decrypted with GATEHOUSE_SECRET', async () => {
    await addKey(SECRET);
    const report = await doctor({ ...env, GATEHOUSE_SECRET: OTHER_SECRET });
    expect(report.code).toBe(1);
    expect(report.checks.keys).toEqual({
      status: 'fail',
      detail: expect.stringMatching(/^signing key \S+ cannot be decrypted: GATEHOUSE_SECRET is not the secret it was stored with$/),
    });
    const without = await doctor({ DATABASE_URL: env.DATABASE_URL!, GATEHOUSE_MAIL: 'off' });
    expect(without.checks.keys).toEqual({ status: 'fail', detail: expect.stringMatching(/is encrypted: set GATEHOUSE_SECRET/) });
  });

  it('warns about keys stored in plain text, and fails on them in production', async () => {
    await addKey(undefined);
    expect((await doctor(env)).checks.keys).toEqual({
      status: 'warn',
      detail: expect.stringMatching(/^1 private key is stored in plain text: a server started with GATEHOUSE_SECRET seals them/),
    });
    // Production needs GATEHOUSE_SMTP_URL or GATEHOUSE_MAIL=off, which env has.
    const production = await doctor({ ...env, NODE_ENV: 'production' });
    expect(production.code).toBe(1);
    expect(production.checks.keys!.status).toBe('fail');
  });

  it('warns when there is no key yet', async () => {
    await withStore(async () => {});
    expect((await doctor(env)).checks.keys).toEqual({ status: 'warn', detail: 'no signing key yet: the server creates one at its first start' });
  });

  it('fails the clock when it is behind a time the database already holds', async () => {
    // The system clock an hour behind the key's creation, exactly.
    const now = Date.now();
    await addKey(SECRET, now + 3_600_000);
    const report = await doctor(env, clockAt(now));
    expect(report.code).toBe(1);
    expect(report.checks.clock).toEqual({
      status: 'fail',
      detail: expect.stringMatching(/^the system clock \(\S+\) is behind a time the database already holds \(\S+\): was it set back\?$/),
    });
  });
});

describe("gatehouse doctor's mail check", () => {
  // No database: the mail line is checked on its own, after the database's warning.
  const base = { DATABASE_URL: `sqlite:${join(cwd, 'no-database', 'gatehouse.db')}`, GATEHOUSE_SECRET: SECRET };
  const credentials = { user: 'gatehouse', pass: 'the relay p@ssword' };
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer({ credentials });
  });
  afterAll(() => smtp.close());
  const smtpUrl = (pass: string, port = smtp.port) => `smtp://${credentials.user}:${encodeURIComponent(pass)}@127.0.0.1:${port}?starttls=off`;

  it('is ok when the SMTP server answers and accepts the login, and sends nothing', async () => {
    const report = await doctor({ ...base, GATEHOUSE_SMTP_URL: smtpUrl(credentials.pass) });
    expect(report.code).toBe(0);
    expect(report.checks.mail).toEqual({ status: 'ok', detail: `127.0.0.1:${smtp.port} accepts mail (no TLS)` });
    expect(smtp.received).toEqual([]);
  });

  it('fails with the server’s refusal when the login is refused, never showing the password', async () => {
    const wrong = 'not the p@ssword';
    const report = await doctor({ ...base, GATEHOUSE_SMTP_URL: smtpUrl(wrong) });
    expect(report.code).toBe(1);
    expect(report.checks.mail).toEqual({
      status: 'fail',
      detail: expect.stringMatching(new RegExp(`^cannot send through 127\\.0\\.0\\.1:${smtp.port} \\(no TLS\\): EAUTH 535 `)),
    });
    for (const spelling of [wrong, encodeURIComponent(wrong), 'p@ss']) expect(report.stdout).not.toContain(spelling);
  });

  it('fails when nothing listens at GATEHOUSE_SMTP_URL, and exits 1', async () => {
    const port = await closedPort();
    const report = await doctor({ ...base, GATEHOUSE_SMTP_URL: smtpUrl(credentials.pass, port) });
    expect(report.code).toBe(1);
    expect(report.checks.mail).toEqual({
      status: 'fail',
      detail: expect.stringMatching(new RegExp(`^cannot send through 127\\.0\\.0\\.1:${port} \\(no TLS\\): .*ECONNREFUSED`)),
    });
    expect(report.stdout).not.toContain('p@ssword');
  });

  it('warns that .eml files do not leave this machine, without making their directory', async () => {
    const report = await doctor(base);
    expect(report.code).toBe(0);
    expect(report.checks.mail).toEqual({
      status: 'warn',
      detail: `writes .eml files to ${join(cwd, 'data', 'mail')} (GATEHOUSE_SMTP_URL is not set): messages do not leave this machine`,
    });
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('is ok, and says what it means, when mail is off', async () => {
    const report = await doctor({ ...base, GATEHOUSE_MAIL: 'off' });
    expect(report.checks.mail).toEqual({ status: 'ok', detail: 'mail is off (GATEHOUSE_MAIL=off): no password reset' });
  });
});
