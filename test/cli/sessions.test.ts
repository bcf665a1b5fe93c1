import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_AGENTS } from '../helpers/app.js';
import { call, type RunningServer } from '../helpers/server-process.js';
import { emptyDirectory, expectFailure, gatehouse, refusedWithin, registerOver, signInOver, startGatehouse } from './admin-cli.js';

/**
 * `gatehouse sessions list|revoke`, run in-process on a SQLite file that a Gatehouse
 * server process serves at the same time: what the CLI lists is what the server signed in,
 * and what it signs out, the server refuses.
 */

const dir = emptyDirectory();
const database = `sqlite:${join(dir.path, 'gatehouse.db')}`;
const run = (args: string[]) => gatehouse(dir.path, ['sessions', ...args], { DATABASE_URL: database });

let server: RunningServer;
beforeAll(async () => {
  server = await startGatehouse(dir.path, database);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

let n = 0;
/** A new account signed in from a laptop and a phone. */
async function aPersonWithTwoDevices() {
  const email = `cli-sessions-${++n}@example.com`;
  await registerOver(server, email);
  const laptop = await signInOver(server, email, USER_AGENTS.chromeWindows);
  const phone = await signInOver(server, email, USER_AGENTS.safariIphone);
  return { email, laptop, phone };
}

const ownSessions = async (token: string) => (await call(server.url, 'GET', '/v1/me/sessions', { token })).body.sessions;
const ownActivity = async (token: string) => (await call(server.url, 'GET', '/v1/me/activity', { token })).body.events;

describe('gatehouse sessions', () => {
  it('lists its commands with --help', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gatehouse sessions <command> \[options\]\n/);
    expect(help.stdout).toMatch(/^ {2}list +\S/m);
    expect(help.stdout).toMatch(/^ {2}revoke +\S/m);
  });

  it.each([
    ['list', 'gatehouse sessions list --email EMAIL [--json]', /^ {2}--json {9}print JSON/m],
    ['revoke', 'gatehouse sessions revoke --email EMAIL (--session ID | --all)', /^ {2}--session ID {3}the session to sign out$/m],
  ])('explains `sessions %s` with --help', async (name, usage, option) => {
    const help = await run([name, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.startsWith(`Usage: ${usage}\n\n`)).toBe(true);
    expect(help.stdout).toMatch(option);
    expect(help.stdout).toContain('Exit codes:\n  0  ');
  });
});

describe('gatehouse sessions list', () => {
  it('shows each active session in a table: id, device, address, location, last active, signed in', async () => {
    const { email, laptop, phone } = await aPersonWithTwoDevices();
    const listed = await run(['list', '--email', email.toUpperCase()]);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID +DEVICE +IP +LOCATION +LAST ACTIVE +SIGNED IN$/);
    expect(rows).toHaveLength(2);
    const time = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC';
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${laptop.sessionId} +Chrome 120 on Windows 10 +127\\.0\\.0\\.1 +- +${time} +${time}$`)),
        expect.stringMatching(new RegExp(`^${phone.sessionId} +Mobile Safari 17 on iOS 17 +127\\.0\\.0\\.1 +- +${time} +${time}$`)),
      ]),
    );
  });

  it('prints with --json the sessions the account sees at /v1/me/sessions, without `current`', async () => {
    const { email, laptop } = await aPersonWithTwoDevices();
    const listed = await run(['list', '--email', email, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const { sessions } = JSON.parse(listed.stdout);
    const withoutCurrent = (await ownSessions(laptop.access)).map(({ current: _, ...session }: { current: boolean }) => session);
    const comparable = (list: Array<{ id: string; last_active_at: string }>) =>
      list.map(({ last_active_at: _, ...rest }) => rest).sort((a, b) => a.id.localeCompare(b.id));
    expect(comparable(sessions)).toEqual(comparable(withoutCurrent));
    expect(Object.keys(sessions[0]).sort()).toEqual(['created_at', 'device', 'expires_at', 'id', 'ip', 'last_active_at', 'location', 'user_agent']);
  });

  it('says so when the account has no active session', async () => {
    const email = `cli-sessions-${++n}@example.com`;
    await registerOver(server, email);
    expect(await run(['list', '--email', email])).toEqual({ code: 0, stdout: `gatehouse: ${email} has no active sessions\n`, stderr: '' });
    expect(JSON.parse((await run(['list', '--email', email, '--json'])).stdout)).toEqual({ sessions: [] });
  });
});

describe('gatehouse sessions revoke', () => {
  it('signs one session out: the running server refuses it, the other goes on, and the account’s history says an administrator did it', async () => {
    const { email, laptop, phone } = await aPersonWithTwoDevices();
    const revoked = await run(['revoke', '--email', email, '--session', laptop.sessionId]);
    expect(revoked).toEqual({ code: 0, stdout: `${email}: session ${laptop.sessionId} signed out\n`, stderr: '' });
    await refusedWithin(server, laptop.access);
    expect((await call(server.url, 'POST', '/v1/auth/refresh', { body: { refresh_token: laptop.refresh } })).body.code).toBe('session_revoked');
    expect((await ownSessions(phone.access)).map((s: { id: string }) => s.id)).toEqual([phone.sessionId]);
    const [latest] = await ownActivity(phone.access);
    expect(latest).toMatchObject({ type: 'signed_out_by_admin', actor: 'cli', ip: null, detail: { session_ids: [laptop.sessionId] } });
  });

  it('signs every session out with --all and says how many', async () => {
    const { email, laptop, phone } = await aPersonWithTwoDevices();
    expect(await run(['revoke', '--email', email, '--all'])).toEqual({ code: 0, stdout: `${email}: 2 sessions signed out\n`, stderr: '' });
    await refusedWithin(server, laptop.access);
    await refusedWithin(server, phone.access);
    expect((await run(['revoke', '--email', email, '--all'])).stdout).toBe(`${email}: 0 sessions signed out\n`);
  });

  it('refuses a session id the account has no active session with: exit code 1, one line, nothing changed', async () => {
    const { email, laptop } = await aPersonWithTwoDevices();
    const stranger = await aPersonWithTwoDevices();
    expectFailure(
      await run(['revoke', '--email', email, '--session', stranger.laptop.sessionId]),
      1,
      `gatehouse: ${email} has no active session ${stranger.laptop.sessionId}`,
    );
    expectFailure(await run(['revoke', '--email', email, '--session', 'no-such-session']), 1, `gatehouse: ${email} has no active session no-such-session`);
    expect((await call(server.url, 'GET', '/v1/me', { token: stranger.laptop.access })).status).toBe(200);
    expect((await call(server.url, 'GET', '/v1/me', { token: laptop.access })).status).toBe(200);
  });

  it.each([
    [['list', '--email', 'nobody@example.com'], 1, 'gatehouse: no account has the email nobody@example.com'],
    [['revoke', '--email', 'nobody@example.com', '--all'], 1, 'gatehouse: no account has the email nobody@example.com'],
    [['revoke', '--email', 'a@example.com'], 2, 'gatehouse: give either --session ID or --all (see: gatehouse sessions revoke --help)'],
    [
      ['revoke', '--email', 'a@example.com', '--session', 'x', '--all'],
      2,
      'gatehouse: give either --session ID or --all (see: gatehouse sessions revoke --help)',
    ],
    [['revoke', '--email', 'a@example.com', '--session'], 2, 'gatehouse: --session needs a value: --session ID (see: gatehouse sessions revoke --help)'],
    [['list'], 2, 'gatehouse: --email is required: --email EMAIL (see: gatehouse sessions list --help)'],
    [['list', '--email', 'a@example.com', '--csv'], 2, 'gatehouse: unknown option --csv (see: gatehouse sessions list --help)'],
  ])('refuses `sessions %j` with exit code %i and one line', async (args, code, line) => {
    expectFailure(await run(args), code as 1 | 2, line);
  });
});
