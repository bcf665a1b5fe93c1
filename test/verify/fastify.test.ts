import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { GatehouseError, type ErrorCode } from '../../src/core/errors.js';
import { stubVerifier } from './stub-verifier.js';
import { registerErrorHandling } from '../../src/http/plugins/errors.js';
import { fastifyAuth } from '@gatehouse/verify';

const stub = stubVerifier;

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function resourceServer(): FastifyInstance {
  const app = Fastify();
  apps.push(app);
  app.addHook('onRequest', fastifyAuth(stub));
  app.get('/v1/orders', async (request) => ({ user: request.gatehouse?.userId }));
  return app;
}

/** Gatehouse's own error handling, answering `code` from a route, for comparison. */
function gatehouseAnswering(code: ErrorCode): FastifyInstance {
  const app = Fastify();
  apps.push(app);
  registerErrorHandling(app);
  app.get('/v1/orders', async () => {
    throw new GatehouseError(code, 'refused by the stub');
  });
  return app;
}

describe('the Fastify hook of gatehouse/verify', () => {
  it('lets an authenticated request through with its claims on request.gatehouse', async () => {
    const response = await resourceServer().inject({ url: '/v1/orders', headers: { authorization: 'Bearer good' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ user: 'user-ann' });
  });

  it.each(['token_missing', 'token_invalid', 'token_expired', 'session_revoked', 'unavailable'] as const)(
    'answers %s with the very status, headers and body Gatehouse sends, plus no-store',
    async (code) => {
      const ours = await resourceServer().inject({ url: '/v1/orders', headers: { authorization: `Bearer ${code}` } });
      const theirs = await gatehouseAnswering(code).inject({ url: '/v1/orders' });
      expect(ours.statusCode).toBe(theirs.statusCode);
      expect(ours.body).toBe(theirs.body);
      expect(ours.headers['content-type']).toBe('application/problem+json');
      expect(ours.headers['content-type']).toBe(theirs.headers['content-type']);
      expect(ours.headers['www-authenticate']).toBe(theirs.headers['www-authenticate']);
      expect(ours.headers['cache-control']).toBe('no-store');
    },
  );

  it('refuses an access token in the query string, even next to a valid header', async () => {
    const response = await resourceServer().inject({ url: '/v1/orders?access_token=x', headers: { authorization: 'Bearer good' } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'token_invalid' });
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it("leaves anything but a refusal to the app's own error handler", async () => {
    const app = resourceServer();
    app.setErrorHandler((_error, _request, reply) => reply.code(500).send({ handled: 'by the app' }));
    const response = await app.inject({ url: '/v1/orders', headers: { authorization: 'Bearer boom' } });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ handled: 'by the app' });
  });

  it('guards one route when given as its onRequest option, leaving the others open', async () => {
    const app = Fastify();
    apps.push(app);
    app.get('/public', async () => ({ open: true }));
    app.get('/private', { onRequest: fastifyAuth(stub) }, async (request) => ({ user: request.gatehouse?.userId }));
    expect((await app.inject({ url: '/public' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/private' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/private', headers: { authorization: 'Bearer good' } })).json()).toEqual({ user: 'user-ann' });
  });
});
