import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './helpers/databases.js';
import { PASSWORD } from './helpers/app.js';
import { call, CLI, startServer, type RunningServer } from './helpers/server-process.js';

/**
 * Gatehouse as `npm start` runs it: real server processes, each flow on each database. The test
 * files choose which run where: test/server.test.ts (`npm test`) and
 * test/hostile/processes/server-processes.process.test.ts (the slow suite).
 */

/** What `npm run migrate` runs. */
const MIGRATE = [CLI, 'migrate'];

/** The flows of one server process: `npm test` runs them all on SQLite, and on PostgreSQL all but the restart. */
export type ServerFlow = 'start' | 'restart' | 'migrate';

export function serverProcessTests(kind: DatabaseKind, flows: readonly ServerFlow[]): void {
  describe(`the server process on ${kind}`, () => {
    const dirs: string[] = [];
    const databases: TestDatabase[] = [];
    afterAll(async () => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      for (const database of databases) await database.drop();
    });

    async function environment(): Promise<{ cwd: string; env: Record<string, string> }> {
      const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-server-'));
      dirs.push(cwd);
      if (kind === 'sqlite') return { cwd, env: {} }; // the default: ./data/gatehouse.db
      const database = await createTestDatabase('postgres', { empty: true }); // as new as the SQLite file the server makes
      databases.push(database);
      return { cwd, env: { DATABASE_URL: (database.location as { url: string }).url } };
    }

    if (flows.includes('start'))
      it('starts with no set-up, serves register → login → sessions → revoke, and stops cleanly on SIGTERM', async () => {
        const { cwd, env } = await environment();
        const server = await startServer(cwd, env);
        try {
          if (kind === 'sqlite') expect(existsSync(join(cwd, 'data', 'gatehouse.db'))).toBe(true);
          expect((await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'olga@example.com', password: PASSWORD } })).status).toBe(201);
          const laptop = await call(server.url, 'POST', '/v1/auth/login', { body: { email: 'olga@example.com', password: PASSWORD } });
          expect(laptop.status).toBe(200);
          expect(laptop.body.session.device.label).toBe('Chrome 120 on Windows 10');
          const sessions = await call(server.url, 'GET', '/v1/me/sessions', { token: laptop.body.access_token });
          expect(sessions.body.sessions).toHaveLength(1);
          expect((await call(server.url, 'DELETE', `/v1/me/sessions/${laptop.body.session.id}`, { token: laptop.body.access_token })).status).toBe(204);
          const after = await call(server.url, 'GET', '/v1/me', { token: laptop.body.access_token });
          expect(after).toMatchObject({ status: 401, body: { code: 'session_revoked' } });
        } finally {
          server.child.kill('SIGTERM');
          const [code] = await once(server.child, 'exit');
          expect(code).toBe(0);
        }
        // Logs: one line per request and per security event, never a password or token.
        const text = server.logs.join('\n');
        expect(text).toContain('"event":"login_succeeded"');
        expect(text).toContain('"event":"sessions_revoked"');
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./); // no JWT
      });

    if (flows.includes('restart'))
      it('refuses, after a restart, a token revoked before it', async () => {
        const { cwd, env } = await environment();
        let server = await startServer(cwd, env);
        await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'pia@example.com', password: PASSWORD } });
        const login = await call(server.url, 'POST', '/v1/auth/login', { body: { email: 'pia@example.com', password: PASSWORD } });
        await call(server.url, 'POST', '/v1/auth/logout', { token: login.body.access_token });
        server.child.kill('SIGTERM');
        await once(server.child, 'exit');

        server = await startServer(cwd, env);
        try {
          const after = await call(server.url, 'GET', '/v1/me', { token: login.body.access_token });
          expect(after).toMatchObject({ status: 401, body: { code: 'session_revoked' } });
        } finally {
          server.child.kill('SIGTERM');
          await once(server.child, 'exit');
        }
      });

    if (flows.includes('migrate'))
      it('applies migrations with `npm run migrate`, and a second run has nothing to do', async () => {
        const { cwd, env } = await environment();
        const first = spawnSync(process.execPath, MIGRATE, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
        expect(first.status, first.stderr).toBe(0);
        expect(first.stdout).toBe(
          'gatehouse: applied 0001-initial, 0002-sign-in-limits, 0003-activity, 0004-signing-key-rotation, 0005-imports, 0006-user-email-search, 0007-address-attempts, 0008-ascii-email-domains, 0009-revoked-sessions-index, 0010-live-session-expiries, 0011-open-session-count, 0012-settled-webhook-deliveries, 0013-events-by-month, 0014-mail\n',
        );
        const second = spawnSync(process.execPath, MIGRATE, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
        expect(second.stdout).toBe('gatehouse: schema is up to date\n');
      });
  });
}

