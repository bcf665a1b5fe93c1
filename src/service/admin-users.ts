import { emailKey, parseEmail } from '../core/email.js';
import { GatehouseError } from '../core/errors.js';
import { acceptNewPassword } from '../core/password-policy.js';
import { newId } from '../core/random.js';
import type { Role, UserRecord } from '../core/records.js';
import type { UserChange } from '../storage/store.js';
import { actorId, adminEvent, logAdminAction, type AdminActor, type AdminContext } from './admin.js';
import type { ServiceContext } from './context.js';
import { mailResetLink } from './password-reset.js';
import { parseName } from './register.js';
import { announce } from './sessions.js';

/** Administration of accounts: finding them, creating them, roles, disabling and enabling, reset links. */

export interface UserPage {
  users: UserRecord[];
  nextCursor: string | null;
}

/**
 * Users whose email starts with `email` (compared as sign-in compares emails: trimmed, any
 * case), in email order; every user when it is empty. A prefix, not a substring: it is what
 * an operator types ("ann@", "ann@example"), the whole address finds exactly that account (it
 * comes first), and it is an index range rather than a scan of every account.
 */
export async function findUsers(
  ctx: Pick<AdminContext, 'store'>,
  query: { email?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<UserPage> {
  const after = query.cursor === undefined ? undefined : decodeUserCursor(query.cursor);
  const found = await ctx.store.findUsersByEmail(emailKey(query.email ?? ''), { limit: query.limit + 1, ...(after === undefined ? {} : { after }) });
  const users = found.slice(0, query.limit);
  const last = users.at(-1);
  return { users, nextCursor: found.length > query.limit && last ? encodeUserCursor(last.emailKey) : null };
}

export async function getUser(ctx: Pick<AdminContext, 'store'>, userId: string): Promise<UserRecord> {
  const user = await ctx.store.findUserById(userId);
  if (!user) throw noSuchUser();
  return user;
}

/** The account with this email (any case), for the CLI, which names accounts by email. */
export async function userByEmail(ctx: Pick<AdminContext, 'store'>, email: string): Promise<UserRecord> {
  const user = await ctx.store.findUserByEmail(emailKey(email));
  if (!user) throw new GatehouseError('not_found', `No account has the email ${email.trim()}.`);
  return user;
}

/**
 * An account made by an operator (the CLI's `user create`), under the rules of registration:
 * the same email check, the same password policy and NFKC normalisation. No device is
 * remembered: the account has not signed in anywhere yet.
 */
export async function createAccount(
  ctx: AdminContext & Pick<ServiceContext, 'hasher' | 'minPasswordLength' | 'commonPasswords'>,
  actor: AdminActor,
  input: { email: string; password: string; name?: string | null | undefined; role: Role },
): Promise<UserRecord> {
  const email = parseEmail(input.email, '/email');
  const password = acceptNewPassword(input.password, ctx, '/password', email.address);
  const name = parseName(input.name);
  const id = newId();
  const user = await ctx.store.createUser(
    {
      id,
      email: email.address,
      emailKey: email.key,
      name,
      passwordHash: await ctx.hasher.hash(password, 'account'),
      role: input.role,
      createdAt: ctx.clock.now(),
    },
    { events: [adminEvent(ctx, 'account_created', id, actor, input.role === 'user' ? {} : { role: input.role })] },
  );
  logAdminAction(ctx, 'account_created', id, actor);
  return user;
}

/**
 * Disables the account: every session of it ends at once (on this node now, on the others
 * with their next catch-up), and it cannot sign in (sign-in answers exactly as for a wrong
 * password) or refresh until it is enabled again. An administrator cannot disable their own
 * account through the API: that would lock them out mid-request, and a last administrator
 * out for good; another administrator, or `gatehouse user disable` on the server, can.
 */
export async function disableUser(ctx: AdminContext, actor: AdminActor, userId: string): Promise<UserChange> {
  if (actor.kind === 'admin' && actor.userId === userId) {
    throw new GatehouseError('forbidden', 'You cannot disable your own account; another administrator can.');
  }
  const change = await ctx.store.setUserDisabled({
    userId,
    disabled: true,
    at: ctx.clock.now(),
    by: actorId(actor),
    events: ({ changed, revoked }) =>
      changed || revoked.length > 0 ? [adminEvent(ctx, 'account_disabled', userId, actor, { session_ids: revoked.map((s) => s.id) })] : [],
  });
  if (!change) throw noSuchUser();
  announce(ctx, userId, 'account_disabled', actorId(actor), change.revoked);
  if (change.changed) logAdminAction(ctx, 'account_disabled', userId, actor);
  return change;
}

/** Lets the account sign in again; the sessions that disabling ended stay ended. */
export async function enableUser(ctx: AdminContext, actor: AdminActor, userId: string): Promise<UserChange> {
  const change = await ctx.store.setUserDisabled({
    userId,
    disabled: false,
    at: ctx.clock.now(),
    by: actorId(actor),
    events: ({ changed }) => (changed ? [adminEvent(ctx, 'account_enabled', userId, actor)] : []),
  });
  if (!change) throw noSuchUser();
  if (change.changed) logAdminAction(ctx, 'account_enabled', userId, actor);
  return change;
}

/**
 * Mails the account a password-reset link, as if its owner had asked: an administrator helps
 * someone back in without ever choosing (or knowing) their password. Earlier links of the
 * account stop working. A disabled account is refused (`forbidden`) rather than mailed: its
 * link could not be used (a reset of a disabled account is refused), and the administrator
 * should know at once that it needs enabling first. Unlike a stranger's request it is not
 * held back by the per-address mail limit: the administrator is known, recently signed in,
 * and in the account's history as the actor.
 */
export async function sendPasswordReset(ctx: ServiceContext, actor: AdminActor, userId: string): Promise<UserRecord> {
  const user = await ctx.store.findUserById(userId);
  if (!user) throw noSuchUser();
  if (user.disabledAt !== null) throw new GatehouseError('forbidden', 'This account is disabled: enable it first, then send the reset link.');
  const requested = adminEvent(ctx, 'password_reset_requested', user.id, actor, { mailed: true, requested_by: 'admin' });
  await mailResetLink(ctx, user, 'admin', requested);
  logAdminAction(ctx, 'password_reset_requested', user.id, actor);
  return user;
}

/**
 * Gives the account a role. Only the CLI offers this: making administrators needs access to
 * the server, so a stolen administrator's token cannot make more of them, nor demote the
 * others. A demoted administrator's next admin request is refused (`requireAdmin`).
 */
export async function setRole(ctx: AdminContext, actor: AdminActor, userId: string, role: Role): Promise<UserChange> {
  const change = await ctx.store.setUserRole({
    userId,
    role,
    at: ctx.clock.now(),
    events: ({ changed, previous }) => (changed ? [adminEvent(ctx, 'role_changed', userId, actor, { role, previous_role: previous.role })] : []),
  });
  if (!change) throw noSuchUser();
  if (change.changed) logAdminAction(ctx, 'role_changed', userId, actor);
  return change;
}

const noSuchUser = () => new GatehouseError('not_found', 'There is no such user.');

/** The `next_cursor` of the user list: the last email key, base64url-encoded (opaque to clients). */
function encodeUserCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeUserCursor(cursor: string): string {
  const key = /^[A-Za-z0-9_-]{1,2048}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  // Only what this encoding makes: anything else (bad UTF-8, a NUL) would not round-trip.
  if (key === '' || key.includes('\u0000') || encodeUserCursor(key) !== cursor) {
    throw new GatehouseError('validation_failed', 'The cursor is not valid.', [
      { pointer: '/query/cursor', detail: 'must be a next_cursor from a previous page' },
    ]);
  }
  return key;
}
