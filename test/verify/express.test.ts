import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/core/errors.js';
import { stubVerifier } from './stub-verifier.js';
import { answerFor, expressAuth } from '@gatehouse/verify';

const stub = stubVerifier;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.close();
    await once(server, 'close');
  }
});

/** An Express resource server, really listening; resolves with its base URL. */
async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function resourceServer(): express.Express {
  const app = express();
  app.use(expressAuth(stub));
  app.get('/v1/orders', (req, res) => {
    res.json({ user: req.gatehouse?.userId });
  });
  return app;
}

describe('the Express middleware of gatehouse/verify', () => {
  it('lets an authenticated request through with its claims on req.gatehouse', async () => {
    const base = await listen(resourceServer());
    const response = await fetch(`${base}/v1/orders`, { headers: { authorization: 'Bearer good' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ user: 'user-ann' });
  });

  it.each(['token_missing', 'token_invalid', 'token_expired', 'session_revoked', 'unavailable'] as const)(
    "answers %s with Gatehouse's status, problem+json body, challenge and no-store",
    async (code) => {
      const base = await listen(resourceServer());
      const response = await fetch(`${base}/v1/orders`, { headers: { authorization: `Bearer ${code}` } });
      const expected = answerFor(new GatehouseError(code, 'refused by the stub'));
      expect(response.status).toBe(expected.status);
      expect(await response.text()).toBe(JSON.stringify(expected.body));
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBe(
        code === 'unavailable' ? null : code === 'token_missing' ? 'Bearer' : 'Bearer error="invalid_token"',
      );
      expect(response.headers.get('cache-control')).toBe('no-store');
    },
  );

  it('refuses an access token in the query string, even next to a valid header', async () => {
    const base = await listen(resourceServer());
    const response = await fetch(`${base}/v1/orders?access_token=x`, { headers: { authorization: 'Bearer good' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'token_invalid' });
  });

  it("passes anything but a refusal to Express's error handling with next(error)", async () => {
    const app = resourceServer();
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ handled: error.message });
    });
    const base = await listen(app);
    const response = await fetch(`${base}/v1/orders`, { headers: { authorization: 'Bearer boom' } });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ handled: 'a bug, not a refusal' });
  });

  it('guards one route when given in its handlers, leaving the others open', async () => {
    const app = express();
    app.get('/public', (_req, res) => {
      res.json({ open: true });
    });
    app.get('/private', expressAuth(stub), (req, res) => {
      res.json({ user: req.gatehouse?.userId });
    });
    const base = await listen(app);
    expect((await fetch(`${base}/public`)).status).toBe(200);
    expect((await fetch(`${base}/private`)).status).toBe(401);
    expect(await (await fetch(`${base}/private`, { headers: { authorization: 'Bearer good' } })).json()).toEqual({ user: 'user-ann' });
  });
});
