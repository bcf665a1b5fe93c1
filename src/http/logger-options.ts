import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import { loggablePath } from './plugins/request-log.js';

export type LoggerOptions = Exclude<NonNullable<FastifyServerOptions['logger']>, boolean>;

/** What a redacted value reads as in a log line. */
export const REDACTED = '[redacted]';

/** The headers that carry credentials: access tokens and service keys, the refresh cookie. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/**
 * Where request bytes sit on the objects that get logged: a body (the password of a sign-in),
 * a `rawPacket` (Node's parser errors carry the request's raw bytes), a reply's `payload`.
 */
const SECRET_FIELDS = ['body', 'payload', 'rawPacket'];

/** The names requests, replies and errors are logged under, here and in Fastify. */
const CARRIERS = ['req', 'request', 'res', 'reply', 'response', 'err', 'error'];

/**
 * Paths named in full, not wildcards: pino only checks a path when its first key is in the line,
 * so these cost nothing on the request log's lines, where a leading `*` cost 30 times the line.
 */
function redactPaths(): string[] {
  const secrets = [...SECRET_HEADERS.map((name) => `headers["${name}"]`), ...SECRET_FIELDS];
  const paths = [...secrets];
  for (const carrier of CARRIERS) {
    // An HTTP client's error holds its request and response, a Fastify request its raw one.
    for (const inner of ['', 'raw.', 'request.', 'response.']) paths.push(...secrets.map((secret) => `${carrier}.${inner}${secret}`));
  }
  return paths;
}

/**
 * The logger of every Gatehouse node, at any level: no header, body or raw packet of a request
 * reaches a line, whatever logs it (our code, Fastify's error logging, a library's error). The
 * serializers keep requests to what the request log shows; the redaction catches what other
 * objects carry.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths(), censor: REDACTED },
    serializers: {
      // Fastify's own `req` keeps the raw URL: its query, or a "this wasn't me" link's token.
      req: requestFields,
      request: requestFields,
      res: replyFields,
      reply: replyFields,
    },
  };
}

function requestFields(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: loggablePath(request.url ?? '', request.routeOptions?.url),
    remoteAddress: request.ip,
  };
}

function replyFields(reply: { statusCode: number }): Record<string, unknown> {
  return { statusCode: reply.statusCode };
}
