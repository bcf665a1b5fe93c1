import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyAccessToken } from '../../core/access-token.js';
import { GatehouseError } from '../../core/errors.js';
import { VerifiedTokenCache } from '../../core/verified-token-cache.js';
import type { RevocationSync } from '../../revocation/revocation-sync.js';
import type { RevocationView } from '../../revocation/revocation-view.js';
import type { Caller, ServiceContext } from '../../service/context.js';
import type { LastActivity } from '../../service/last-activity.js';
import { bearerToken, refuseTokenInQuery } from '../bearer.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * The check in front of every Bearer route: a local signature and claims check (jose), then one
 * in-memory lookup in the revocation view. No database query, so it costs about what a
 * stateless JWT check costs, yet a signed-out session is refused on the very next request.
 */
export function authenticator(
  ctx: Pick<ServiceContext, 'keys' | 'tokens' | 'clock'>,
  view: Pick<RevocationView, 'isRevoked'>,
  activity?: Pick<LastActivity, 'seen'>,
  sync?: Pick<RevocationSync, 'isFresh' | 'isRevokedInDatabase'>,
): Authenticate {
  // A client sends the same token for its whole lifetime: checking its signature once is enough.
  const verified = new VerifiedTokenCache();
  return async (request) => {
    refuseTokenInQuery(request.query);
    const token = bearerToken(request.headers.authorization);
    const claims = await verifyAccessToken(token, ctx.keys, ctx.tokens, ctx.clock.now(), verified);
    if (view.isRevoked(claims.sessionId)) throw new GatehouseError('session_revoked', 'This session has been signed out.');
    // A view not confirmed within the staleness bound may be missing a sign-out made on another
    // node: ask the database (503 if it cannot answer) rather than trust it.
    if (sync && !sync.isFresh() && (await sync.isRevokedInDatabase(claims.sessionId))) {
      throw new GatehouseError('session_revoked', 'This session has been signed out.');
    }
    request.caller = { userId: claims.userId, sessionId: claims.sessionId };
    activity?.seen(claims.sessionId);
  };
}

/** The caller of a route behind `authenticate`; a route without it asking is a programming error. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('callerOf() used on a route without authentication');
  return request.caller;
}
