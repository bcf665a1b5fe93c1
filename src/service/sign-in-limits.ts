import { GatehouseError } from '../core/errors.js';
import { signInVerdict } from '../core/sign-in-limits.js';
import type { ServiceContext } from './context.js';

/**
 * Refuses a sign-in that the brute-force limits forbid, before any password is verified: a
 * refused attempt costs no argon2 hash and is not counted as another failure. The answer is
 * the same whether or not the email has an account (the counters are keyed by the email key),
 * and says nothing about which limit was hit.
 */
export async function refuseIfLimited(ctx: ServiceContext, emailKey: string, ip: string): Promise<void> {
  const counters = await ctx.store.signInLimits(emailKey, ip);
  const verdict = signInVerdict(ctx.signInLimits, counters, ctx.clock.now());
  if (verdict.allowed) return;
  ctx.log({ event: 'login_refused', reason: 'rate_limited', ip, retryAfterSeconds: verdict.retryAfterSeconds });
  throw new GatehouseError('rate_limited', 'Too many failed sign-in attempts. Try again later.', undefined, {
    retryAfterSeconds: verdict.retryAfterSeconds,
  });
}

export function countFailure(ctx: ServiceContext, emailKey: string, ip: string): Promise<void> {
  return ctx.store.recordSignInFailure(emailKey, ip, ctx.clock.now());
}

/** Successes reset the email key's consecutive count and never touch the address's count. */
export function countSuccess(ctx: ServiceContext, emailKey: string): Promise<void> {
  return ctx.store.recordSignInSuccess(emailKey);
}
