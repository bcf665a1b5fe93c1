import type { FastifyInstance } from 'fastify';
import type { GatehouseMetrics, SignInOutcome } from './gatehouse-metrics.js';

const SIGN_IN_ROUTE = '/v1/auth/login';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * What the answer to a sign-in says, by its status: on this route a status stands for one kind
 * of refusal (a 401 is only ever `invalid_credentials`; a 403 the browser-mode origin check, or
 * `email_not_verified` with GATEHOUSE_EMAIL_VERIFICATION=required: the sign-in was refused on
 * other grounds than the password), so the status is the outcome the client got, whichever
 * layer refused it.
 */
const SIGN_IN_BY_STATUS: Record<number, SignInOutcome> = {
  200: 'success',
  400: 'invalid_request',
  401: 'invalid_credentials',
  403: 'forbidden',
  413: 'invalid_request',
  415: 'invalid_request',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * Counts and times every answer, in one onResponse hook: no database, and once a route's
 * series exist, one Map lookup. The route label is Fastify's route pattern, never the URL: a
 * label per URL (every session id, every probe of a scanner, every "this wasn't me" token)
 * would grow without bound, exhaust the memory of Gatehouse and of Prometheus, and put
 * credentials in the metrics. Requests that matched no route share one label.
 */
export function registerRequestMetrics(app: FastifyInstance, metrics: GatehouseMetrics): void {
  // A callback hook, not an async one: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = METHODS.has(request.method) ? request.method : 'other';
    metrics.request(route, method, reply.statusCode, reply.elapsedTime / 1000);
    if (route === SIGN_IN_ROUTE && method === 'POST') metrics.signIn(SIGN_IN_BY_STATUS[reply.statusCode] ?? 'error');
    done();
  });
}
