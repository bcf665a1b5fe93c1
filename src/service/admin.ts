import { newEvent, type ActivityEvent, type EventDetail, type EventType } from '../core/activity.js';
import { GatehouseError } from '../core/errors.js';
import { isSessionActive, type UserRecord } from '../core/records.js';
import { isFreshlyAuthenticated } from '../core/session-policy.js';
import type { Caller, ServiceContext } from './context.js';

/**
 * Administration: what operators do to other people's accounts, through the admin API
 * (http/routes/admin.ts) or the `gatehouse` CLI on the server (cli/commands/user.ts,
 * sessions.ts). Both call the use cases in admin-users.ts and admin-sessions.ts.
 */

/**
 * What those use cases need: no keys, no HTTP, no view of revoked sessions beyond a sink, so
 * the CLI can make one from a store. Its revocations reach running servers the way another
 * node's do (PostgreSQL NOTIFY, and the one-second catch-up on both databases).
 */
export type AdminContext = Pick<ServiceContext, 'store' | 'clock' | 'revocations' | 'log' | 'webhooks' | 'mailAlerts'>;

/** Who does an admin action: a signed-in administrator (and from where), or the CLI. */
export type AdminActor = { kind: 'admin'; userId: string; ip: string } | { kind: 'cli' };

/** The actor as events and revocations record it: the administrator's user id, or `cli`. */
export function actorId(actor: AdminActor): string {
  return actor.kind === 'admin' ? actor.userId : 'cli';
}

/**
 * The gate of every admin route: the caller's account must have the role `admin` now. The
 * role is read from the database on each admin request, not carried in the access token:
 * admin routes are rare, and an administrator who is demoted (or disabled) must lose access
 * at the next request, not when a 10-minute token runs out.
 */
export async function requireAdmin(ctx: Pick<ServiceContext, 'store'>, caller: Caller): Promise<UserRecord> {
  const user = await ctx.store.findUserById(caller.userId);
  if (user?.role !== 'admin' || user.disabledAt !== null) {
    throw new GatehouseError('forbidden', 'This needs an administrator account.');
  }
  return user;
}

/**
 * The gate of the admin actions that lock someone out (disabling an account, signing out all
 * its sessions): the administrator's session must have proven the password within
 * GATEHOUSE_REAUTH_WINDOW, as a user's own "sign out everywhere" must. Otherwise a stolen
 * administrator's token, or a laptop left unlocked, could lock every user out. Reads, one
 * session's sign-out and enabling, which lock nobody out, do not ask for it.
 */
export async function requireRecentSignIn(ctx: Pick<ServiceContext, 'store' | 'clock' | 'sessions'>, caller: Caller): Promise<void> {
  const current = await ctx.store.findSession(caller.sessionId);
  if (!current || !isSessionActive(current, ctx.clock.now())) throw new GatehouseError('session_revoked', 'This session has ended.');
  if (!isFreshlyAuthenticated(ctx.sessions, current.authenticatedAt, ctx.clock.now())) {
    throw new GatehouseError('reauth_required', 'Confirm your password (POST /v1/auth/reauth) and try again.');
  }
}

/**
 * An admin action in the target's history. It carries no client: the history is the
 * account owner's to read, and the administrator's address and device are not theirs to
 * know. The actor's id is kept, and the address goes to the security log (`logAdminAction`).
 */
export function adminEvent(ctx: AdminContext, type: EventType, userId: string, actor: AdminActor, detail: EventDetail = {}): ActivityEvent {
  return newEvent(type, ctx.clock.now(), { userId, actor: actorId(actor), detail }, { webhooks: ctx.webhooks, mail: ctx.mailAlerts });
}

export function logAdminAction(ctx: AdminContext, action: string, userId: string, actor: AdminActor): void {
  ctx.log({ event: 'admin_action', action, userId, actor: actorId(actor), ...(actor.kind === 'admin' ? { ip: actor.ip } : {}) });
}
