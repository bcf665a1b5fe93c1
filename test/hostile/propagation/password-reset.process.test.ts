import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES } from '../../helpers/databases.js';
import { startServer, type RunningServer } from '../../helpers/server-process.js';
import { linkIn, startSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';
import { register, send, signInMany, STALENESS_BOUND_MS } from '../../revocation/process-nodes.js';

/**
 * Issue 17: a password reset ends every session of the account on every node at once. Two real
 * processes on one database and a real SMTP server: the link is asked for on node A, used on
 * node B; B refuses every old access token on its very next request, A within the staleness
 * bound (at once on PostgreSQL, by its notice), and the old refresh tokens are dead on both.
 */
// In the slow suite: four server processes in all, and `npm test` has the reset on one node
// (test/http/routes/password-reset.test.ts) and sign-outs on two (test/revocation/).
describe.each(DATABASES)('a password reset on two server processes on one %s database', (kind) => {
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.close());

  it('ends every session on both nodes, the one that used the link at once', async () => {
    const database = await createTestDatabase(kind);
    const url = database.location.kind === 'postgres' ? database.location.url : `sqlite:${database.location.path}`;
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-reset-nodes-'));
    const env = {
      DATABASE_URL: url,
      GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false',
      GATEHOUSE_SMTP_URL: smtp.url,
      GATEHOUSE_PUBLIC_URL: 'https://auth.example.com',
    };
    const nodes: RunningServer[] = [];
    try {
      nodes.push(await startServer(cwd, env), await startServer(cwd, env));
      const [a, b] = nodes as [RunningServer, RunningServer];
      const email = `reset-${kind}@example.com`;
      await register(a, email);
      const sessions = await signInMany([a, b], email, 6);
      for (const node of [a, b]) for (const s of sessions) expect((await send(node.url, 'GET', '/v1/me', { token: s.access })).status).toBe(200);

      expect((await send(a.url, 'POST', '/v1/auth/password-reset', { body: { email } })).status).toBe(202);
      const mail = await waitForMail(smtp, 'https://auth.example.com/reset-password#token=');
      const token = new URL(linkIn(mail, 'https://auth.example.com/reset-password#token=')).hash.slice('#token='.length);
      const reset = await send(b.url, 'POST', '/v1/auth/password-reset/confirm', { body: { token, new_password: 'a new passphrase after the reset' } });
      expect(reset.status).toBe(204);

      for (const s of sessions) expect((await send(b.url, 'GET', '/v1/me', { token: s.access })).code).toBe('session_revoked');
      const answeredAt = reset.sentAt + reset.ms;
      for (const s of sessions) {
        let refused = false;
        while (!refused && performance.now() - answeredAt < STALENESS_BOUND_MS) {
          const answer = await send(a.url, 'GET', '/v1/me', { token: s.access });
          refused = answer.code === 'session_revoked';
          if (!refused) {
            expect(answer.status).toBe(200);
            await sleep(5);
          }
        }
        expect(refused, `node A refused session ${s.id} within ${STALENESS_BOUND_MS} ms`).toBe(true);
      }
      const signedIn = await send(a.url, 'POST', '/v1/auth/login', { body: { email, password: 'a new passphrase after the reset' } });
      expect(signedIn.status).toBe(200);
    } finally {
      for (const node of nodes) await node.stop();
      rmSync(cwd, { recursive: true, force: true });
      await database.drop();
    }
  }, 60_000);
});

async function waitForMail(smtp: TestSmtpServer, link: string) {
  for (const deadline = performance.now() + 10_000; performance.now() < deadline; await sleep(20)) {
    const found = smtp.received.find((m) => (m.parsed.text ?? '').includes(link));
    if (found) return found;
  }
  throw new Error(`no mail with ${link} arrived`);
}