/**
 * Two server processes on one database. `npm test` runs them on SQLite, where two processes
 * share one file; on PostgreSQL they run in the slow suite, as what they share there (row locks,
 * NOTIFY) is in the store conformance suite and test/revocation/two-nodes.process.test.ts.
 */
/** What two processes on one database are tested for. */
export type TwoServerFlow = 'refreshes' | 'sign-out';

export function twoServerProcessTests(kind: DatabaseKind, flows: readonly TwoServerFlow[]): void {
  describe(`two server processes on one ${kind} database`, () => {
    /** Starts two real server processes on one new database, runs `work`, then stops and removes them. */
    async function withTwoServers(work: (a: RunningServer, b: RunningServer) => Promise<void>): Promise<void> {
      const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-server-'));
      const database = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
      const env = { DATABASE_URL: database ? (database.location as { url: string }).url : `sqlite:${join(cwd, 'shared.db')}` };
      const servers = [await startServer(cwd, env), await startServer(cwd, env)] as const;
      try {
        await work(...servers);
      } finally {
        for (const server of servers) {
          server.child.kill('SIGTERM');
          await once(server.child, 'exit');
        }
        rmSync(cwd, { recursive: true, force: true });
        await database?.drop();
      }
    }

    if (flows.includes('refreshes'))
      it('answer 20 simultaneous refreshes of one token, split between them, with one and the same next token', () =>
        withTwoServers(async (a, b) => {
          await call(a.url, 'POST', '/v1/auth/register', { body: { email: 'yara@example.com', password: PASSWORD } });
          for (let round = 0; round < 3; round++) {
            const login = await call(a.url, 'POST', '/v1/auth/login', { body: { email: 'yara@example.com', password: PASSWORD } });
            const token = login.body.refresh_token;
            const answers = await Promise.all(
              Array.from({ length: 20 }, (_, i) => call(i % 2 ? a.url : b.url, 'POST', '/v1/auth/refresh', { body: { refresh_token: token } })),
            );
            expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
            const next = new Set(answers.map((r) => r.body.refresh_token));
            expect(next.size).toBe(1);
            const [live] = next as Set<string>;
            expect((await call(b.url, 'POST', '/v1/auth/refresh', { body: { refresh_token: live } })).status).toBe(200);
          }
        }));

    if (flows.includes('sign-out'))
      it('refuse, on one, a sign-out made on the other, within the staleness bound and with no restart', () =>
        withTwoServers(async (a, b) => {
          await call(a.url, 'POST', '/v1/auth/register', { body: { email: 'ida@example.com', password: PASSWORD } });
          const login = await call(a.url, 'POST', '/v1/auth/login', { body: { email: 'ida@example.com', password: PASSWORD } });
          expect((await call(b.url, 'GET', '/v1/me', { token: login.body.access_token })).status).toBe(200);
          expect((await call(a.url, 'POST', '/v1/auth/logout', { token: login.body.access_token })).status).toBe(204);
          const revokedAt = Date.now();
          let status = 200;
          while (status === 200 && Date.now() - revokedAt < 5000) {
            status = (await call(b.url, 'GET', '/v1/me', { token: login.body.access_token })).status;
            if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
          }
          expect(status).toBe(401);
        }));
  });
}
