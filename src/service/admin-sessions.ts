import type { EventType } from '../core/activity.js';
import { GatehouseError } from '../core/errors.js';
import type { Revocation, SessionRecord } from '../core/records.js';
import { listActivity, type ActivityPage } from './activity.js';
import { actorId, adminEvent, logAdminAction, type AdminActor, type AdminContext } from './admin.js';
import { getUser } from './admin-users.js';
import { announce } from './sessions.js';

/** Administration of another account's sessions and history. */

/** The account's active sessions, most recently active first. */
export async function sessionsOf(ctx: AdminContext, userId: string): Promise<SessionRecord[]> {
  await getUser(ctx, userId);
  return ctx.store.listUserSessions(userId, ctx.clock.now());
}

/** The account's history, paged and filtered as the owner's own (`GET /v1/me/activity`). */
export async function activityOf(
  ctx: AdminContext,
  userId: string,
  query: { limit: number; cursor?: string | undefined; types?: EventType[] | undefined },
): Promise<ActivityPage> {
  await getUser(ctx, userId);
  return listActivity(ctx, { userId }, query);
}

/**
 * Signs one session of the account out. A session of another account and an unknown id both
 * get `not_found`, and change nothing.
 */
export async function revokeSessionOf(ctx: AdminContext, actor: AdminActor, userId: string, sessionId: string): Promise<void> {
  await getUser(ctx, userId);
  const revoked = await ctx.store.revokeSession(userId, sessionId, revocation(ctx, actor), (ended) => [
    adminEvent(ctx, 'signed_out_by_admin', userId, actor, { session_ids: [ended.id] }),
  ]);
  if (!revoked) throw new GatehouseError('not_found', 'This account has no such active session.');
  announce(ctx, userId, 'admin', actorId(actor), [revoked]);
  logAdminAction(ctx, 'signed_out_by_admin', userId, actor);
}

/** Signs every session of the account out; returns how many there were. */
export async function revokeAllSessionsOf(ctx: AdminContext, actor: AdminActor, userId: string): Promise<number> {
  await getUser(ctx, userId);
  const revoked = await ctx.store.revokeUserSessions(userId, revocation(ctx, actor), undefined, (ended) =>
    ended.length === 0 ? [] : [adminEvent(ctx, 'signed_out_by_admin', userId, actor, { session_ids: ended.map((s) => s.id) })],
  );
  announce(ctx, userId, 'admin', actorId(actor), revoked);
  if (revoked.length > 0) logAdminAction(ctx, 'signed_out_by_admin', userId, actor);
  return revoked.length;
}

function revocation(ctx: AdminContext, actor: AdminActor): Revocation {
  return { reason: 'admin', by: actorId(actor), at: ctx.clock.now() };
}
