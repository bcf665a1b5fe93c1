import type { ErrorCode, FieldError } from './errors.js';

/** The one place where error codes become HTTP statuses (Gatehouse design §8.3), for Gatehouse and resource servers alike. */
const STATUS: Record<ErrorCode, [number, string]> = {
  validation_failed: [400, 'The request is not valid'],
  invalid_json: [400, 'The request body is not valid JSON'],
  payload_too_large: [413, 'The request body is too large'],
  unsupported_media_type: [415, 'The request body must be application/json'],
  email_taken: [409, 'The email is already registered'],
  weak_password: [400, 'The password is too weak'],
  invalid_credentials: [401, 'Invalid credentials'],
  token_missing: [401, 'An access token is required'],
  token_invalid: [401, 'The access token is not valid'],
  token_expired: [401, 'The access token has expired'],
  session_revoked: [401, 'The session has ended'],
  session_expired: [401, 'The session has expired'],
  invalid_refresh_token: [401, 'The refresh token is not valid'],
  refresh_token_reused: [401, 'The refresh token was already used'],
  reauth_required: [403, 'Recent authentication is required'],
  forbidden: [403, 'Forbidden'],
  not_found: [404, 'Not found'],
  link_used: [410, 'This link has already been used'],
  link_expired: [410, 'This link has expired'],
  link_invalid: [400, 'This link is not valid'],
  email_not_verified: [403, 'The email address is not verified'],
  rate_limited: [429, 'Too many requests'],
  unavailable: [503, 'Service unavailable'],
  internal: [500, 'Internal error'],
};

/** Codes that mean "this access token cannot be used" (RFC 6750 `invalid_token`). */
const INVALID_TOKEN: ReadonlySet<ErrorCode> = new Set(['token_invalid', 'token_expired', 'session_revoked']);

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  errors?: FieldError[];
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code][0];
}

export function problem(code: ErrorCode, detail?: string, errors?: FieldError[]): Problem {
  const [status, title] = STATUS[code];
  return {
    type: `urn:gatehouse:error:${code}`,
    title,
    status,
    code,
    ...(detail === undefined ? {} : { detail }),
    ...(errors === undefined ? {} : { errors }),
  };
}

/**
 * Every 401 names the scheme (RFC 9110 requires a challenge); a token that was sent but cannot
 * be used adds `error="invalid_token"` (RFC 6750 §3.1), so clients know to refresh or sign in.
 */
export function challengeFor(code: ErrorCode): string | undefined {
  if (statusOf(code) !== 401) return undefined;
  return INVALID_TOKEN.has(code) ? 'Bearer error="invalid_token"' : 'Bearer';
}
