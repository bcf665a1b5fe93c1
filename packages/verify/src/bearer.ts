import { GatehouseError } from './errors.js';

// RFC 6750 §2.1: `Bearer` then one token of b64token characters. The same rule, and the same
// answers, as Gatehouse's own check (src/http/plugins/authenticate.ts).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The access token of an Authorization header. No header, or another scheme, is `token_missing`
 * (the client sent no Bearer token at all); a Bearer header that does not hold one token is
 * `token_invalid`.
 */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new GatehouseError('token_missing', 'Send an access token in an Authorization: Bearer header.');
  const match = BEARER.exec(header);
  if (match) return match[1] as string;
  if (!/^bearer(\s|$)/i.test(header)) throw new GatehouseError('token_missing', 'Send an access token in an Authorization: Bearer header.');
  throw new GatehouseError('token_invalid', 'The access token is not valid.');
}

/**
 * A token in a URL ends up in proxy logs, browser history and Referer headers: Gatehouse refuses
 * a request that carries one, even next to a valid header, so clients that do it find out at once.
 */
export function refuseTokenInQuery(query: unknown): void {
  if (typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token')) {
    throw new GatehouseError('token_invalid', 'Access tokens are not accepted in the URL; send an Authorization: Bearer header.');
  }
}
