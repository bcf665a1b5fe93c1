/**
 * The one error class of Gatehouse. Every failure a client can cause is one of these codes;
 * only the HTTP layer decides which status a code gets (design §8.3). Tests assert on `code`.
 */
export const ERROR_CODES = [
  'validation_failed',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
  'email_taken',
  'weak_password',
  'invalid_credentials',
  'token_missing',
  'token_invalid',
  'token_expired',
  'session_revoked',
  'session_expired',
  'invalid_refresh_token',
  'refresh_token_reused',
  'reauth_required',
  'forbidden',
  'not_found',
  'link_used',
  'link_expired',
  'link_invalid',
  'email_not_verified',
  'rate_limited',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One field-level problem, addressed by a JSON pointer into the request (`/body/email`). */
export interface FieldError {
  pointer: string;
  detail: string;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  /** For `rate_limited`: whole seconds until a retry can succeed, sent as `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, detail?: string, errors?: FieldError[], options?: ErrorOptions & { retryAfterSeconds?: number }) {
    super(detail ? `${code}: ${detail}` : code, options);
    this.name = 'GatehouseError';
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export function isGatehouseError(value: unknown, code?: ErrorCode): value is GatehouseError {
  return value instanceof GatehouseError && (code === undefined || value.code === code);
}
