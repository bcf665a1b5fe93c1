import { ERROR_CODES, type ErrorCode } from '../../core/errors.js';
import { statusOf } from '../problem.js';
import type { CollectedRoute } from './collect-routes.js';
import type { RouteAuth } from './route-docs.js';

/**
 * The codes a route can answer that follow from how it is built, so no route has to list them
 * (and none can forget them): what the token checks in plugins/authenticate.ts and
 * plugins/service-auth.ts throw, and what Fastify's own request handling turns into problems
 * in plugins/errors.ts.
 */
const AUTH_CODES: Readonly<Record<RouteAuth, readonly ErrorCode[]>> = {
  // `unavailable`: a revocation view past its staleness bound asks the database, which may be down.
  bearer: ['token_missing', 'token_invalid', 'token_expired', 'session_revoked', 'unavailable'],
  'optional-bearer': ['token_missing', 'token_invalid', 'token_expired', 'session_revoked', 'unavailable'],
  service: ['token_missing', 'token_invalid'],
  metrics: ['token_missing', 'token_invalid'],
};

/** Fastify parses a body for these methods whatever the route's schema, and can fail doing it. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const BODY_CODES: readonly ErrorCode[] = ['validation_failed', 'invalid_json', 'payload_too_large', 'unsupported_media_type'];

/** Every code the route answers as problem+json, in the order of ERROR_CODES. */
export function problemCodes(route: CollectedRoute): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.docs?.errors ?? []);
  for (const code of route.docs?.auth ? AUTH_CODES[route.docs.auth] : []) codes.add(code);
  const { schema } = route;
  // A path parameter over Fastify's length limit is refused too, schema or not.
  if (schema?.params || schema?.querystring || schema?.headers || schema?.body || route.url.includes(':')) codes.add('validation_failed');
  if (BODY_METHODS.has(route.method)) for (const code of BODY_CODES) codes.add(code);
  // Any route can fail in a way nobody foresaw; it is answered as `internal`, never a stack.
  codes.add('internal');
  return ERROR_CODES.filter((code) => codes.has(code));
}

/** Codes grouped by the status they are answered with, statuses ascending. */
export function byStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of codes) groups.set(statusOf(code), [...(groups.get(statusOf(code)) ?? []), code]);
  return new Map([...groups].sort(([a], [b]) => a - b));
}
