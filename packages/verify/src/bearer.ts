import { GatehouseError } from './errors.js';

// RFC 6750 §2.1: `Bearer` then one token of b64token characters.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const ANY_BEARER = /^bearer(\s|$)/i;

/**
 * What an Authorization header holds, read by the one rule every check uses (access tokens,
 * service keys, the metrics token, here and in Gatehouse): the credential, `missing` when there
 * is no header or it is of another scheme (no Bearer credential was sent at all), or `malformed`
 * when it says Bearer but does not hold one token.
 */
export function readBearer(header: string | undefined): string | { problem: 'missing' | 'malformed' } {
  if (!header) return { problem: 'missing' };
  const match = BEARER.exec(header);
  if (match) return match[1] as string;
  return { problem: ANY_BEARER.test(header) ? 'malformed' : 'missing' };
}

/**
 * The access token of an Authorization header. No header, or another scheme, is `token_missing`;
 * a Bearer header that does not hold one token is `token_invalid`.
 */
export function bearerToken(header: string | undefined): string {
  const read = readBearer(header);
  if (typeof read === 'string') return read;
  if (read.problem === 'missing') throw new GatehouseError('token_missing', 'Send an access token in an Authorization: Bearer header.');
  throw new GatehouseError('token_invalid', 'The access token is not valid.');
}

/** Whether a request's query carries a token (`?access_token=`), which no route accepts. */
export function hasTokenInQuery(query: unknown): boolean {
  return typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token');
}

/**
 * A token in a URL ends up in proxy logs, browser history and Referer headers: Gatehouse refuses
 * a request that carries one, even next to a valid header, so clients that do it find out at once.
 */
export function refuseTokenInQuery(query: unknown): void {
  if (hasTokenInQuery(query)) {
    throw new GatehouseError('token_invalid', 'Access tokens are not accepted in the URL; send an Authorization: Bearer header.');
  }
}
