import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { WEBHOOK_TYPES } from '../../src/core/activity.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { PASSWORD, USER_AGENTS } from '../helpers/app.js';
import { createTestDatabase, type DatabaseKind } from '../helpers/databases.js';
import { freePort } from '../helpers/embedded-postgres.js';
import { call, startServer, type RunningServer } from '../helpers/server-process.js';
import { WebhookReceiver } from './receiver.js';

/**
 * Issue 5, item 4, end to end: a real Gatehouse process, a real receiver that is down for the
 * first deliveries, and a Gatehouse restart in between. Every event must arrive exactly once
 * (by `webhook-id`), verified by the recipe of docs/webhooks.md, and nothing may be lost.
 *
 * 1. The receiver's port refuses connections. Gatehouse #1 sees three sign-ins (two from new
 *    devices), one session signed out from another, a reused refresh token and a password
 *    change; it fails each notification at least once, then stops (SIGTERM).
 * 2. The receiver comes up, answering 503 to the first request for each id, 204 after. Gatehouse
 *    #2 starts on the same database; a sign-in from yet another device signs out all others.
 */

const NEW_PASSWORD = 'a brand new horse battery staple';
const MAC_SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';
const PUBLIC_URL = 'https://auth.example.test';
const EXPECTED: Record<(typeof WEBHOOK_TYPES)[number], number> = { new_device_login: 3, password_changed: 1, refresh_token_reused: 1, sessions_revoked: 2 };
const WAIT = { timeout: 60_000, interval: 100 };

type Verify = (secret: string, headers: Record<string, unknown>, rawBody: string) => boolean;

/** The verification recipe exactly as docs/webhooks.md prints it. */
async function documentedVerifier(dir: string): Promise<Verify> {
  const doc = readFileSync(resolve('docs/webhooks.md'), 'utf8');
  const block = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes('export function verifyWebhook'));
  if (!block) throw new Error('docs/webhooks.md has no verifyWebhook recipe');
  const file = join(dir, 'verify-webhook.mjs');
  writeFileSync(file, block);
  return ((await import(pathToFileURL(file).href)) as { verifyWebhook: Verify }).verifyWebhook;
}

/** The JSON lines a server logged about webhooks. */
function webhookLogs(server: RunningServer): Array<{ level: number; msg: string; webhook_id?: string; error?: string }> {
  return server.logs.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { component?: string };
      return entry.component === 'webhooks' ? [entry as never] : [];
    } catch {
      return [];
    }
  });
}

async function signIn(url: string, userAgent: string, password = PASSWORD) {
  const answer = await call(url, 'POST', '/v1/auth/login', { body: { email: 'ann@example.com', password }, headers: { 'user-agent': userAgent } });
  expect(answer.status).toBe(200);
  return answer.body as { access_token: string; refresh_token: string; session: { id: string } };
}

/**
 * The whole test, on each database in `kinds`: the slow suite runs it on both
 * (test/hostile/webhooks/); `npm test` keeps the small `webhookRetryTest` below. What differs by
 * database, the outbox's claims and their leases, is in the store conformance suite on both.
 */
