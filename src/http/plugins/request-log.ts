import { NOT_ME_PATH } from '../../core/not-me-link.js';
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
        path: loggablePath(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
        session_id: request.caller?.sessionId,
      },
      'request',
    );
  });
}

/**
 * The path without its query, and without the token of a "this wasn't me" link: that token is
 * a credential (it ends a session), and logs are read by more people than accounts are.
 */
export function loggablePath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.startsWith(`${NOT_ME_PATH}/`) ? `${NOT_ME_PATH}/…` : path;
}
