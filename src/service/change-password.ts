import { GatehouseError } from '../core/errors.js';
import { acceptNewPassword, assertPasswordText } from '../core/password-policy.js';
import type { ClientInfo } from '../core/records.js';
import { event } from './activity.js';
import type { Caller, ServiceContext } from './context.js';
import { announce, revocation } from './sessions.js';
import { passwordMatches, writeAgainstVerifiedHash } from './sign-in.js';
import { limitedPasswordCheck } from './sign-in-limits.js';

/**
 * Changes the password after proving the current one, and signs out every other session: a
 * password change is what people do when they fear someone else is in their account.
 */
export async function changePassword(
  ctx: ServiceContext,
  caller: Caller,
  input: { currentPassword: string; newPassword: string },
  client: ClientInfo,
): Promise<void> {
  assertPasswordText(input.currentPassword, '/body/current_password');
  const user = await ctx.store.findUserById(caller.userId);
  // The policy is checked before the current password, a cheap answer without argon2; its
  // blocklist needs the account's email, hence the read first.
  const password = acceptNewPassword(input.newPassword, ctx, '/body/new_password', user?.email);
  const proved =
    user !== undefined &&
    (await limitedPasswordCheck(ctx, user, client, 'password_change_failed', caller.sessionId, () =>
      passwordMatches(ctx, user, input.currentPassword, 'account'),
    ));
  if (!proved) {
    ctx.log({ event: 'password_change_failed', userId: caller.userId, sessionId: caller.sessionId });
    throw new GatehouseError('invalid_credentials', 'The current password is incorrect.');
  }
  const passwordHash = await ctx.hasher.hash(password, 'account');
  const revoked = await writeAgainstVerifiedHash(ctx, user, input.currentPassword, (currentPasswordHash) =>
    ctx.store.changePassword({
      userId: user.id,
      currentPasswordHash,
      passwordHash,
      keepSessionId: caller.sessionId,
      revocation: revocation(ctx, 'password_changed', user.id),
      events: (revoked) => [
        event(ctx, 'password_changed', {
          userId: user.id,
          sessionId: caller.sessionId,
          actor: user.id,
          client,
          detail: { session_ids: revoked.map((s) => s.id) },
        }),
      ],
    }),
  );
  ctx.log({ event: 'password_changed', userId: user.id, sessionId: caller.sessionId });
  announce(ctx, user.id, 'password_changed', user.id, revoked);
}
