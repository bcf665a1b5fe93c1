import { GatehouseError } from '../core/errors.js';
import type { ClientInfo, SessionRecord, UserRecord } from '../core/records.js';
import { event } from './activity.js';
import { judgeRefreshToken, type RefreshJudgement } from '../core/refresh-rotation.js';
import { issueRefreshToken, parseRefreshToken, sealSuccessor, type ParsedRefreshToken } from '../core/refresh-token.js';
import { idleExpiryAfter } from '../core/session-policy.js';
import type { ServiceContext } from './context.js';
import { issueAccessToken } from './issue-tokens.js';
import { announce, revocation } from './sessions.js';
import type { SignedIn } from './sign-in.js';

/** A lost compare-and-swap is judged again with the winner's state; more than this is absurd. */
const MAX_ATTEMPTS = 3;

/**
 * `POST /v1/auth/refresh`: spends the presented refresh token and returns the next one with a
 * fresh access token. The rules for what a presented token means are in core/refresh-rotation.ts.
 */
export async function refresh(ctx: ServiceContext, refreshToken: string, client: () => ClientInfo): Promise<SignedIn> {
  const presented = parse(refreshToken);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { judgement, session, user } = await judge(ctx, presented);
    if (judgement.outcome === 'replay') return signedIn(ctx, session, user, judgement.currentToken);
    if (judgement.outcome !== 'rotate') return refuse(ctx, judgement, session, client);

    const now = ctx.clock.now();
    const next = issueRefreshToken(session.id, presented.generation + 1, session.refresh.key);
    const rotated = await ctx.store.rotateRefresh({
      sessionId: session.id,
      presentedHash: session.refresh.hash,
      generation: presented.generation,
      nextHash: next.hash,
      sealedSuccessor: sealSuccessor(next.token, presented.secret),
      at: now,
      idleExpiresAt: idleExpiryAfter(ctx.sessions, now),
    });
    if (rotated) return signedIn(ctx, rotated, user, next.token);
    // Another request spent the same token a moment ago: judge again against its result.
  }
  throw new GatehouseError('unavailable', 'The session is changing too fast; try again.');
}

/**
 * Ends the session a refresh token belongs to (logout for clients whose access token expired).
 * The current token, or the one just spent within the grace window, proves possession; a token
 * spent longer ago is theft, as it is at refresh. A session that has merely expired is revoked
 * too: an access token minted just before its end may still be alive.
 */
export async function signOutWithRefreshToken(ctx: ServiceContext, refreshToken: string, client: () => ClientInfo): Promise<void> {
  const { judgement, session } = await judge(ctx, parse(refreshToken));
  const proves = judgement.outcome === 'rotate' || judgement.outcome === 'replay' || judgement.outcome === 'expired';
  if (!proves) return refuse(ctx, judgement, session, client);
  const revoked = await ctx.store.revokeSession(session.userId, session.id, revocation(ctx, 'logout', session.userId), () => [
    event(ctx, 'signed_out', { userId: session.userId, sessionId: session.id, actor: session.userId, client: client() }),
  ]);
  announce(ctx, session.userId, 'logout', session.userId, revoked ? [revoked] : []);
}

/**
 * True when a refresh token can never be spent again: not shaped like one Gatehouse issues, or
 * of a session that has ended (revoked, expired, its account disabled). Judges without acting:
 * a reused token is not "ended" here and revokes nothing, as browser-mode logout asks this of a
 * cookie that may belong to a session other than the one signing out (its next refresh will
 * judge it). Nor is an `invalid` one, which may be a cookie other tabs have rotated twice since.
 */
export async function hasRefreshTokenEnded(ctx: ServiceContext, refreshToken: string): Promise<boolean> {
  const presented = parseRefreshToken(refreshToken);
  if (!presented) return true;
  try {
    const { judgement } = await judge(ctx, presented);
    return judgement.outcome === 'revoked' || judgement.outcome === 'expired';
  } catch (error) {
    if (error instanceof GatehouseError && error.code === 'invalid_refresh_token') return false;
    throw error;
  }
}

function parse(refreshToken: string): ParsedRefreshToken {
  const presented = parseRefreshToken(refreshToken);
  if (!presented) throw invalid();
  return presented;
}

const invalid = () => new GatehouseError('invalid_refresh_token', 'The refresh token is not valid.');

/** Reads the session and judges the token against it; a token that is not ours stops here. */
async function judge(ctx: ServiceContext, presented: ParsedRefreshToken) {
  const found = await ctx.store.findSessionWithUser(presented.sessionId);
  const judgement = judgeRefreshToken(presented, found?.session, ctx.clock.now(), ctx.sessions.refreshReuseGraceSeconds);
  if (judgement.outcome === 'invalid' || !found) throw invalid();
  // A disabled account's sessions are revoked when it is disabled; this covers the moment between.
  if (found.user.disabledAt !== null) return { judgement: { outcome: 'revoked' } as RefreshJudgement, ...found };
  return { judgement, ...found };
}

async function refuse(ctx: ServiceContext, judgement: RefreshJudgement, s: SessionRecord, client: () => ClientInfo): Promise<never> {
  switch (judgement.outcome) {
    case 'reused': {
      // Theft detection: two parties hold this session's refresh chain. End it for both; the
      // access tokens die on the next request through the revocation view. The event names the
      // client that presented the spent token: the thief, or the owner after the thief.
      const revoked = await ctx.store.revokeSession(s.userId, s.id, revocation(ctx, 'refresh_token_reused', 'system'), () => [
        event(ctx, 'refresh_token_reused', { userId: s.userId, sessionId: s.id, actor: 'system', client: client() }),
      ]);
      ctx.log({ event: 'refresh_token_reused', userId: s.userId, sessionId: s.id });
      announce(ctx, s.userId, 'refresh_token_reused', 'system', revoked ? [revoked] : []);
      throw new GatehouseError('refresh_token_reused', 'This refresh token was already used; the session has been signed out.');
    }
    case 'revoked':
      throw new GatehouseError('session_revoked', 'This session has ended.');
    case 'expired':
      throw new GatehouseError('session_expired', 'This session has expired; sign in again.');
    default:
      throw invalid();
  }
}

async function signedIn(ctx: ServiceContext, session: SessionRecord, user: UserRecord, refreshToken: string): Promise<SignedIn> {
  const access = await issueAccessToken(ctx, session, user);
  return { user, session, accessToken: access.token, expiresIn: access.expiresIn, refreshToken };
}
