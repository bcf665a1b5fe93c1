import { ACCOUNT_TOKEN_TTL_MS, readAccountToken } from '../core/account-tokens.js';
import { emailKey } from '../core/email.js';
import { GatehouseError } from '../core/errors.js';
import { newMail } from '../core/mail.js';
import { acceptNewPassword } from '../core/password-policy.js';
import { newId } from '../core/random.js';
import type { ActivityEvent } from '../core/activity.js';
import type { ClientInfo, UserRecord } from '../core/records.js';
import { event } from './activity.js';
import type { ServiceContext } from './context.js';
import { clientData, limitRequestsFrom, mailOn, mayMail } from './mail.js';
import { announce, revocation } from './sessions.js';

/**
 * Someone asks for a reset link for `email`. Whether or not it has an account, is disabled or
 * locked, the answer is the same and so is the work: the recipient's counter is counted, and an
 * outbox row and an event are written in one transaction either way (a link too, when one is
 * sent); the mail is only queued, never sent in the request. A locked account gets its link: a reset
 * is the way out of a lock.
 */
export async function requestPasswordReset(ctx: ServiceContext, input: { email: string }, client: ClientInfo): Promise<void> {
  await limitRequestsFrom(ctx, 'password-reset', client.ip, 'Too many password resets were asked for from this address. Try again later.');
  const key = emailKey(input.email);
  const allowed = await mayMail(ctx, key);
  const user = await ctx.store.findUserByEmail(key);
  const mailed = user !== undefined && user.disabledAt === null && allowed;
  // Without an account, the event has no user: an operator sees who probes which addresses,
  // and it is purged within a week like failed sign-ins for unknown addresses.
  const requested = event(ctx, 'password_reset_requested', { userId: user?.id ?? null, actor: user?.id ?? null, client, detail: { mailed } });
  ctx.log({ event: 'password_reset_requested', ...(user ? { userId: user.id } : {}), mailed, ip: client.ip });
  if (mailed) return mailResetLink(ctx, user, client, requested);
  // Withheld, but written as a mailed request is, an outbox row with its event in one
  // transaction (the deliverer drops it unsent): the time of the answer must not tell an
  // account that gets a link from one that does not.
  const withheld = user === undefined ? 'no_account' : user.disabledAt !== null ? 'disabled' : 'hourly_limit';
  await ctx.store.recordWithheldMail({
    mail: [newMail('password_reset', ctx.clock.now(), { recipient: null, userId: user?.id ?? null, data: { withheld } })],
    events: [requested],
  });
  mailOn(ctx).queued(0);
}

/**
 * Issues a reset link for `user` and queues its mail, with `requested` (the event saying who
 * asked) in the same transaction; earlier links of the account stop working. Also how an
 * administrator sends one (`client` 'admin': the mail says an administrator asked, and where
 * from is nobody else's business): never a password set by someone else.
 */
export async function mailResetLink(ctx: ServiceContext, user: UserRecord, client: ClientInfo | 'admin', requested: ActivityEvent): Promise<void> {
  const mail = mailOn(ctx);
  const now = ctx.clock.now();
  const id = newId();
  const expiresAt = now + ACCOUNT_TOKEN_TTL_MS.password_reset;
  const message = newMail('password_reset', now, {
    recipient: user.email,
    userId: user.id,
    data: { token_id: id, expires_at: expiresAt, ...(client === 'admin' ? { requested_by: 'admin' } : clientData(client)) },
  });
  await ctx.store.issueAccountToken(
    { id, userId: user.id, purpose: 'password_reset', email: user.email, createdAt: now, expiresAt },
    { mail: [message], events: [requested] },
  );
  mail.queued();
}

/**
 * Sets a new password with a reset link's token and ends every session of the account, on
 * every node at once: whoever had the old password (or a session) is out. The link is spent in
 * the same transaction, so of two tabs using it exactly one succeeds.
 */
export async function confirmPasswordReset(ctx: ServiceContext, input: { token: string; newPassword: string }, client: ClientInfo): Promise<void> {
  const mail = mailOn(ctx);
  // A forged or mangled token is refused by its MAC, before the database is asked.
  const tokenId = readAccountToken(mail.tokenKey, 'password_reset', input.token);
  const token = tokenId === undefined ? undefined : await ctx.store.findAccountToken(tokenId);
  if (token?.purpose !== 'password_reset') throw new GatehouseError('link_invalid', 'This link is not valid. Ask for a new one.');
  // Before the hash: a spent or stale link costs no argon2 work (the store checks again).
  if (token.usedAt !== null) throw new GatehouseError('link_used', 'This link has already been used. Ask for a new one if you still need it.');
  if (token.voidedAt !== null || token.expiresAt <= ctx.clock.now()) {
    throw new GatehouseError(
      'link_expired',
      'This link no longer works: it expired, or a newer one was sent, or the account was signed in to since. Ask for a new one.',
    );
  }
  const password = acceptNewPassword(input.newPassword, ctx, '/body/new_password', token.email);
  const passwordHash = await ctx.hasher.hash(password, 'account');
  const at = ctx.clock.now();
  const { user, revoked } = await ctx.store.resetPassword({
    tokenId: token.id,
    at,
    passwordHash,
    revocation: revocation(ctx, 'password_reset', token.userId),
    events: ({ user, revoked }) => [
      event(ctx, 'password_reset', { userId: user.id, actor: user.id, client, detail: { session_ids: revoked.map((s) => s.id) } }),
    ],
    mail: ({ user, revoked }) => [
      newMail('password_changed', at, { recipient: null, userId: user.id, data: { how: 'reset', sessions_ended: revoked.length, ...clientData(client) } }),
    ],
  });
  ctx.log({ event: 'password_reset', userId: user.id, sessionIds: revoked.map((s) => s.id) });
  announce(ctx, user.id, 'password_reset', user.id, revoked);
  mail.queued();
}
