import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError, type ErrorCode, type FieldError } from '../../core/errors.js';
import { challengeFor, problem } from '../problem.js';
import { fieldErrors } from '../validation-errors.js';

/** Fastify's own errors for bad requests, by their code, in our vocabulary. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_MAX_PARAM_LENGTH: 'validation_failed',
  FST_ERR_VALIDATION: 'validation_failed',
};

const BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * Every error leaves as application/problem+json with a stable `code`. A client mistake is a
 * 4xx; anything else is logged with its stack and answered with a bare `internal`, never the
 * stack or the message, which could carry SQL or file paths.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    send(reply, new GatehouseError('not_found', `There is no ${request.method} route at this path.`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    // Not the client's fault, so worth an operator's attention (once per request is enough).
    if (error instanceof GatehouseError && error.code === 'unavailable' && error.cause) request.log.warn({ err: error.cause }, 'database unavailable');
    if (error instanceof GatehouseError) return send(reply, error);
    const known = translate(error);
    if (known) return send(reply, known);
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, new GatehouseError('internal'));
  });
}

function translate(error: FastifyError): GatehouseError | undefined {
  if (error.validation) {
    const errors = fieldErrors(error.validation, error.validationContext ?? 'body');
    return new GatehouseError('validation_failed', describe(errors), errors);
  }
  // secure-json-parse refuses `__proto__` and `constructor.prototype` keys with a SyntaxError.
  if (error instanceof SyntaxError && error.statusCode === 400) return new GatehouseError('invalid_json', 'The request body is not valid JSON.');
  const code = FASTIFY_CODES[error.code] ?? (error.statusCode ? BY_STATUS[error.statusCode] : undefined);
  if (code === 'invalid_json') return new GatehouseError(code, 'The request body is not valid JSON.');
  if (code === 'payload_too_large') return new GatehouseError(code, 'The request body is larger than 16 KiB.');
  if (code === 'unsupported_media_type') return new GatehouseError(code, 'Send the request body as application/json.');
  // Never echo the URL or Fastify's message back: it may hold whatever the client sent.
  if (code === 'validation_failed') return new GatehouseError(code, 'The request URL or headers are not valid.');
  return code ? new GatehouseError(code) : undefined;
}

function describe(errors: FieldError[]): string {
  const [first] = errors;
  return first ? `${first.pointer} ${first.detail}` : 'The request is not valid.';
}

/**
 * Errors Fastify meets before routing (a malformed URL, an over-long path parameter) skip the
 * error handler unless given here; they get the same problem+json treatment.
 */
export function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  send(reply, translate(error) ?? new GatehouseError('validation_failed', 'The request URL or headers are not valid.'));
}

export function send(reply: FastifyReply, error: GatehouseError): FastifyReply {
  const body = problem(error.code, error.detail, error.errors);
  const challenge = challengeFor(error.code);
  if (challenge) reply.header('www-authenticate', challenge);
  // RFC 9110 10.2.3: delay-seconds, a non-negative integer; never 0, which invites a tight loop.
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  return reply.code(body.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}
