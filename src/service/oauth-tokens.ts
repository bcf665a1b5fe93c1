import { verifyAccessToken, type AccessClaims } from '../core/access-token.js';
import { isGatehouseError } from '../core/errors.js';
import { judgeRefreshToken } from '../core/refresh-rotation.js';
import { parseRefreshToken } from '../core/refresh-token.js';
import { sessionEndsAt } from '../core/session-policy.js';
import type { ClientInfo } from '../core/records.js';
import { event } from './activity.js';
import type { ServiceContext } from './context.js';
import { signOutWithRefreshToken } from './refresh.js';
import { announce, revocation } from './sessions.js';

/**
 * The OAuth views of Gatehouse's two tokens: revocation (RFC 7009) and introspection
 * (RFC 7662). A refresh token (`<session>.<secret>`, one dot) and an access token (a JWS, two
 * dots) cannot be mistaken for each other, so `token_type_hint` never changes the outcome.
 */

/** Codes that mean "not a token we can act on": RFC 7009 answers those with a plain 200. */
const NOT_ACTIONABLE = ['invalid_refresh_token', 'refresh_token_reused', 'session_revoked', 'session_expired', 'token_invalid', 'token_expired'] as const;

/**
 * Ends the session the token belongs to, as signing out with it would. Anything that is not
 * a live token of ours changes nothing and is not an error: RFC 7009 §2.2 wants a 200 either
 * way, so the endpoint cannot be used to learn which tokens exist. A spent refresh token is
 * judged as at refresh: past the grace window it is theft, and ends the session as such.
 */
export async function revokeToken(ctx: ServiceContext, token: string, client: () => ClientInfo): Promise<void> {
  try {
    if (parseRefreshToken(token)) return await signOutWithRefreshToken(ctx, token, client);
    const claims = await verifyAccessToken(token, ctx.keys, ctx.tokens, ctx.clock.now());
    const revoked = await ctx.store.revokeSession(claims.userId, claims.sessionId, revocation(ctx, 'logout', claims.userId), () => [
      event(ctx, 'signed_out', { userId: claims.userId, sessionId: claims.sessionId, actor: claims.userId, client: client() }),
    ]);
    announce(ctx, claims.userId, 'logout', claims.userId, revoked ? [revoked] : []);
  } catch (error) {
    if (NOT_ACTIONABLE.some((code) => isGatehouseError(error, code))) return;
    throw error;
  }
}

export type Introspection =
  | { active: false }
  | {
      active: true;
      token_type: 'Bearer' | 'refresh_token';
      sub: string;
      sid: string;
      username: string;
      iss: string;
      aud: string;
      exp: number;
      iat: number;
      auth_time: number;
      jti?: string;
    };

const INACTIVE: Introspection = { active: false };
const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * What a resource server may know about a token, from the database itself (not the revocation
 * view): the answer is authoritative the moment a sign-out commits. Revoked, expired, spent,
 * forged or unknown tokens all give exactly `{active: false}` (RFC 7662 §2.2). Looking at a
 * refresh token never spends it and never counts as reuse.
 */
export async function introspectToken(ctx: ServiceContext, token: string): Promise<Introspection> {
  const now = ctx.clock.now();
  const presented = parseRefreshToken(token);
  if (presented) {
    const found = await ctx.store.findSessionWithUser(presented.sessionId);
    const judgement = judgeRefreshToken(presented, found?.session, now, ctx.sessions.refreshReuseGraceSeconds);
    // Only the current token is live: the one spent within the grace window is only honoured
    // by a refresh, which hands out the current one instead.
    if (!found || judgement.outcome !== 'rotate' || found.user.disabledAt !== null) return INACTIVE;
    const { session, user } = found;
    return {
      active: true,
      token_type: 'refresh_token',
      sub: user.id,
      sid: session.id,
      username: user.email,
      iss: ctx.tokens.issuer,
      aud: ctx.tokens.audience,
      exp: seconds(sessionEndsAt(session)),
      iat: seconds(session.refresh.rotatedAt ?? session.createdAt),
      auth_time: seconds(session.authenticatedAt),
    };
  }
  let claims: AccessClaims;
  try {
    claims = await verifyAccessToken(token, ctx.keys, ctx.tokens, now);
  } catch (error) {
    if (isGatehouseError(error, 'token_invalid') || isGatehouseError(error, 'token_expired')) return INACTIVE;
    throw error;
  }
  const found = await ctx.store.findSessionWithUser(claims.sessionId);
  // An access token lives on until its `exp` after its session's idle or absolute end (as on
  // every Bearer route); only a revocation or a disabled account ends it sooner.
  if (!found || found.session.revokedAt !== null || found.user.disabledAt !== null || found.session.userId !== claims.userId) return INACTIVE;
  return {
    active: true,
    token_type: 'Bearer',
    sub: claims.userId,
    sid: claims.sessionId,
    username: found.user.email,
    iss: ctx.tokens.issuer,
    aud: ctx.tokens.audience,
    exp: seconds(claims.expiresAt),
    iat: seconds(claims.issuedAt),
    auth_time: seconds(claims.authTime),
    jti: claims.tokenId,
  };
}
