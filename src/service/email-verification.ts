import { ACCOUNT_TOKEN_TTL_MS, readAccountToken } from '../core/account-tokens.js';
import { ACTION_WINDOW_MS } from '../core/address-limits.js';
import { emailKey } from '../core/email.js';
import { GatehouseError } from '../core/errors.js';
import { newMail, type NewMail } from '../core/mail.js';
import { newId } from '../core/random.js';
import type { ClientInfo, UserRecord } from '../core/records.js';
import type { NewAccountToken } from '../storage/store.js';
import { event } from './activity.js';
import type { Caller, ServiceContext } from './context.js';
import { limitRequestsFrom, mailOn, mayMail } from './mail.js';

/**
 * Proving that an account's address is its owner's: a link to `/verify-email#token=…`, valid a
 * day, mailed at registration and on request. Until it is used the account is unverified
 * (`email_verified: false` in /v1/me, the admin API and access tokens) and, with
 * GATEHOUSE_EMAIL_VERIFICATION=required, cannot sign in. A password reset proves it too.
 */

/** A verification link for `user`'s address and its mail, to be stored with whatever causes them. */
export function verificationLink(user: Pick<UserRecord, 'id' | 'email'>, at: number): { token: NewAccountToken; mail: NewMail[] } {
  const id = newId();
  const expiresAt = at + ACCOUNT_TOKEN_TTL_MS.email_verification;
  return {
    token: { id, userId: user.id, purpose: 'email_verification', email: user.email, createdAt: at, expiresAt },
    mail: [newMail('email_verification', at, { recipient: user.email, userId: user.id, data: { token_id: id, expires_at: expiresAt } })],
  };
}

/** The signed-in person asks for a new link (`POST /v1/me/email-verification`); false when the address is proved already. */
export async function resendVerification(ctx: ServiceContext, caller: Caller): Promise<boolean> {
  const mail = mailOn(ctx);
  const user = await ctx.store.findUserById(caller.userId);
  if (!user) throw new GatehouseError('session_revoked', 'This session has ended.');
  if (user.emailVerifiedAt !== null) return false;
  if (!(await mayMail(ctx, user.emailKey))) {
    throw new GatehouseError('rate_limited', 'Several links were sent to this address in the last hour: use the newest, or try again later.', undefined, {
      retryAfterSeconds: ACTION_WINDOW_MS.mail / 1000,
    });
  }
  const link = verificationLink(user, ctx.clock.now());
  await ctx.store.issueAccountToken(link.token, { mail: link.mail, events: [] });
  mail.queued();
  return true;
}

/**
 * Anyone asks for a new link for `email` (`POST /v1/auth/email-verification`), as the sign-in
 * form does after `email_not_verified`: answered alike whether or not the address has an
 * account, and mailed only to an unverified one that may still be mailed this hour.
 */
export async function requestVerification(ctx: ServiceContext, input: { email: string }, client: ClientInfo): Promise<void> {
  const mail = mailOn(ctx);
  await limitRequestsFrom(ctx, 'email-verification', client.ip, 'Too many verification links were asked for from this address. Try again later.');
  const key = emailKey(input.email);
  const allowed = await mayMail(ctx, key);
  const user = await ctx.store.findUserByEmail(key);
  if (!allowed || !user || user.disabledAt !== null || user.emailVerifiedAt !== null) return;
  const link = verificationLink(user, ctx.clock.now());
  await ctx.store.issueAccountToken(link.token, { mail: link.mail, events: [] });
  mail.queued();
}

/** Uses a verification link (`POST /v1/auth/email-verification/confirm`). */
export async function confirmVerification(ctx: ServiceContext, token: string): Promise<UserRecord> {
  const mail = mailOn(ctx);
  const tokenId = readAccountToken(mail.tokenKey, 'email_verification', token);
  if (tokenId === undefined) throw new GatehouseError('link_invalid', 'This link is not valid. Ask for a new one.');
  const user = await ctx.store.verifyEmail({
    tokenId,
    at: ctx.clock.now(),
    events: (user) => [event(ctx, 'email_verified', { userId: user.id, actor: user.id, detail: { email: user.email } })],
  });
  ctx.log({ event: 'email_verified', userId: user.id });
  return user;
}
