import { GatehouseError } from '../core/errors.js';
import type { ClientInfo, Revocation, RevocationReason, RevokedSession, SessionRecord } from '../core/records.js';
import { event } from './activity.js';
import { isFreshlyAuthenticated } from '../core/session-policy.js';
import { isSessionActive } from '../core/records.js';
import type { Caller, ServiceContext } from './context.js';

export function listSessions(ctx: ServiceContext, caller: Caller): Promise<SessionRecord[]> {
  return ctx.store.listUserSessions(caller.userId, ctx.clock.now());
}

/** Signs out the caller's own session (logout with an access token). */
export async function signOut(ctx: ServiceContext, caller: Caller, client: ClientInfo): Promise<void> {
  const revoked = await ctx.store.revokeSession(caller.userId, caller.sessionId, revocation(ctx, 'logout', caller.userId), () => [
    event(ctx, 'signed_out', { userId: caller.userId, sessionId: caller.sessionId, actor: caller.userId, client }),
  ]);
  announce(ctx, caller.userId, 'logout', caller.userId, revoked ? [revoked] : []);
}

/**
 * Ends one of the caller's sessions. Someone else's session and an unknown id get the same
 * `not_found`, so session ids of other accounts cannot be probed, and nothing changes.
 */
export async function revokeOwnSession(ctx: ServiceContext, caller: Caller, sessionId: string, client: ClientInfo): Promise<void> {
  const own = sessionId === caller.sessionId;
  const reason: RevocationReason = own ? 'logout' : 'remote_logout';
  const revoked = await ctx.store.revokeSession(caller.userId, sessionId, revocation(ctx, reason, caller.userId), () => [
    event(ctx, own ? 'signed_out' : 'session_revoked', {
      userId: caller.userId,
      sessionId: caller.sessionId,
      actor: caller.userId,
      client,
      ...(own ? {} : { detail: { session_ids: [sessionId] } }),
    }),
  ]);
  if (!revoked) throw new GatehouseError('not_found', 'There is no such session on this account.');
  announce(ctx, caller.userId, reason, caller.userId, [revoked]);
}

/** Signs out every other session (`others`) or every session (`all`); needs a fresh sign-in. */
export async function revokeAllSessions(ctx: ServiceContext, caller: Caller, scope: 'others' | 'all', client: ClientInfo): Promise<number> {
  const current = await ctx.store.findSession(caller.sessionId);
  if (!current || !isSessionActive(current, ctx.clock.now())) throw new GatehouseError('session_revoked', 'This session has ended.');
  if (!isFreshlyAuthenticated(ctx.sessions, current.authenticatedAt, ctx.clock.now())) {
    throw new GatehouseError('reauth_required', 'Confirm your password (POST /v1/auth/reauth) and try again.');
  }
  const reason: RevocationReason = scope === 'others' ? 'logout_others' : 'logout_all';
  const except = scope === 'others' ? caller.sessionId : undefined;
  const revoked = await ctx.store.revokeUserSessions(caller.userId, revocation(ctx, reason, caller.userId), except, (ended) =>
    ended.length === 0
      ? []
      : [
          event(ctx, scope === 'others' ? 'other_sessions_revoked' : 'all_sessions_revoked', {
            userId: caller.userId,
            sessionId: caller.sessionId,
            actor: caller.userId,
            client,
            detail: { session_ids: ended.map((s) => s.id) },
          }),
        ],
  );
  announce(ctx, caller.userId, reason, caller.userId, revoked);
  return revoked.length;
}

export function revocation(ctx: ServiceContext, reason: RevocationReason, by: string): Revocation {
  return { reason, by, at: ctx.clock.now() };
}

/** Feeds committed revocations to this node's view at once, and logs them. */
export function announce(ctx: Pick<ServiceContext, 'revocations' | 'log'>, userId: string, reason: string, by: string, revoked: RevokedSession[]): void {
  if (revoked.length === 0) return;
  ctx.revocations.revoked(revoked);
  ctx.log({ event: 'sessions_revoked', userId, reason, by, sessionIds: revoked.map((s) => s.id) });
}
