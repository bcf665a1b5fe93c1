import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/databases.js';
import { call, CLI, type RunningServer } from '../helpers/server-process.js';
import { emptyDirectory, expectFailure, gatehouse, refusedWithin, registerOver, signInOver, startGatehouse } from './admin-cli.js';

/**
 * `gatehouse user create|set-role|disable|enable`, run in-process on a SQLite file
 * that a Gatehouse server process is serving at the same time (and one case on PostgreSQL).
 * What they did is checked through that server: sign-ins, and the admin API.
 */

const dir = emptyDirectory();
const database = `sqlite:${join(dir.path, 'gatehouse.db')}`;
const run = (args: string[], input?: string) => gatehouse(dir.path, ['user', ...args], { DATABASE_URL: database }, input);

let server: RunningServer;
let root: string;
beforeAll(async () => {
  // The first administrator comes from the CLI, as on a fresh install.
  const created = await run(['create', '--email', 'root@example.com', '--role', 'admin'], `${PASSWORD}\n`);
  expect(created.code, created.stderr).toBe(0);
  server = await startGatehouse(dir.path, database);
  root = (await signInOver(server, 'root@example.com')).access;
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

const admin = async (path: string) => {
  const answer = await call(server.url, 'GET', `/v1/admin${path}`, { token: root });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
};
const accountOf = async (email: string) => (await admin(`/users?email=${encodeURIComponent(email)}`)).users.find((u: { email: string }) => u.email === email);
const historyOf = async (email: string) => (await admin(`/users/${(await accountOf(email)).id}/activity`)).events;
const login = (email: string, password: string) => call(server.url, 'POST', '/v1/auth/login', { body: { email, password } });

let n = 0;
const freshEmail = () => `cli-user-${++n}@example.com`;

describe('gatehouse user', () => {
  it('lists its commands with --help', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gatehouse user <command> \[options\]\n/);
    for (const name of ['create', 'set-role', 'disable', 'enable']) expect(help.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
  });

  it.each([
    ['create', 'gatehouse user create --email EMAIL [--name NAME] [--role admin|user]', 'created; its id is printed'],
    ['set-role', 'gatehouse user set-role --email EMAIL --role admin|user', 'the account has the role'],
    ['disable', 'gatehouse user disable --email EMAIL', 'the account is disabled'],
    ['enable', 'gatehouse user enable --email EMAIL', 'the account is enabled'],
  ])('explains `user %s` with --help: usage, what it does, exit codes', async (name, usage, success) => {
    const help = await run([name, '--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout.startsWith(`Usage: ${usage}\n\n`)).toBe(true);
    expect(help.stdout).toMatch(/^ {2}--email EMAIL {2}/m);
    expect(help.stdout).toContain(`Exit codes:\n  0  ${success}`);
    expect(help.stdout).toContain('\n  2  wrong usage');
  });
});

describe('gatehouse user create', () => {
  it('creates the account, prints its id alone, and records who made it', async () => {
    const created = await run(['create', '--email', 'Ann.Lee@Example.com', '--name', 'Ann Lee'], `${PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^[A-Za-z0-9_-]{22}\n$/);
    const account = await accountOf('Ann.Lee@Example.com');
    expect(account).toMatchObject({ id: created.stdout.trim(), name: 'Ann Lee', role: 'user', disabled_at: null });
    expect(await historyOf('Ann.Lee@Example.com')).toEqual([expect.objectContaining({ type: 'account_created', actor: 'cli', ip: null, detail: {} })]);
    expect((await login('ann.lee@example.com', PASSWORD)).status).toBe(200);
  });

  it('makes an administrator with --role admin, who can use the admin API at once', async () => {
    const email = freshEmail();
    expect((await run(['create', '--email', email, '--role', 'admin'], `${PASSWORD}\n`)).code).toBe(0);
    expect(await historyOf(email)).toEqual([expect.objectContaining({ type: 'account_created', actor: 'cli', detail: { role: 'admin' } })]);
    const { access } = await signInOver(server, email);
    expect((await call(server.url, 'GET', '/v1/admin/users', { token: access })).status).toBe(200);
  });

  it('takes the first line of stdin as typed, but NFKC-normalised as registration does', async () => {
    const email = freshEmail();
    // Fullwidth letters and a trailing space, then a Windows line break and a second line.
    expect((await run(['create', '--email', email], 'ｃｏｒｒｅｃｔ horse battery staple \r\nignored\n')).code).toBe(0);
    expect((await login(email, 'correct horse battery staple ')).status).toBe(200);
    expect((await login(email, 'correct horse battery staple')).status).toBe(401);
  });

  it('refuses a password the policy refuses, with the reason, and creates nothing', async () => {
    const email = freshEmail();
    expectFailure(
      await run(['create', '--email', email], 'password\n'),
      1,
      'gatehouse: the password is too easy to guess: it is one of the 10,000 most common passwords',
    );
    expectFailure(await run(['create', '--email', email], 'short\n'), 1, 'gatehouse: the password must be at least 8 characters long');
    expectFailure(
      await run(['create', '--email', email], `${email.split('@')[0]}\n`),
      1,
      /^gatehouse: the password is too easy to guess: it is your email address or a part of it\n$/,
    );
    expect(await accountOf(email)).toBeUndefined();
  });

  it('refuses an email that has an account, in any case', async () => {
    expectFailure(await run(['create', '--email', 'ROOT@example.com'], `${PASSWORD}\n`), 1, 'gatehouse: an account with this email already exists');
  });

  it.each([
    [['create'], 'gatehouse: --email is required: --email EMAIL (see: gatehouse user create --help)'],
    [
      ['create', '--email', 'not-an-email'],
      'gatehouse: --email must be an email address such as ann@example.com; got "not-an-email" (see: gatehouse user create --help)',
    ],
    [['create', '--email', 'x@example.com', '--role', 'root'], 'gatehouse: --role must be admin or user; got "root" (see: gatehouse user create --help)'],
    [
      ['create', '--email', 'x@example.com', '--name', 'a'.repeat(101)],
      'gatehouse: --name must be at most 100 characters, without control characters (see: gatehouse user create --help)',
    ],
    // A password is never an argument: argv is visible to everyone on the machine.
    [['create', '--email', 'x@example.com', '--password', PASSWORD], 'gatehouse: unknown option --password (see: gatehouse user create --help)'],
  ])('refuses `user %j` with exit code 2', async (args, line) => {
    expectFailure(await run(args, `${PASSWORD}\n`), 2, line);
  });

  it('refuses with exit code 2 when stdin is not a terminal and brings no password', async () => {
    expectFailure(
      await run(['create', '--email', freshEmail()], ''),
      2,
      /^gatehouse: no password on stdin: send it as the first line, or run the command on a terminal to be asked for it \(see: gatehouse user create --help\)\n$/,
    );
    expectFailure(await run(['create', '--email', freshEmail()], '\n'), 2, /^gatehouse: no password on stdin/);
  });

  describe('on a terminal', () => {
    const hasScript = spawnSync('script', ['--version']).status === 0;

    /** Runs `user create` on a pseudo-terminal (util-linux `script`), typing each answer after its prompt. */
    function onTerminal(email: string, answers: string[]): Promise<{ code: number | null; screen: string }> {
      const command = `${process.execPath} ${CLI} user create --email ${email}`;
      const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir.path, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database } });
      let screen = '';
      let answered = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString();
        const prompts = screen.match(/Password: |Repeat the password: /g)?.length ?? 0;
        // Typed once the prompt is there, as a person would: raw mode (no echo) is on by then.
        while (answered < prompts && answered < answers.length) child.stdin.write(answers[answered++]);
      });
      return new Promise((resolve) => child.once('close', (code) => resolve({ code, screen })));
    }

    it.runIf(hasScript)('asks for the password twice without showing it', async () => {
      const email = freshEmail();
      const { code, screen } = await onTerminal(email, ['typed horse battery staple\r', 'typed horse battery staple\r']);
      expect(code, screen).toBe(0);
      expect(screen).toMatch(/^Password: \r\nRepeat the password: \r\n[A-Za-z0-9_-]{22}\r\n$/);
      expect(screen).not.toContain('typed');
      expect((await login(email, 'typed horse battery staple')).status).toBe(200);
    });

    it.runIf(hasScript)('creates nothing when the two differ, or when cancelled with Ctrl-C', async () => {
      const email = freshEmail();
      const differ = await onTerminal(email, ['typed horse battery staple\r', 'typed horse battery stable\r']);
      expect(differ.code).toBe(1);
      expect(differ.screen).toContain('gatehouse: the two passwords differ; nothing was changed');
      const cancelled = await onTerminal(email, ['typed horse\u0003']);
      expect(cancelled.code).toBe(1);
      expect(cancelled.screen).toContain('gatehouse: cancelled; nothing was changed');
      expect(await accountOf(email)).toBeUndefined();
    });
  });
});

describe('gatehouse user set-role', () => {
  it('makes an administrator of a signed-in user, whose same token opens the admin API at once, and back', async () => {
    const email = freshEmail();
    await registerOver(server, email);
    const { access } = await signInOver(server, email);
    const adminApi = () => call(server.url, 'GET', '/v1/admin/users', { token: access });
    expect((await adminApi()).status).toBe(403);

    const promoted = await run(['set-role', '--email', email.toUpperCase(), '--role', 'admin']);
    expect(promoted).toEqual({ code: 0, stdout: `${email}: role is now admin (was user)\n`, stderr: '' });
    expect((await adminApi()).status).toBe(200);
    expect((await run(['set-role', '--email', email, '--role', 'admin'])).stdout).toBe(`${email}: role was admin already\n`);

    expect((await run(['set-role', '--email', email, '--role', 'user'])).code).toBe(0);
    expect((await adminApi()).status).toBe(403);
    const changes = (await historyOf(email)).filter((e: { type: string }) => e.type === 'role_changed');
    expect(changes.map((e: { actor: string; detail: unknown }) => [e.actor, e.detail])).toEqual([
      ['cli', { role: 'user', previous_role: 'admin' }],
      ['cli', { role: 'admin', previous_role: 'user' }],
    ]);
  });

  it.each([
    [['set-role', '--email', 'nobody@example.com', '--role', 'admin'], 1, 'gatehouse: no account has the email nobody@example.com'],
    [
      ['set-role', '--email', 'root@example.com', '--role', 'owner'],
      2,
      'gatehouse: --role must be admin or user; got "owner" (see: gatehouse user set-role --help)',
    ],
    [['set-role', '--email', 'root@example.com'], 2, 'gatehouse: --role is required: --role admin|user (see: gatehouse user set-role --help)'],
    [['set-role', '--role', 'admin'], 2, 'gatehouse: --email is required: --email EMAIL (see: gatehouse user set-role --help)'],
  ])('refuses `user %j` with exit code %i and one line', async (args, code, line) => {
    expectFailure(await run(args), code as 1 | 2, line);
  });
});

describe('gatehouse user disable and enable', () => {
  it('ends every session on the running server, and sign-in then answers exactly as for a wrong password', async () => {
    const email = freshEmail();
    await registerOver(server, email);
    const laptop = await signInOver(server, email);
    const phone = await signInOver(server, email);

    const disabled = await run(['disable', '--email', email]);
    expect(disabled).toEqual({ code: 0, stdout: `${email}: disabled; 2 sessions ended\n`, stderr: '' });
    await refusedWithin(server, laptop.access);
    await refusedWithin(server, phone.access);
    expect((await call(server.url, 'POST', '/v1/auth/refresh', { body: { refresh_token: phone.refresh } })).body.code).toBe('session_revoked');

    const refused = await login(email, PASSWORD);
    const wrong = await login('root@example.com', 'not the password at all');
    expect(refused.status).toBe(401);
    expect(refused.text).toBe(wrong.text);
    const history = await historyOf(email);
    expect(history[0]).toMatchObject({ type: 'sign_in_failed', detail: { reason: 'disabled' } });
    expect(history[1]).toMatchObject({
      type: 'account_disabled',
      actor: 'cli',
      detail: { session_ids: expect.arrayContaining([laptop.sessionId, phone.sessionId]) },
    });

    expect((await run(['disable', '--email', email])).stdout).toBe(`${email}: was disabled already; 0 sessions ended\n`);
  });

  it('lets the account sign in again once enabled; the ended sessions stay ended', async () => {
    const email = freshEmail();
    await registerOver(server, email);
    const before = await signInOver(server, email);
    expect((await run(['disable', '--email', email])).code).toBe(0);
    expect(await run(['enable', '--email', email])).toEqual({ code: 0, stdout: `${email}: enabled\n`, stderr: '' });
    expect((await login(email, PASSWORD)).status).toBe(200);
    await refusedWithin(server, before.access);
    expect((await historyOf(email)).map((e: { type: string }) => e.type).slice(0, 3)).toEqual(['signed_in', 'account_enabled', 'account_disabled']);
    expect((await run(['enable', '--email', email])).stdout).toBe(`${email}: was enabled already\n`);
  });

  it.each([['disable'], ['enable']])('refuses `user %s` of an unknown email with exit code 1 and one line', async (name) => {
    expectFailure(await run([name, '--email', 'nobody@example.com']), 1, 'gatehouse: no account has the email nobody@example.com');
  });
});

describe('gatehouse user disable on PostgreSQL', () => {
  it('ends the sessions on a server running on the same database, through its notice', async () => {
    const pg = await createTestDatabase('postgres');
    const url = pg.location.kind === 'postgres' ? pg.location.url : '';
    const cwd = emptyDirectory();
    const node = await startGatehouse(cwd.path, url);
    try {
      await registerOver(node, 'pg-user@example.com');
      const session = await signInOver(node, 'pg-user@example.com');
      const disabled = await gatehouse(cwd.path, ['user', 'disable', '--email', 'pg-user@example.com'], { DATABASE_URL: url });
      expect(disabled.stdout).toBe('pg-user@example.com: disabled; 1 session ended\n');
      await refusedWithin(node, session.access);
      expect((await call(node.url, 'POST', '/v1/auth/login', { body: { email: 'pg-user@example.com', password: PASSWORD } })).body.code).toBe(
        'invalid_credentials',
      );
    } finally {
      await node.stop();
      cwd.remove();
      await pg.drop();
    }
  }, 60_000);
});
