import type { FastifyInstance } from 'fastify';

/**
 * One line per request, after the response: method, path, status, time, client address and
 * the session. The query string is left out (it is where careless clients put tokens) and no
 * header is logged, so neither tokens nor cookies reach the logs.
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
        session_id: request.caller?.sessionId,
      },
      'request',
    );
  });
}
