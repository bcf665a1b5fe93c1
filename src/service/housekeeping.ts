import { newEvent } from '../core/activity.js';
import { SECOND } from '../core/clock.js';
import type { SessionRecord } from '../core/records.js';
import { sessionEndsAt } from '../core/session-policy.js';
import { IP_WINDOW_MS } from '../core/sign-in-limits.js';
import { LONGEST_WINDOW_MS } from '../core/address-limits.js';
import { batchTarget, inBatches } from './batches.js';
import type { ServiceContext } from './context.js';

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
  return inBatches((limit) => ctx.store.purgeEndedSessions(before, limit), ctx.clock, batchTarget(ctx.store));
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
  return inBatches((limit) => ctx.store.purgeSignInFailures(now - SIGN_IN_FAILURE_RETENTION_MS, now - IP_WINDOW_MS, limit), ctx.clock, batchTarget(ctx.store));
}

/** Deletes per-address counters (registrations, resets, mail per recipient) whose window has closed. */
export async function purgeAddressAttempts(ctx: Pick<ServiceContext, 'store' | 'clock'>): Promise<number> {
  // By the longest window: a recipient's hour must not be cut short by the addresses' 15 minutes.
  const before = ctx.clock.now() - LONGEST_WINDOW_MS;
  return inBatches((limit) => ctx.store.purgeAddressAttempts(before, limit), ctx.clock, batchTarget(ctx.store));
}

/**
 * Writes `session_expired` into the history of sessions that ran out since the last run, a
 * batch at a time: no request marks the moment a session expires, so this does, dated when it
 * happened (the earlier of its two expiries), not when it was noticed.
 */
export async function recordSessionExpiries(ctx: ServiceContext): Promise<number> {
  const now = ctx.clock.now();
  const expired = (session: SessionRecord) => {
    const reason = session.idleExpiresAt <= session.expiresAt ? 'idle' : 'max_age';
    return [
      newEvent('session_expired', sessionEndsAt(session), { userId: session.userId, sessionId: session.id, actor: 'system', detail: { reason } }, ctx.webhooks),
    ];
  };
  const recorded = await inBatches((limit) => ctx.store.recordSessionExpiries(now, limit, expired), ctx.clock, batchTarget(ctx.store));
  // The sweep closed sessions in the open count; it also keeps that count cheap to read.
  await ctx.store.settleOpenSessionCount();
  return recorded;
}

/**
 * Failed sign-ins for emails without an account belong to nobody's history: they are kept a
 * week, for an operator looking into an attack, not a year. Anyone can make them (one per
 * guess), so a long retention would let a botnet fill the disk.
 */
export const USERLESS_EVENT_RETENTION_MS = 7 * 86_400 * SECOND;

/**
 * Deletes history older than the retention (GATEHOUSE_EVENT_RETENTION). Where it is kept by
 * month (PostgreSQL), first makes the coming months and drops the months past the retention
 * whole; then the rest (the older part of the month the cut-off falls in, events without a
 * user), a batch at a time.
 */
export async function purgeEvents(ctx: Pick<ServiceContext, 'store' | 'clock'>, retentionSeconds: number): Promise<number> {
  const now = ctx.clock.now();
  const before = now - retentionSeconds * SECOND;
  const userlessBefore = Math.max(before, now - USERLESS_EVENT_RETENTION_MS);
  // A month step that fails (its lock wait timed out under load) must not keep the batches from
  // deleting what is past the retention: they run, and then the run fails, to be logged.
  const failures: unknown[] = [];
  await ctx.store.prepareEventMonths(now).catch((error: unknown) => {
    failures.push(error);
  });
  const months = await ctx.store.purgeEventMonths(before).catch((error: unknown) => {
    failures.push(error);
    return 0;
  });
  const batched = await inBatches((limit) => ctx.store.purgeEvents(before, limit, userlessBefore), ctx.clock, batchTarget(ctx.store));
  if (failures.length > 0) throw failures[0];
  return months + batched;
}
