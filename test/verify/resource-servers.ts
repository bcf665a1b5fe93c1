import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The package's own name: this proves the `./verify` export of package.json works as published.
import { createVerifier, expressAuth, fastifyAuth, type Verifier } from 'gatehouse/verify';
import { sealPrivateKey } from '../../src/keys/private-key-encryption.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { PASSWORD } from '../helpers/app.js';
import { call, startServer, type RunningServer } from '../helpers/server-process.js';

/** The default bound, as a resource server would run with it. */
const BOUND_MS = 5000;
const SERVICE_KEY = Buffer.from(crypto.getRandomValues(new Uint8Array(36))).toString('base64url'); // 48 characters

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

type Answer = Awaited<ReturnType<typeof call>>;

/** The parts of an answer a client acts on: they must be the same from Gatehouse and a resource server. */
const visible = (answer: Answer) => ({
  status: answer.status,
  body: answer.text,
  contentType: answer.headers.get('content-type'),
  challenge: answer.headers.get('www-authenticate'),
  cacheControl: answer.headers.get('cache-control'),
});

/** Calls `ask` every few ms until `done` holds for its answer; resolves with that answer and how long it took. */
async function until(ask: () => Promise<Answer>, done: (answer: Answer) => boolean, timeoutMs: number): Promise<{ answer: Answer; ms: number }> {
  const start = performance.now();
  for (;;) {
    const answer = await ask();
    const ms = performance.now() - start;
    if (done(answer)) return { answer, ms };
    if (ms > timeoutMs) throw new Error(`still ${answer.status} ${answer.text} after ${Math.round(ms)} ms`);
    await sleep(5);
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error('timed out waiting');
    await sleep(20);
  }
}

/**
 * Which tests to run: `npm test` runs the flows (test/verify/resource-server.process.test.ts),
 * the slow suite the outages (test/hostile/outage/resource-servers.process.test.ts).
 */
export type ResourceServerTests = 'flows' | 'outages';

