import { ACCOUNT_TOKEN_TTL_MS, readAccountToken } from '../core/account-tokens.js';
import { emailKey, parseEmail } from '../core/email.js';
import { GatehouseError } from '../core/errors.js';
import { newMail } from '../core/mail.js';
import { assertPasswordText } from '../core/password-policy.js';
import { newId } from '../core/random.js';
import type { ClientInfo, UserRecord } from '../core/records.js';
import { event } from './activity.js';
import type { Caller, ServiceContext } from './context.js';
import { clientData, mailOn, mayMail } from './mail.js';
import { announce, revocation } from './sessions.js';
import { passwordMatches } from './sign-in.js';
import { limitedPasswordCheck } from './sign-in-limits.js';

/**
 * Changing the account's address, in two steps that each need the right mailbox: the new
 * address confirms it (a link valid a day; until then nothing changes), and the old address is
 * told, with a link that cancels the change, or undoes it if it landed, and signs out every
 * session: the "this wasn't me" of an email change, for an owner whose session or password
 * someone else has.
 */
export async function requestEmailChange(ctx: ServiceContext, caller: Caller, input: { email: string; password: string }, client: ClientInfo): Promise<void> {
  const mail = mailOn(ctx);
  assertPasswordText(input.password, '/body/password');
  const email = parseEmail(input.email, '/body/email');
  const user = await ctx.store.findUserById(caller.userId);
  if (!user || user.disabledAt !== null) throw new GatehouseError('session_revoked', 'This session has ended.');
  // The password, not only a session: a borrowed device must not be able to move the account.
  const proved = await limitedPasswordCheck(ctx, user, client, 'reauth_failed', caller.sessionId, () => passwordMatches(ctx, user, input.password, 'account'));
  if (!proved) throw new GatehouseError('invalid_credentials', 'The password is incorrect.');
  if (email.key === user.emailKey) {
    throw new GatehouseError('validation_failed', 'This is already the address of your account.', [
      { pointer: '/body/email', detail: 'is the current address' },
    ]);
  }
  // Registration says whether an address is taken too; the change is refused as it is.
  if (await ctx.store.findUserByEmail(email.key)) throw new GatehouseError('email_taken', 'Another account has this address.');
  if (!(await mayMail(ctx, email.key))) {
    throw new GatehouseError('rate_limited', 'Several links were sent to this address in the last hour: use the newest, or try again later.', undefined, {
      retryAfterSeconds: 3600,
    });
  }
  const at = ctx.clock.now();
  const confirm = { id: newId(), expiresAt: at + ACCOUNT_TOKEN_TTL_MS.email_change };
  const cancel = { id: newId(), expiresAt: at + ACCOUNT_TOKEN_TTL_MS.email_change_cancel };
  const described = clientData(client);
  await ctx.store.issueAccountTokens(
    [
      { id: confirm.id, userId: user.id, purpose: 'email_change', email: email.address, createdAt: at, expiresAt: confirm.expiresAt },
      { id: cancel.id, userId: user.id, purpose: 'email_change_cancel', email: user.email, createdAt: at, expiresAt: cancel.expiresAt },
    ],
    {
      mail: [
        newMail('email_change', at, { recipient: email.address, userId: user.id, data: { token_id: confirm.id, expires_at: confirm.expiresAt, ...described } }),
        newMail('email_change_notice', at, {
          recipient: user.email,
          userId: user.id,
          data: { token_id: cancel.id, expires_at: cancel.expiresAt, new_email: email.address, ...described },
        }),
      ],
      events: [
        event(ctx, 'email_change_requested', {
          userId: user.id,
          sessionId: caller.sessionId,
          actor: user.id,
          client,
          detail: { email: email.address, mailed: true },
        }),
      ],
    },
  );
  ctx.log({ event: 'email_change_requested', userId: user.id, mailed: true });
  mail.queued(2);
}

/** The new address's link (`POST /v1/auth/email-change/confirm`): the address becomes the account's, proved. */
export async function confirmEmailChange(ctx: ServiceContext, token: string): Promise<UserRecord> {
  const mail = mailOn(ctx);
  const tokenId = readAccountToken(mail.tokenKey, 'email_change', token);
  const link = tokenId === undefined ? undefined : await ctx.store.findAccountToken(tokenId);
  if (link?.purpose !== 'email_change') throw new GatehouseError('link_invalid', 'This link is not valid. Ask for a new one.');
  const { user } = await ctx.store.changeEmail({
    tokenId: link.id,
    at: ctx.clock.now(),
    emailKey: emailKey(link.email),
    events: ({ user, previous }) => [
      event(ctx, 'email_changed', { userId: user.id, actor: user.id, detail: { email: user.email, previous_email: previous.email } }),
    ],
  });
  ctx.log({ event: 'email_changed', userId: user.id });
  return user;
}

/** The old address's link (`POST /v1/auth/email-change/cancel`): the change is undone and every session ends. */
export async function cancelEmailChange(ctx: ServiceContext, token: string, client: ClientInfo): Promise<void> {
  const mail = mailOn(ctx);
  const tokenId = readAccountToken(mail.tokenKey, 'email_change_cancel', token);
  const link = tokenId === undefined ? undefined : await ctx.store.findAccountToken(tokenId);
  if (link?.purpose !== 'email_change_cancel') throw new GatehouseError('link_invalid', 'This link is not valid.');
  const { user, reverted, revoked } = await ctx.store.cancelEmailChange({
    tokenId: link.id,
    at: ctx.clock.now(),
    emailKey: emailKey(link.email),
    revocation: revocation(ctx, 'email_change_cancelled', link.userId),
    events: ({ user, reverted, revoked }) => [
      event(ctx, 'email_change_cancelled', {
        userId: user.id,
        actor: user.id,
        client,
        detail: { email: user.email, reverted, session_ids: revoked.map((s) => s.id) },
      }),
    ],
  });
  ctx.log({ event: 'email_change_cancelled', userId: user.id, reverted, sessionIds: revoked.map((s) => s.id) });
  announce(ctx, user.id, 'email_change_cancelled', user.id, revoked);
}
