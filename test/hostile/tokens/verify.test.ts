import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { answerFor, createVerifier, expressAuth, fastifyAuth, GatehouseError, type Verifier } from '@gatehouse/verify';
import { b64u, compact, eddsa } from './forge.js';
import { bitFlipTokens, cachedClockCases, clockControls, controls, headerSafe, hostileTokens, type HostileToken } from './hostile-tokens.js';
import { expectRefusals, SERVICE_KEY, startTarget, type HostileSetup, type Refusal } from './target.js';

/** How many distinct unknown kids each flood sends. */
const FLOOD = 1000;

/**
 * gatehouse/verify in a resource server, against a real Gatehouse listening on loopback: the
 * same hostile tokens, through `verify()` itself and through both framework adapters.
 *
 * The verifier judges time by Date.now(), so Date (and only Date: timers stay real, the feed
 * keeps streaming) is faked and held at the instant Gatehouse's test clock shows.
 */
describe('gatehouse/verify, given hostile access tokens', () => {
  let setup: HostileSetup;
  let hostile: HostileToken[];
  let verifier: Verifier;
  let gatehouseUrl: string;
  let resourceFastify: FastifyInstance;
  let resourceExpress: Server;
  let expressUrl: string;
  /** Every URL the verifier fetched. */
  const fetched: string[] = [];
  const jwksFetches = () => fetched.filter((url) => url === `${gatehouseUrl}/.well-known/jwks.json`).length;

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    setup = await startTarget();
    vi.setSystemTime(setup.gatehouse.clock.now());
    hostile = hostileTokens(setup.target);
    gatehouseUrl = await setup.gatehouse.app.listen({ port: 0, host: '127.0.0.1' });
    verifier = createVerifier({
      issuer: setup.target.issuer,
      audience: setup.target.audience,
      serviceKey: SERVICE_KEY,
      jwksUrl: `${gatehouseUrl}/.well-known/jwks.json`,
      feedUrl: `${gatehouseUrl}/v1/revocations`,
      fetch: (input, init) => {
        fetched.push(input instanceof Request ? input.url : String(input));
        return fetch(input, init);
      },
    });
    await verifier.ready();

    resourceFastify = Fastify();
    resourceFastify.get('/private', { onRequest: fastifyAuth(verifier) }, async (request) => ({ user: request.gatehouse?.userId }));
    const app = express();
    app.get('/private', expressAuth(verifier), (request, response) => {
      response.json({ user: request.gatehouse?.userId });
    });
    // Node's default 16 KiB header limit would answer the 100 kB tokens 431 before the
    // middleware saw them; the limit is raised so the middleware itself is what refuses them.
    resourceExpress = createServer({ maxHeaderSize: 256 * 1024 }, app).listen(0, '127.0.0.1');
    await once(resourceExpress, 'listening');
    expressUrl = `http://127.0.0.1:${(resourceExpress.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await verifier?.close();
    resourceExpress?.closeAllConnections();
    resourceExpress?.close();
    await resourceFastify?.close();
    await setup?.close();
    vi.useRealTimers();
  });

  async function direct(token: string): Promise<Refusal> {
    try {
      await verifier.verify(token);
      return { status: 200, contentType: undefined, challenge: undefined, code: 'accepted' };
    } catch (error) {
      if (!(error instanceof GatehouseError)) throw error;
      const answer = answerFor(error);
      return { status: answer.status, contentType: answer.headers['content-type'], challenge: answer.headers['www-authenticate'], code: error.code };
    }
  }

  async function viaFastify(token: string): Promise<Refusal> {
    const response = await resourceFastify.inject({ method: 'GET', url: '/private', headers: { authorization: `Bearer ${token}` } });
    const { 'content-type': contentType, 'www-authenticate': challenge } = response.headers;
    return {
      status: response.statusCode,
      contentType: typeof contentType === 'string' ? contentType : undefined,
      challenge: typeof challenge === 'string' ? challenge : undefined,
      code: response.statusCode === 200 ? 'accepted' : (response.json() as { code?: unknown }).code,
    };
  }

  async function viaExpress(token: string): Promise<Refusal> {
    const response = await fetch(`${expressUrl}/private`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { code?: unknown };
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? undefined,
      challenge: response.headers.get('www-authenticate') ?? undefined,
      code: response.status === 200 ? 'accepted' : body.code,
    };
  }

  /** Every case through verify(); with `adapters`, those an HTTP client can send through both adapters as well. */
  async function refusals(cases: HostileToken[], adapters: boolean): Promise<void> {
    const answers: Refusal[] = [];
    for (const hostile of cases) answers.push(await direct(hostile.token));
    expectRefusals(cases, answers);
    const sendable = cases.filter((hostile) => headerSafe(hostile.token));
    for (const adapter of adapters ? [viaFastify, viaExpress] : []) {
      const adapterAnswers: Refusal[] = [];
      for (const hostile of sendable) adapterAnswers.push(await adapter(hostile.token));
      expectRefusals(sendable, adapterAnswers);
    }
  }

  it('accepts every control token, directly and through both adapters', async () => {
    for (const control of controls(setup.target)) {
      for (const check of [direct, viaFastify, viaExpress]) expect((await check(control.token)).status, `${control.name} (${check.name})`).toBe(200);
    }
  });

  it('refuses every hostile token with 401 and a WWW-Authenticate challenge, as Gatehouse does', async () => {
    expect(hostile.length).toBeGreaterThan(200);
    await refusals(hostile, true);
  });

  it('refuses the genuine token with any one bit flipped, and still accepts it afterwards', async () => {
    const flips = bitFlipTokens(setup.target.validToken);
    expect(flips.length).toBeGreaterThan(2000);
    // Through verify() alone: the adapters add no check of their own (the catalogue above shows
    // they pass verify()'s refusals on intact), and ~2,700 more HTTP round trips would cost ~30 s.
    await refusals(flips, false);
    for (const check of [direct, viaFastify, viaExpress]) expect((await check(setup.target.validToken)).status).toBe(200);
  });

  it("holds each leeway to the second, with the leeway Gatehouse's feed states", async () => {
    const clocks = clockControls(setup.target);
    const now = setup.gatehouse.clock.now();
    const at = async (offsetSeconds: number, token: string) => {
      vi.setSystemTime(now + offsetSeconds * 1000);
      try {
        return await direct(token);
      } finally {
        vi.setSystemTime(now);
      }
    };
    for (const control of Object.values(clocks)) expect((await at(0, control.token)).status, control.name).toBe(200);
    const late = cachedClockCases(clocks);
    const answers = [];
    for (const c of late) answers.push(await at(c.offsetSeconds, c.token));
    expectRefusals(late, answers);
  });

  it('fetches the JWKS at most once per cooldown, however many unknown kids arrive', async () => {
    const attacker = eddsa(setup.target.attackers.ed25519.privateKey);
    const { now } = setup.target;
    const flood = () =>
      Promise.all(
        Array.from({ length: FLOOD }, () =>
          direct(
            compact(
              { alg: 'EdDSA', typ: 'at+jwt', kid: b64u(randomBytes(32)) },
              { sub: 'x', sid: 'x', jti: 'x', iat: now, exp: now + 60, auth_time: now },
              attacker,
            ),
          ),
        ),
      );
    const before = jwksFetches();
    expect(before).toBe(1); // the fetch at start
    expect(new Set((await flood()).map((answer) => answer.code))).toEqual(new Set(['token_invalid']));
    expect(jwksFetches()).toBe(before);
    // Past the 30-second default cooldown, one unknown kid may fetch again: exactly one fetch for the whole flood.
    vi.setSystemTime(setup.gatehouse.clock.now() + 31_000);
    try {
      expect(new Set((await flood()).map((answer) => answer.code))).toEqual(new Set(['token_invalid']));
      expect(jwksFetches()).toBe(before + 1);
      expect((await direct(setup.target.validToken)).status).toBe(200);
    } finally {
      vi.setSystemTime(setup.gatehouse.clock.now());
    }
  });

  it('made no outbound request: the trap saw no connection, and the verifier fetched only the JWKS and the feed', () => {
    expect(setup.trap.connections).toBe(0);
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.filter((url) => url !== `${gatehouseUrl}/.well-known/jwks.json` && url !== `${gatehouseUrl}/v1/revocations`)).toEqual([]);
  });
});
