import { GatehouseError } from '../core/errors.js';
import type { EventType } from '../core/activity.js';
import type { PasswordWork } from '../core/password-hasher.js';
import type { ClientInfo, UserRecord } from '../core/records.js';
import { addressKey, lockAfterFailure, type SignInClaim } from '../core/sign-in-limits.js';
import { event } from './activity.js';
import type { SignInSuccess } from '../storage/store.js';
import type { ServiceContext } from './context.js';

export type AllowedAttempt = Extract<SignInClaim, { allowed: true }>;

/**
 * Takes the attempt's place in the brute-force counters before any password is verified: it
 * counts as a failure from the moment it starts, so parallel attempts cannot all pass a check
 * before any of them is counted. A refused attempt costs no argon2 hash and counts nothing (it
 * does not extend a lock). The answer is the same whether or not the email has an account (the
 * counters are keyed by the email key), and says nothing about which limit was hit. When the
 * counters cannot be written the store throws `unavailable`: no password is verified uncounted.
 */
export async function claimAttempt(ctx: ServiceContext, emailKey: string, ip: string, work: PasswordWork): Promise<AllowedAttempt> {
  // Refused for overload before anything is counted: an attempt whose password cannot be
  // checked must not count as a wrong one (ten of those would lock the owner out).
  if (ctx.hasher.saturated?.(work)) throw new GatehouseError('unavailable', 'Too many passwords are being checked right now; try again shortly.');
  const claim = await ctx.store.claimSignInAttempt(emailKey, addressKey(ip), ctx.signInLimits, ctx.clock.now());
  if (claim.allowed) return claim;
  ctx.log({ event: 'login_refused', reason: 'rate_limited', ip, retryAfterSeconds: claim.retryAfterSeconds });
  throw new GatehouseError('rate_limited', 'Too many failed sign-in attempts. Try again later.', undefined, {
    retryAfterSeconds: claim.retryAfterSeconds,
  });
}

/**
 * The claimed attempt succeeded: the email key's consecutive count starts again from 0 and the
 * attempt is taken back off the hourly and address windows. A failure needs nothing more: it
 * was counted when it started.
 */
export function countSuccess(ctx: ServiceContext, emailKey: string, ip: string, claim: AllowedAttempt): Promise<void> {
  return ctx.store.recordSignInSuccess(emailKey, addressKey(ip), claim);
}

/** The same, for `startSession` to write with the session (`SessionStartOptions.signInSuccess`). */
export function successOf(emailKey: string, ip: string, claim: AllowedAttempt): SignInSuccess {
  return { emailKey, ip: addressKey(ip), claim };
}

/**
 * A password check of a signed-in user (reauthentication, password change) under the same
 * limits as sign-in, keyed by the account's email: a stolen access token must not turn these
 * into an unlimited password guesser. Resolves with whether the password matched; a mismatch
 * is written to the account's history as `failure`.
 */
export async function limitedPasswordCheck(
  ctx: ServiceContext,
  user: UserRecord,
  client: ClientInfo,
  failure: Extract<EventType, 'reauth_failed' | 'password_change_failed'>,
  sessionId: string,
  check: () => Promise<boolean>,
): Promise<boolean> {
  const claim = await claimAttempt(ctx, user.emailKey, client.ip, 'account');
  const matched = await check();
  if (matched) await countSuccess(ctx, user.emailKey, client.ip, claim);
  else await recordPasswordFailure(ctx, user, client, failure, 'wrong_password', sessionId, claim);
  return matched;
}

/**
 * Writes a failed password proof into the account's history (an email without an account gets
 * an event without a user: no one's history, but there for audits), and `account_locked` when
 * this very failure started a lock: each lock has exactly one such failure, since the attempts
 * after it are refused before they are counted. Never the attempted password.
 */
export async function recordPasswordFailure(
  ctx: ServiceContext,
  user: UserRecord | null,
  client: ClientInfo,
  type: Extract<EventType, 'sign_in_failed' | 'reauth_failed' | 'password_change_failed'>,
  reason: 'wrong_password' | 'unknown_email' | 'disabled',
  sessionId: string | null,
  claim: AllowedAttempt,
): Promise<void> {
  const userId = user?.id ?? null;
  const events = [event(ctx, type, { userId, sessionId, actor: userId, client, detail: { reason } })];
  const lockedUntil = lockAfterFailure(ctx.signInLimits, claim.account, ctx.clock.now());
  if (userId !== null && lockedUntil > 0) {
    events.push(event(ctx, 'account_locked', { userId, actor: 'system', client, detail: { locked_until: new Date(lockedUntil).toISOString() } }));
  }
  await ctx.store.recordEvents(events);
}
