import { SECOND } from '../core/clock.js';
import { IP_WINDOW_MS } from '../core/sign-in-limits.js';
import type { ServiceContext } from './context.js';

/** Rows deleted per statement: small enough that no purge holds the database for long. */
export const PURGE_BATCH_SIZE = 500;

/**
 * Deletes sessions that ended (revoked or expired) longer ago than the retention, a batch at a
 * time, yielding to other work between batches. Sessions revoked within the revocation
 * horizon are always kept, whatever the retention says: a node that starts loads its
 * revocation view from them, and a revoked session's last access tokens may still be alive.
 */
export async function purgeEndedSessions(
  ctx: Pick<ServiceContext, 'store' | 'clock'>,
  options: { retentionSeconds: number; revocationHorizonMs: number },
): Promise<number> {
  const keep = Math.max(options.retentionSeconds * SECOND, options.revocationHorizonMs);
  const before = ctx.clock.now() - keep;
  let total = 0;
  for (;;) {
    const deleted = await ctx.store.purgeEndedSessions(before, PURGE_BATCH_SIZE);
    total += deleted;
    if (deleted < PURGE_BATCH_SIZE) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A day without failures and an email's counters start afresh; no lock lasts that long. */
export const SIGN_IN_FAILURE_RETENTION_MS = 86_400 * SECOND;

/**
 * Deletes brute-force counters that limit nothing any more: an email key's after a day without
 * a failure (its hourly window and any lock, at most 15 minutes, are long over), an address's
 * once its 15-minute window has closed.
 */
export async function purgeSignInFailures(ctx: Pick<ServiceContext, 'store' | 'clock'>): Promise<number> {
  const now = ctx.clock.now();
  let total = 0;
  for (;;) {
    const deleted = await ctx.store.purgeSignInFailures(now - SIGN_IN_FAILURE_RETENTION_MS, now - IP_WINDOW_MS, PURGE_BATCH_SIZE);
    total += deleted;
    if (deleted < PURGE_BATCH_SIZE) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
