import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { PASSWORD, USER_AGENTS } from '../helpers/app.js';
import { runGatehouse, type Run } from '../helpers/cli.js';
import { call, startServer, type RunningServer } from '../helpers/server-process.js';

export type { Run };

/**
 * What the tests of `gatehouse user …` and `gatehouse sessions …` share: the command run
 * in-process (runCli, with its own environment and directory), a Gatehouse server process on the
 * same database, and a wait for that server to refuse a token.
 */

/** A working directory with nothing in it (no .env), removed by `remove`. */
export function emptyDirectory(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'gatehouse-admin-cli-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs `gatehouse …args` in-process in `cwd`, with only `env` set and `input` on stdin (then closed). */
export function gatehouse(cwd: string, args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return runGatehouse(args, { cwd, env, ...(input === undefined ? {} : { input }) });
}

/** Expects a run that failed with exit code `code` and exactly one line on stderr. */
export function expectFailure(run: Run, code: 1 | 2, line: string | RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  if (typeof line === 'string') expect(run.stderr).toBe(`${line}\n`);
  else expect(run.stderr).toMatch(line);
  expect(run.stderr.split('\n')).toHaveLength(2);
}

/** A Gatehouse server process on `databaseUrl`, as `npm start` runs it. */
export function startGatehouse(cwd: string, databaseUrl: string): Promise<RunningServer> {
  return startServer(cwd, { DATABASE_URL: databaseUrl, GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false' });
}

export async function registerOver(server: RunningServer, email: string): Promise<void> {
  const response = await call(server.url, 'POST', '/v1/auth/register', { body: { email, password: PASSWORD } });
  expect(response.status, response.text).toBe(201);
}

export async function signInOver(
  server: RunningServer,
  email: string,
  userAgent = USER_AGENTS.chromeWindows,
): Promise<{ access: string; refresh: string; sessionId: string }> {
  const response = await call(server.url, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD }, headers: { 'user-agent': userAgent } });
  expect(response.status, response.text).toBe(200);
  return { access: response.body.access_token, refresh: response.body.refresh_token, sessionId: response.body.session.id };
}

/**
 * Asks the server with the token until it refuses it as signed out, and says how long that
 * took; fails after `boundMs`. The server learns of the CLI's sign-outs from the database, as
 * of another node's: within the one-second catch-up (PostgreSQL: a notice, at once).
 */
export async function refusedWithin(server: RunningServer, token: string, boundMs = 10_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const answer = await call(server.url, 'GET', '/v1/me', { token });
    if (answer.status === 401) {
      expect(answer.body?.code).toBe('session_revoked');
      return Date.now() - started;
    }
    expect(answer.status).toBe(200);
    if (Date.now() - started > boundMs) throw new Error(`the server still accepts the token after ${boundMs} ms`);
    await sleep(20);
  }
}
