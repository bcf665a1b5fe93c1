import { GatehouseError } from '../core/errors.js';
import { addressKey, type SignInClaim } from '../core/sign-in-limits.js';
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
export async function claimAttempt(ctx: ServiceContext, emailKey: string, ip: string): Promise<AllowedAttempt> {
  const claim = await ctx.store.claimSignInAttempt(emailKey, addressKey(ip), ctx.signInLimits, ctx.clock.now());
  if (claim.allowed) return claim;
  ctx.log({ event: 'login_refused', reason: 'rate_limited', ip, retryAfterSeconds: claim.retryAfterSeconds });
  throw new GatehouseError('rate_limited', 'Too many failed sign-in attempts. Try again later.', undefined, {
    retryAfterSeconds: claim.retryAfterSeconds,
  });
}

/**
 * The claimed attempt succeeded (its session is stored): the email key's consecutive count starts
 * again from 0 and the attempt is taken back off the hourly and address windows. A failure needs
 * nothing more: it was counted when it started.
 */
export function countSuccess(ctx: ServiceContext, emailKey: string, ip: string, claim: AllowedAttempt): Promise<void> {
  return ctx.store.recordSignInSuccess(emailKey, addressKey(ip), claim);
}

/**
 * A password check of a signed-in user (reauthentication, password change) under the same
 * limits as sign-in, keyed by the account's email: a stolen access token must not turn these
 * into an unlimited password guesser. Resolves with whether the password matched.
 */
export async function limitedPasswordCheck(ctx: ServiceContext, emailKey: string, ip: string, check: () => Promise<boolean>): Promise<boolean> {
  const claim = await claimAttempt(ctx, emailKey, ip);
  const matched = await check();
  if (matched) await countSuccess(ctx, emailKey, ip, claim);
  return matched;
}
