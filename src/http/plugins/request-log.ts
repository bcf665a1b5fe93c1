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
        path: loggablePath(request.url, request.routeOptions.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
        session_id: request.caller?.sessionId,
      },
      'request',
    );
  });
}

const NOT_ME_ROUTE = `${NOT_ME_PATH}/:token`;

/**
 * The expiry and signature of a "this wasn't me" token (core/not-me-link.ts), wherever it sits.
 * Starting at a dot, not at the event id, keeps the search linear on a 16 KiB path.
 */
const LINK_TOKEN = /\.\d+\.[A-Za-z0-9_-]{43}/;

/**
 * The path without its query, and without the token of a "this wasn't me" link: that token is
 * a credential (it ends a session), and logs are read by more people than accounts are.
 *
 * `route` is the route the request matched. It decides, not the raw text: `/v1/not%2Dme/…` and
 * `/%761/not-me/…` reach the link's handler too. Any other path (unmatched, or another route's
 * parameter) loses each segment that holds a link's token, in any percent-encoding.
 */
export function loggablePath(url: string, route?: string): string {
  const path = url.split('?')[0] ?? '';
  if (route === NOT_ME_ROUTE || path.startsWith(`${NOT_ME_PATH}/`)) return `${NOT_ME_PATH}/…`;
  // Cut before searching: every answer, a 404 too, pays for this on the event loop, and no path
  // of the API is anywhere near this long.
  const kept = path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
  return kept
    .split('/')
    .map((segment) => (segment.length >= MIN_TOKEN_LENGTH && LINK_TOKEN.test(decoded(segment)) ? '…' : segment))
    .join('/');
}

const MAX_LOGGED_PATH = 1024;
/** The shortest a link token can be: a 1-character id, a dot, a 1-digit expiry, a dot, 43 characters; escapes only add. */
const MIN_TOKEN_LENGTH = 47;

/**
 * The segment with its ASCII escapes undone (a token is all ASCII), twice-encoded ones too;
 * unlike decodeURIComponent, a malformed escape elsewhere in the segment does not stop it.
 */
function decoded(segment: string): string {
  let text = segment;
  for (let round = 0; round < 3 && text.includes('%'); round++)
    text = text.replace(/%([0-7][0-9a-f])/gi, (_escape, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return text;
}
