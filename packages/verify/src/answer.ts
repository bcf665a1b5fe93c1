import type { GatehouseError } from './errors.js';
import { challengeFor, problem, type Problem } from './problem.js';

/** The HTTP answer Gatehouse gives for an error, for any framework to send. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Problem;
}

/**
 * Built from Gatehouse's own table (problem.ts), so a resource server answers exactly
 * as Gatehouse does: the same status, problem+json body and `WWW-Authenticate` challenge, and
 * `no-store` because the answer concerns a credential.
 */
export function answerFor(error: GatehouseError): Answer {
  const body = problem(error.code, error.detail, error.errors);
  const challenge = challengeFor(error.code);
  return {
    status: body.status,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(challenge ? { 'www-authenticate': challenge } : {}),
    },
    body,
  };
}
