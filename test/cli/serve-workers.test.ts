import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASSWORD, USER_AGENTS } from '../helpers/app.js';
import { createTestDatabase, DATABASES, type DatabaseKind } from '../helpers/databases.js';
import { call, CLI, startServer, type RunningServer } from '../helpers/server-process.js';

interface LogLine {
  pid: number;
  msg: string;
  path?: string;
  role?: string;
}

/** The JSON log lines the processes wrote so far (primary and workers share stdout). */
function logLines(server: RunningServer): LogLine[] {
  return server.logs.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

/** The pids of the workers that logged "Server listening", in order. */
function listeningPids(server: RunningServer): number[] {
  return logLines(server)
    .filter((line) => line.msg.startsWith('Server listening at'))
    .map((line) => line.pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (const start = Date.now(); !condition(); await new Promise((resolve) => setTimeout(resolve, 25))) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
  }
}

/**
 * `GET /v1/me` on a connection of its own (no keep-alive agent), so the cluster's round-robin
 * hands each one to the next worker instead of every request riding one worker's socket.
 */
function getMeOnNewConnection(base: string, token: string): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = get(
      `${base}/v1/me`,
      { agent: false, headers: { authorization: `Bearer ${token}`, 'user-agent': USER_AGENTS.chromeWindows } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, code: (JSON.parse(text) as { code?: string }).code }));
      },
    );
    request.on('error', reject);
  });
}

/** 40 requests at once, each on a new connection; resolves with the answers and the pids that logged them. */
async function fortyRequests(server: RunningServer, token: string) {
  const logged = () => logLines(server).filter((line) => line.msg === 'request' && line.path === '/v1/me');
  const before = logged().length;
  const answers = await Promise.all(Array.from({ length: 40 }, () => getMeOnNewConnection(server.url, token)));
  await until(() => logged().length >= before + 40, 'the request log lines');
  return {
    answers,
    pids: new Set(
      logged()
        .slice(before)
        .map((line) => line.pid),
    ),
  };
}

async function environment(kind: DatabaseKind) {
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-workers-'));
  const database = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
  const env = { DATABASE_URL: database ? (database.location as { url: string }).url : `sqlite:${join(cwd, 'g.db')}` };
  const remove = async () => {
    rmSync(cwd, { recursive: true, force: true });
    await database?.drop();
  };
  return { cwd, env, remove };
}

describe.each(DATABASES)('gatehouse serve --workers 2 on %s', (kind) => {
  it('serves from two worker processes, refuses a signed-out token on every worker at once, and stops cleanly on SIGTERM', async () => {
    const { cwd, env, remove } = await environment(kind);
    const server = await startServer(cwd, env, { argv: [CLI, 'serve', '--workers', '2'], listening: 2 });
    const workers = listeningPids(server);
    try {
      expect(new Set(workers).size).toBe(2);
      expect(workers).not.toContain(server.child.pid);
      await until(() => logLines(server).some((line) => line.role === 'primary' && line.msg.startsWith('serving with 2 workers on port ')), 'the primary');

      expect((await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'wren@example.com', password: PASSWORD } })).status).toBe(201);
      const login = await call(server.url, 'POST', '/v1/auth/login', { body: { email: 'wren@example.com', password: PASSWORD } });
      const token = login.body.access_token as string;

      // Both workers answer, and both accept the token: each has it as a valid session.
      const before = await fortyRequests(server, token);
      expect(before.answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
      expect(before.pids).toEqual(new Set(workers));

      expect((await call(server.url, 'POST', '/v1/auth/logout', { token })).status).toBe(204);
      // At once: no waiting for the other worker's one-second catch-up. The sibling that did not
      // sign the session out knows only from the relay.
      const after = await fortyRequests(server, token);
      expect(after.answers).toEqual(Array(40).fill({ status: 401, code: 'session_revoked' }));
      expect(after.pids).toEqual(new Set(workers));
    } finally {
      const code = await server.stop();
      await remove();
      expect(code).toBe(0);
    }
    expect(workers.filter(isRunning)).toEqual([]);
    const shutdowns = logLines(server).filter((line) => line.msg === 'shutting down');
    expect(new Set(shutdowns.map((line) => line.pid))).toEqual(new Set([server.child.pid, ...workers]));
  });
});

describe('the serve --workers primary', () => {
  it('restarts a worker that dies, and relays sign-outs to the new one too', async () => {
    const { cwd, env, remove } = await environment('sqlite');
    const server = await startServer(cwd, env, { argv: [CLI, 'serve', '--workers', '2'], listening: 2 });
    try {
      const [dead, survivor] = listeningPids(server) as [number, number];
      process.kill(dead, 'SIGKILL');
      await until(() => listeningPids(server).length === 3, 'a new worker');
      const replacement = listeningPids(server)[2] as number;
      expect([dead, survivor]).not.toContain(replacement);
      expect(logLines(server).find((line) => line.msg === 'worker died; restarting it')).toMatchObject({
        role: 'primary',
        worker_pid: dead,
        signal: 'SIGKILL',
      });

      await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'odin@example.com', password: PASSWORD } });
      const login = await call(server.url, 'POST', '/v1/auth/login', { body: { email: 'odin@example.com', password: PASSWORD } });
      expect((await call(server.url, 'POST', '/v1/auth/logout', { token: login.body.access_token })).status).toBe(204);
      const after = await fortyRequests(server, login.body.access_token);
      expect(after.answers).toEqual(Array(40).fill({ status: 401, code: 'session_revoked' }));
      expect(after.pids).toEqual(new Set([survivor, replacement]));
    } finally {
      const code = await server.stop();
      await remove();
      expect(code).toBe(0);
    }
  });
});