export function resourceServerTests(which: ResourceServerTests): void {
  describe('gatehouse/verify against a real Gatehouse process', () => {
    let cwd: string;
    let env: Record<string, string>;
    let gatehouse: RunningServer;
    let fastifyVerifier: Verifier;
    let expressVerifier: Verifier;
    let fastifyApp: FastifyInstance;
    let expressServer: Server;
    let fastifyUrl: string;
    let expressUrl: string;

    const signIn = async (email: string) => {
      const login = await call(gatehouse.url, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      return login.body as { access_token: string; session: { id: string } };
    };
    const restart = async () => {
      gatehouse = await startServer(cwd, env);
    };

    beforeAll(async () => {
      cwd = mkdtempSync(join(tmpdir(), 'gatehouse-verify-'));
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      // A fixed port, so that resource servers find Gatehouse again after it restarts.
      env = { PORT: String(port), GATEHOUSE_ISSUER: base, DATABASE_URL: `sqlite:${join(cwd, 'gatehouse.db')}`, GATEHOUSE_SERVICE_KEYS: SERVICE_KEY };
      await restart();
      const options = { issuer: base, audience: 'gatehouse', serviceKey: SERVICE_KEY, jwksCooldownSeconds: 1 };

      // Two services, each with its own verifier and feed, as separate resource servers would have.
      fastifyVerifier = createVerifier(options);
      fastifyApp = Fastify();
      fastifyApp.addHook('onRequest', fastifyAuth(fastifyVerifier));
      fastifyApp.get('/orders', async (request) => ({ user: request.gatehouse?.userId, session: request.gatehouse?.sessionId }));
      fastifyUrl = await fastifyApp.listen({ port: 0, host: '127.0.0.1' });

      expressVerifier = createVerifier(options);
      const app = express();
      app.use(expressAuth(expressVerifier));
      app.get('/orders', (req, res) => {
        res.json({ user: req.gatehouse?.userId, session: req.gatehouse?.sessionId });
      });
      expressServer = app.listen(0, '127.0.0.1');
      await once(expressServer, 'listening');
      expressUrl = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;

      await Promise.all([fastifyVerifier.ready(), expressVerifier.ready()]);
      expect((await call(gatehouse.url, 'POST', '/v1/auth/register', { body: { email: 'ann@example.com', password: PASSWORD } })).status).toBe(201);
    });

    afterAll(async () => {
      await fastifyApp?.close();
      expressServer?.close();
      await fastifyVerifier?.close();
      await expressVerifier?.close();
      if (gatehouse?.child.signalCode === null && gatehouse.child.exitCode === null) gatehouse.child.kill('SIGCONT');
      await gatehouse?.stop();
      rmSync(cwd, { recursive: true, force: true });
    });

    if (which === 'flows')
      it('lets a Fastify and an Express resource server accept a token, and refuse it within the bound once the user signs out', async () => {
        const delays: number[] = [];
        for (let round = 0; round < 5; round++) {
          const { access_token: token, session } = await signIn('ann@example.com');
          for (const url of [fastifyUrl, expressUrl]) {
            const orders = await call(url, 'GET', '/orders', { token });
            expect(orders.status).toBe(200);
            expect(orders.body).toEqual({ user: expect.any(String), session: session.id });
          }
          expect((await call(gatehouse.url, 'POST', '/v1/auth/logout', { token })).status).toBe(204);
          const [onFastify, onExpress] = await Promise.all(
            [fastifyUrl, expressUrl].map((url) =>
              until(
                () => call(url, 'GET', '/orders', { token }),
                (a) => a.status !== 200,
                BOUND_MS + 1000,
              ),
            ),
          );
          const fromGatehouse = await call(gatehouse.url, 'GET', '/v1/me', { token });
          for (const { answer, ms } of [onFastify!, onExpress!]) {
            expect(answer.body.code).toBe('session_revoked');
            expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
            expect(visible(answer)).toEqual(visible(fromGatehouse));
            expect(ms).toBeLessThanOrEqual(BOUND_MS);
            delays.push(ms);
          }
        }
        delays.sort((a, b) => a - b);
        console.log(
          `sign-out → refusal at the resource servers (${delays.length} measurements): min ${delays[0]!.toFixed(1)} ms, median ${delays[delays.length >> 1]!.toFixed(1)} ms, max ${delays.at(-1)!.toFixed(1)} ms`,
        );
      });

    if (which === 'flows')
      it('answers a request without a token, or with a malformed one, exactly as Gatehouse does', async () => {
        for (const headers of [
          {},
          { authorization: 'Basic YW5uOnB3' },
          { authorization: 'Bearer' },
          { authorization: 'Bearer not a token' },
          { authorization: 'Bearer abc.def.ghi' },
        ] as Record<string, string>[]) {
          const fromGatehouse = visible(await call(gatehouse.url, 'GET', '/v1/me', { headers }));
          expect(visible(await call(fastifyUrl, 'GET', '/orders', { headers }))).toEqual(fromGatehouse);
          expect(visible(await call(expressUrl, 'GET', '/orders', { headers }))).toEqual(fromGatehouse);
        }
        const missing = await call(fastifyUrl, 'GET', '/orders');
        expect(missing.status).toBe(401);
        expect(missing.body.code).toBe('token_missing');
        expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      });

    if (which === 'flows')
      it('accepts a token signed with a key rotated in while Gatehouse was down, after fetching the JWKS again, and no longer the retired key’s', async () => {
        const before = await signIn('ann@example.com');
        const oldKid = decodeProtectedHeader(before.access_token).kid;
        expect((await call(fastifyUrl, 'GET', '/orders', { token: before.access_token })).status).toBe(200);

        await gatehouse.stop();
        const store = await openStore({ kind: 'sqlite', path: join(cwd, 'gatehouse.db') });
        const newKid = await addSigningKey(store);
        await store.db
          .updateTable('signing_keys')
          .set({ retired_at: Date.now() })
          .where('kid', '=', oldKid as string)
          .execute();
        await store.close();
        await restart();

        const after = await signIn('ann@example.com');
        expect(decodeProtectedHeader(after.access_token).kid).toBe(newKid);
        for (const url of [fastifyUrl, expressUrl]) {
          // The feed reconnects by itself; until it has, the answer is 503, never 200 or 401.
          const { answer } = await until(
            () => call(url, 'GET', '/orders', { token: after.access_token }),
            (a) => a.status !== 503,
            BOUND_MS + 5000,
          );
          expect(answer.status).toBe(200);
          const retired = await call(url, 'GET', '/orders', { token: before.access_token });
          expect(retired.body.code).toBe('token_invalid');
          expect(visible(retired)).toEqual(visible(await call(gatehouse.url, 'GET', '/v1/me', { token: before.access_token })));
        }
      });

    // Registered only where asked for, so neither suite counts the other's tests as skipped.
    if (which === 'outages')
      it('fails closed with 503 once Gatehouse has been unreachable past the bound, and recovers by itself when it is back', async () => {
        const { access_token: token } = await signIn('ann@example.com');
        await until(
          () => call(fastifyUrl, 'GET', '/orders', { token }),
          (a) => a.status === 200,
          BOUND_MS + 5000,
        );
        await until(
          () => call(expressUrl, 'GET', '/orders', { token }),
          (a) => a.status === 200,
          BOUND_MS + 5000,
        );

        for (const outage of ['SIGSTOP', 'SIGKILL'] as const) {
          // Both feeds are open: the outage starts with a live stream, not during a reconnection.
          await waitFor(() => fastifyVerifier.status().connected && expressVerifier.status().connected, BOUND_MS + 5000);
          // SIGSTOP: the stream stays open but silent (a hung server or a dead network path); SIGKILL: it breaks.
          gatehouse.child.kill(outage);
          const failed = await Promise.all(
            [fastifyUrl, expressUrl].map((url) =>
              until(
                () => call(url, 'GET', '/orders', { token }),
                (a) => a.status !== 200,
                BOUND_MS + 2000,
              ),
            ),
          );
          for (const { answer, ms } of failed) {
            expect(answer.status).toBe(503);
            expect(answer.body).toMatchObject({ code: 'unavailable' });
            expect(answer.headers.get('www-authenticate')).toBeNull();
            // The last confirmation predates the outage, so the refusal comes within the bound of it
            // (earlier by the staleness Gatehouse reported last; later only by the polling here).
            expect(ms).toBeLessThanOrEqual(BOUND_MS + 1000);
          }
          expect(fastifyVerifier.status()).toMatchObject({ fresh: false });

          if (outage === 'SIGSTOP') gatehouse.child.kill('SIGCONT');
          else {
            if (gatehouse.child.exitCode === null && gatehouse.child.signalCode === null) await once(gatehouse.child, 'exit');
            await restart();
          }
          const backAt = performance.now();
          const recovered = await Promise.all(
            [fastifyUrl, expressUrl].map(async (url) => {
              await until(
                () => call(url, 'GET', '/orders', { token }),
                (a) => a.status === 200,
                BOUND_MS + 5000,
              );
              return performance.now() - backAt;
            }),
          );
          const ms = (values: number[]) => values.map((v) => v.toFixed(0)).join(' / ');
          console.log(
            `${outage}: 503 after ${ms(failed.map((f) => f.ms))} ms (Fastify / Express); accepted again ${ms(recovered)} ms after Gatehouse was back`,
          );
          expect(fastifyVerifier.status()).toMatchObject({ fresh: true, connected: true });
        }
      });

    if (which === 'flows')
      it('lets a process that closes its verifier exit by itself', () => {
        const script = `
        import { createVerifier } from 'gatehouse/verify';
        const verifier = createVerifier(JSON.parse(process.env.OPTIONS));
        await verifier.ready();
        console.log(JSON.stringify(verifier.status()));
        globalThis.gc(); // once kept the stream open: see the verifier test of close()
        await verifier.close();
      `;
        const options = { issuer: gatehouse.url, audience: 'gatehouse', serviceKey: SERVICE_KEY };
        const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
          cwd: process.cwd(),
          env: { PATH: process.env.PATH ?? '', OPTIONS: JSON.stringify(options) },
          encoding: 'utf8',
          timeout: 15_000,
        });
        expect(child.signal, 'the process was still running after 15 s').toBeNull();
        expect(child.status, child.stderr).toBe(0);
        expect(JSON.parse(child.stdout)).toMatchObject({ fresh: true, connected: true });
      });
  });
}

/** A new Ed25519 signing key stored as Gatehouse's key ring stores one (src/keys/key-ring.ts). */
async function addSigningKey(store: Awaited<ReturnType<typeof openStore>>): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  await store.addSigningKey({
    kid,
    alg: 'EdDSA',
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }),
    privateJwk: sealPrivateKey(JSON.stringify(await exportJWK(privateKey)), undefined),
    createdAt: Date.now(),
    activatesAt: Date.now(),
    retiredAt: null,
  });
  return kid;
}
