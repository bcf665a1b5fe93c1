import { createHash, timingSafeEqual } from 'node:crypto';
import { GatehouseError } from '../../core/errors.js';
import type { Authenticate } from './authenticate.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The check in front of routes for other services (the revocation feed, introspection): the
 * Bearer value must be one of GATEHOUSE_SERVICE_KEYS. A user's access token is not enough:
 * these routes reveal other people's sign-outs and tokens.
 *
 * Keys are compared as SHA-256 digests with timingSafeEqual, and every key is compared every
 * time, so neither the length nor the prefix of a key can be learnt from response times.
 */
export function serviceAuthenticator(serviceKeys: readonly string[]): Authenticate {
  const known = serviceKeys.map(digest);
  return async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new GatehouseError('token_missing', 'Send a service key in an Authorization: Bearer header.');
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined) {
      if (!/^bearer(\s|$)/i.test(header)) throw new GatehouseError('token_missing', 'Send a service key in an Authorization: Bearer header.');
      throw new GatehouseError('token_invalid', 'The service key is not valid.');
    }
    if (known.length === 0) throw new GatehouseError('token_invalid', 'No service keys are configured on this server (GATEHOUSE_SERVICE_KEYS).');
    const candidate = digest(presented);
    let matched = false;
    for (const key of known) matched = timingSafeEqual(key, candidate) || matched;
    if (!matched) throw new GatehouseError('token_invalid', 'The service key is not valid.');
  };
}
