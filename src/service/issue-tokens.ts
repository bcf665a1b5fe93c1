import { signAccessToken, type SignedAccessToken } from '../core/access-token.js';
import type { SessionRecord } from '../core/records.js';
import type { ServiceContext } from './context.js';

/** A fresh access token for a session, carrying its latest password proof as `auth_time`. */
export function issueAccessToken(ctx: ServiceContext, session: SessionRecord): Promise<SignedAccessToken> {
  return signAccessToken(ctx.keys, ctx.tokens, { userId: session.userId, sessionId: session.id, authTime: session.authenticatedAt }, ctx.clock.now());
}
