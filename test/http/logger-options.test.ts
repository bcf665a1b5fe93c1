import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loggerOptions, REDACTED } from '../../src/http/logger-options.js';

const TOKEN = 'Bearer at-secret-access-token';
const COOKIE = 'gatehouse_refresh=rt-secret-refresh-token';
const PASSWORD = 'pw-secret-password';
const LINK_SIGNATURE = 'S'.repeat(43);

/** An error as an HTTP library makes them: the request it was about, headers, body and bytes. */
function errorCarryingARequest(statusCode: number): Error {
  return Object.assign(new Error('upstream refused'), {
    statusCode,
    headers: { authorization: TOKEN, cookie: COOKIE },
    body: { password: PASSWORD },
    rawPacket: Buffer.from(`Authorization: ${TOKEN}`),
    response: { headers: { 'set-cookie': COOKIE }, body: PASSWORD },
  });
}

describe("Gatehouse's logger", () => {
  let app: FastifyInstance;
  let lines: string[];
  afterEach(() => app.close());

  /** A bare app with Gatehouse's logger at `level`, Fastify's own request logging and error handler left on. */
  function appLoggingAt(level: string): FastifyInstance {
    lines = [];
    app = Fastify({ logger: { ...loggerOptions(level), stream: { write: (line: string) => lines.push(line) } } });
    app.post('/v1/fails/:status', async (request) => {
      throw errorCarryingARequest(Number((request.params as { status: string }).status));
    });
    app.get('/v1/not-me/:token', async () => 'page');
    return app;
  }

  const secretsIn = (text: string) => [TOKEN, COOKIE, PASSWORD, LINK_SIGNATURE, 'at-secret', 'rt-secret'].filter((secret) => text.includes(secret));

  it.each([500, 400])("keeps the headers, body and raw bytes of a failed request (%i) out of Fastify's error line", async (status) => {
    appLoggingAt('info');
    const response = await app.inject({
      method: 'POST',
      url: `/v1/fails/${status}`,
      headers: { authorization: TOKEN, cookie: COOKIE },
      payload: { password: PASSWORD },
    });
    expect(response.statusCode).toBe(status);
    const errorLine = lines.map((line) => JSON.parse(line)).find((line) => line.err);
    expect(errorLine.err).toMatchObject({
      message: 'upstream refused',
      headers: { authorization: REDACTED, cookie: REDACTED },
      body: REDACTED,
      rawPacket: REDACTED,
    });
    expect(secretsIn(lines.join('\n'))).toEqual([]);
  });

  it("logs Fastify's `req` with the path it matched, without the query or a link's token", async () => {
    appLoggingAt('info');
    await app.inject({ method: 'GET', url: `/%761/not-me/abc.1796000000.${LINK_SIGNATURE}?access_token=at-secret`, headers: { authorization: TOKEN } });
    const incoming = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'incoming request');
    expect(incoming.req).toEqual({ method: 'GET', url: '/v1/not-me/…', remoteAddress: '127.0.0.1' });
    expect(secretsIn(lines.join('\n'))).toEqual([]);
  });

  it('redacts headers and bodies logged at any level, trace included', async () => {
    appLoggingAt('trace');
    app.log.trace({ headers: { authorization: TOKEN, 'set-cookie': COOKIE }, body: PASSWORD }, 'a trace line');
    app.log.debug({ request: { headers: { cookie: COOKIE }, body: { password: PASSWORD } } }, 'a debug line');
    app.log.warn({ err: { response: { headers: { 'proxy-authorization': TOKEN } } } }, 'a warning');
    expect(lines).toHaveLength(3);
    expect(secretsIn(lines.join('\n'))).toEqual([]);
  });
});
