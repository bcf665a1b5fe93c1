import { STATUS_CODES } from 'node:http';
import { ERROR_CODES, type ErrorCode, type FieldError } from '../../core/errors.js';
import { problem } from '../problem.js';
import type { CollectedRoute } from './collect-routes.js';
import { byStatus, problemCodes } from './error-codes.js';
import { PROBLEM_DETAILS } from './examples.js';

/** The body of every error (problem.ts, RFC 9457), as a component the responses refer to. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'An error (RFC 9457). Clients branch on `code`, which never changes; `title` and `detail` are for people.',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string', format: 'uri', description: '`urn:gatehouse:error:` and the code.' },
    title: { type: 'string', description: 'The same for every problem with this code.' },
    status: { type: 'integer', description: 'The HTTP status, repeated.' },
    code: { type: 'string', enum: [...ERROR_CODES] },
    detail: { type: 'string', description: 'What went wrong this time, and what to do.' },
    errors: {
      type: 'array',
      description: 'For `validation_failed` and `weak_password`: one entry per field.',
      items: {
        type: 'object',
        required: ['pointer', 'detail'],
        properties: {
          pointer: { type: 'string', description: 'A JSON pointer into the request: `/body/email`, `/querystring/scope`.' },
          detail: { type: 'string' },
        },
      },
    },
  },
} as const;

const HEADERS: Readonly<Record<number, Record<string, { description: string; schema: { type: string } }>>> = {
  401: {
    'WWW-Authenticate': {
      description: '`Bearer`, with `error="invalid_token"` when a token was sent but cannot be used (RFC 6750).',
      schema: { type: 'string' },
    },
  },
  429: { 'Retry-After': { description: 'Seconds until a new attempt can succeed.', schema: { type: 'string' } } },
};

const HTML_PAGE = {
  schema: { type: 'string', description: 'A page for the person who opened the link, naming the code.' },
};

/**
 * The error responses of a route: for each status, a problem+json body whose `code` can only
 * be one of the codes the route answers with that status, and an example of each; and, for
 * codes the route answers with a page, `text/html`.
 */
export function problemResponses(route: CollectedRoute): Record<string, unknown> {
  const asProblem = new Set(problemCodes(route));
  const asPage = new Set(route.docs?.pages ?? []);
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of byStatus(ERROR_CODES.filter((code) => asProblem.has(code) || asPage.has(code)))) {
    const problemCodesHere = codes.filter((code) => asProblem.has(code));
    const content: Record<string, unknown> = {};
    if (problemCodesHere.length > 0) {
      content['application/problem+json'] = {
        schema: {
          allOf: [{ $ref: '#/components/schemas/Problem' }],
          properties: { status: { const: status }, code: { enum: problemCodesHere } },
        },
        examples: Object.fromEntries(problemCodesHere.map((code) => [code, { summary: code, value: exampleProblem(route, code) }])),
      };
    }
    if (codes.some((code) => asPage.has(code))) content['text/html'] = HTML_PAGE;
    responses[String(status)] = {
      description: `${STATUS_CODES[status] ?? 'Error'}: ${codes.map((code) => `\`${code}\`${asPage.has(code) ? ' (page)' : ''}`).join(', ')}.`,
      ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
      content,
    };
  }
  return responses;
}

/** What the route would send for `code`; a validation failure names a required field of its own, if it has one. */
function exampleProblem(route: CollectedRoute, code: ErrorCode): unknown {
  const auth = route.docs?.auth;
  if (auth === 'service' || auth === 'metrics') {
    const credential = auth === 'service' ? 'service key' : 'metrics token';
    if (code === 'token_missing') return problem(code, `Send the ${credential} in an Authorization: Bearer header.`);
    if (code === 'token_invalid') return problem(code, `The ${credential} is not valid.`);
  }
  if (code !== 'validation_failed') return problem(code, PROBLEM_DETAILS[code]);
  const field = firstField(route);
  if (!field) return problem(code, PROBLEM_DETAILS[code]);
  const errors: FieldError[] = [{ pointer: field, detail: 'is required' }];
  return problem(code, `${field} is required`, errors);
}

function firstField(route: CollectedRoute): string | undefined {
  const { schema } = route;
  for (const [part, context] of [
    [schema?.body, 'body'],
    [schema?.querystring, 'querystring'],
  ] as const) {
    const required = (part as { required?: unknown } | undefined)?.required;
    if (Array.isArray(required) && typeof required[0] === 'string') return `/${context}/${required[0]}`;
  }
  return undefined;
}
