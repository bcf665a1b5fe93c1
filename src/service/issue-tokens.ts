import { signAccessToken, type SignedAccessToken } from '../core/access-token.js';
import type { SessionRecord, UserRecord } from '../core/records.js';
import type { ServiceContext } from './context.js';

/**
 * A fresh access token for a session, carrying its latest password proof as `auth_time` and
 * whether the account's address is proved as `email_verified` (OpenID Connect's claim name).
 */
export function issueAccessToken(ctx: ServiceContext, session: SessionRecord, user: UserRecord): Promise<SignedAccessToken> {
  const subject = { userId: session.userId, sessionId: session.id, authTime: session.authenticatedAt, emailVerified: user.emailVerifiedAt !== null };
  return signAccessToken(ctx.keys, ctx.tokens, subject, ctx.clock.now());
}
