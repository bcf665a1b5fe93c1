import { GatehouseError } from '../../core/errors.js';
import { readBearer } from '../bearer.js';
import { secretChecker } from '../secret-check.js';
import type { Authenticate } from './authenticate.js';

/**
 * The check in front of routes for other services (the revocation feed, introspection): the
 * Bearer value must be one of GATEHOUSE_SERVICE_KEYS. A user's access token is not enough:
 * these routes reveal other people's sign-outs and tokens. Keys are compared in constant time
 * (secret-check.ts).
 */
export function serviceAuthenticator(serviceKeys: readonly string[]): Authenticate {
  const isServiceKey = secretChecker(serviceKeys);
  return async (request) => {
    const presented = readBearer(request.headers.authorization);
    if (typeof presented !== 'string') {
      if (presented.problem === 'missing') throw new GatehouseError('token_missing', 'Send a service key in an Authorization: Bearer header.');
      throw new GatehouseError('token_invalid', 'The service key is not valid.');
    }
    if (serviceKeys.length === 0) throw new GatehouseError('token_invalid', 'No service keys are configured on this server (GATEHOUSE_SERVICE_KEYS).');
    if (!isServiceKey(presented)) throw new GatehouseError('token_invalid', 'The service key is not valid.');
  };
}