export function webhookDeliveryTests(kinds: readonly DatabaseKind[]): void {
  describe.each(kinds)('webhooks from a Gatehouse process on %s', (kind) => {
    it('arrive exactly once each, signed as documented, though the receiver is down at first and Gatehouse restarts', async () => {
      const database = await createTestDatabase(kind);
      const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-webhooks-'));
      const port = await freePort();
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const env = {
        DATABASE_URL: database.location.kind === 'postgres' ? database.location.url : `sqlite:${database.location.path}`,
        GATEHOUSE_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/gatehouse`,
        GATEHOUSE_WEBHOOK_SECRET: secret,
        GATEHOUSE_PUBLIC_URL: PUBLIC_URL,
        GATEHOUSE_REFRESH_REUSE_GRACE: '1',
      };
      const servers: RunningServer[] = [];
      let receiver: WebhookReceiver | undefined;
      try {
        // 1. The receiver is down.
        const first = await startServer(cwd, env);
        servers.push(first);
        expect((await call(first.url, 'POST', '/v1/auth/register', { body: { email: 'ann@example.com', password: PASSWORD, name: 'Ann' } })).status).toBe(201);
        const windows = await signIn(first.url, USER_AGENTS.chromeWindows); // the device she registered with: no alert
        const firefox = await signIn(first.url, USER_AGENTS.firefoxUbuntu); // new_device_login
        const iphone = await signIn(first.url, USER_AGENTS.safariIphone); // new_device_login
        expect((await call(first.url, 'DELETE', `/v1/me/sessions/${iphone.session.id}`, { token: firefox.access_token })).status).toBe(204); // sessions_revoked
        expect((await call(first.url, 'POST', '/v1/auth/refresh', { body: { refresh_token: windows.refresh_token } })).status).toBe(200);
        await sleep(1500); // past the 1 s reuse grace: the spent token now means theft
        const reused = await call(first.url, 'POST', '/v1/auth/refresh', { body: { refresh_token: windows.refresh_token } });
        expect(reused.body).toMatchObject({ code: 'refresh_token_reused' }); // refresh_token_reused
        const changed = await call(first.url, 'POST', '/v1/me/password', {
          token: firefox.access_token,
          body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
        });
        expect(changed.status).toBe(204); // password_changed

        await vi.waitFor(() => {
          const failed = new Set(
            webhookLogs(first)
              .filter((l) => l.msg === 'webhook delivery failed; will retry')
              .map((l) => l.webhook_id),
          );
          expect(failed.size).toBe(5);
        }, WAIT);
        expect(webhookLogs(first).every((l) => l.error === 'ECONNREFUSED')).toBe(true);
        expect(await first.stop()).toBe(0);

        // 2. The receiver is up but fails each notification once; Gatehouse starts again.
        receiver = await WebhookReceiver.start((webhook, received) => (received.filter((w) => w.id === webhook.id).length === 1 ? 503 : 204), port);
        const second = await startServer(cwd, env);
        servers.push(second);
        const mac = await signIn(second.url, MAC_SAFARI, NEW_PASSWORD); // new_device_login
        const others = await call(second.url, 'DELETE', '/v1/me/sessions?scope=others', { token: mac.access_token }); // sessions_revoked
        expect(others.body).toEqual({ revoked: 1 });

        const total = Object.values(EXPECTED).reduce((a, b) => a + b, 0);
        await vi.waitFor(() => expect(receiver!.acknowledged().size).toBe(total), WAIT);
        expect(await second.stop()).toBe(0);

        // Every notification the database holds was acknowledged, and nothing else arrived.
        const store = await openStore(database.location);
        const rows = await store.db.selectFrom('webhook_deliveries').select(['event_id', 'type', 'delivered_at', 'attempts']).execute();
        await store.close();
        const acknowledged = receiver.acknowledged();
        const duplicates = [...acknowledged].filter(([, count]) => count > 1);
        console.log(
          `webhooks on ${kind}: ${rows.length} events, ${acknowledged.size} acknowledged, ${duplicates.length} duplicates, ` +
            `${receiver.received.length} requests (${receiver.received.filter((w) => w.status === 503).length} answered 503), ` +
            `${rows.reduce((n, r) => n + r.attempts, 0)} attempts recorded`,
        );
        expect(duplicates).toEqual([]);
        expect(rows.map((r) => r.event_id).sort()).toEqual([...acknowledged.keys()].sort());
        expect(rows.filter((r) => r.delivered_at === null)).toEqual([]);
        const types: Record<string, number> = {};
        for (const row of rows) types[row.type] = (types[row.type] ?? 0) + 1;
        expect(types).toEqual(EXPECTED);

        // Each request, the 503'd ones included, verifies with the documented recipe and tells of its own event.
        const verify = await documentedVerifier(cwd);
        for (const webhook of receiver.received) {
          expect(verify(secret, webhook.headers, webhook.body)).toBe(true);
          expect(verify(`whsec_${randomBytes(32).toString('base64')}`, webhook.headers, webhook.body)).toBe(false);
          const payload = JSON.parse(webhook.body) as { type: string; data: { event_id: string; user: unknown; not_me_url?: string } };
          expect(payload.data.event_id).toBe(webhook.id);
          expect(payload.data.user).toEqual({ id: expect.any(String), email: 'ann@example.com', name: 'Ann' });
          expect(rows.find((r) => r.event_id === webhook.id)?.type).toBe(payload.type);
          if (payload.type === 'new_device_login') expect(payload.data.not_me_url).toMatch(new RegExp(`^${PUBLIC_URL}/v1/not-me/${webhook.id}\\.`));
        }
        // A retry carries the same news: its body is the one that failed, byte for byte.
        for (const [id] of acknowledged) {
          const bodies = new Set(receiver.received.filter((w) => w.id === id).map((w) => w.body));
          expect(bodies.size).toBe(1);
        }
        // The secret and the links never reach the log.
        const logged = servers.flatMap((s) => s.logs).join('\n');
        expect(logged).not.toContain(secret);
        expect(logged).not.toContain('/v1/not-me/');
      } finally {
        for (const server of servers) await server.stop();
        await receiver?.close();
        rmSync(cwd, { recursive: true, force: true });
        await database.drop();
      }
    }, 180_000);
  });
}

/**
 * The small version `npm test` keeps (test/webhooks/delivery.process.test.ts): one notification
 * from a real process, refused once with 503 and delivered on its retry with the same body,
 * both requests verified by the documented recipe.
 */
export function webhookRetryTest(kind: DatabaseKind): void {
  describe(`a webhook from a Gatehouse process on ${kind}`, () => {
    it('arrives once, signed as documented, after the receiver refused it the first time', async () => {
      const database = await createTestDatabase(kind);
      const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-webhook-'));
      const receiver = await WebhookReceiver.start((webhook, received) => (received.filter((w) => w.id === webhook.id).length === 1 ? 503 : 204));
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const env = {
        DATABASE_URL: database.location.kind === 'postgres' ? database.location.url : `sqlite:${database.location.path}`,
        GATEHOUSE_WEBHOOK_URL: receiver.url,
        GATEHOUSE_WEBHOOK_SECRET: secret,
        GATEHOUSE_PUBLIC_URL: PUBLIC_URL,
      };
      let server: RunningServer | undefined;
      try {
        server = await startServer(cwd, env);
        expect((await call(server.url, 'POST', '/v1/auth/register', { body: { email: 'ann@example.com', password: PASSWORD, name: 'Ann' } })).status).toBe(201);
        await signIn(server.url, USER_AGENTS.chromeWindows); // the device she registered with: no alert
        await signIn(server.url, USER_AGENTS.firefoxUbuntu); // new_device_login
        await vi.waitFor(() => expect(receiver.acknowledged().size).toBe(1), WAIT);
        expect(await server.stop()).toBe(0);

        const [[id, count]] = [...receiver.acknowledged()] as [[string, number]];
        expect(count).toBe(1);
        const requests = receiver.received.filter((w) => w.id === id);
        expect(requests.map((w) => w.status)).toEqual([503, 204]);
        // A retry carries the same news: its body is the one that failed, byte for byte.
        expect(new Set(requests.map((w) => w.body)).size).toBe(1);
        const verify = await documentedVerifier(cwd);
        for (const webhook of requests) expect(verify(secret, webhook.headers, webhook.body)).toBe(true);
        const payload = JSON.parse(requests[0]!.body) as { type: string; data: { event_id: string; user: unknown; not_me_url?: string } };
        expect(payload).toMatchObject({
          type: 'new_device_login',
          data: { event_id: id, user: { id: expect.any(String), email: 'ann@example.com', name: 'Ann' } },
        });
        expect(payload.data.not_me_url).toMatch(new RegExp(`^${PUBLIC_URL}/v1/not-me/${id}\\.`));
        expect(server.logs.join('\n')).not.toContain(secret);
      } finally {
        await server?.stop();
        await receiver.close();
        rmSync(cwd, { recursive: true, force: true });
        await database.drop();
      }
    }, 60_000);
  });
}
