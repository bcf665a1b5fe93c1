import type { Kysely } from 'kysely';
import type { WebhookType } from '../../core/activity.js';
import type { WebhookDelivery } from '../store.js';
import type { Dialect } from './dialect.js';
import { toEvent } from './events.js';
import type { Database } from './tables.js';

type Db = Kysely<Database>;

/**
 * The outbox's queue: claims due deliveries with a lease (`claimed_until`) in one statement.
 * On PostgreSQL, rows another node is claiming are skipped, not waited for; on SQLite the one
 * writer makes the statement atomic. The outer conditions repeat the inner ones, so a row
 * claimed meanwhile is not claimed twice.
 */
export async function claimDeliveries(db: Db, dialect: Dialect, now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
  const claimedUntil = now + leaseMs;
  const claimed = await db
    .updateTable('webhook_deliveries')
    .set({ claimed_until: claimedUntil })
    .where('delivered_at', 'is', null)
    .where('gave_up_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .where('event_id', 'in', (eb) => {
      const due = eb
        .selectFrom('webhook_deliveries')
        .select('event_id')
        .where('delivered_at', 'is', null)
        .where('gave_up_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .orderBy('event_id')
        .limit(limit);
      return dialect.claimRows(due);
    })
    .returning(['event_id', 'type', 'attempts'])
    .execute();
  if (claimed.length === 0) return [];
  const rows = await db
    .selectFrom('events')
    .leftJoin('users', 'users.id', 'events.user_id')
    .selectAll('events')
    .select(['users.email as u_email', 'users.name as u_name'])
    .where(
      'events.id',
      'in',
      claimed.map((c) => c.event_id),
    )
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  // A delivery whose event is gone has nothing left to send. The purge deletes both together,
  // but a node of a version before migration 0013 purges events alone (it counted on a cascade
  // the partitioned table no longer has): left, such a row would be claimed at every lease.
  const orphans = claimed.filter((c) => !byId.has(c.event_id)).map((c) => c.event_id);
  if (orphans.length > 0) await db.deleteFrom('webhook_deliveries').where('event_id', 'in', orphans).execute();
  const deliveries: WebhookDelivery[] = [];
  for (const c of claimed) {
    const row = byId.get(c.event_id);
    if (!row) continue;
    const user = row.user_id !== null && row.u_email !== null ? { id: row.user_id, email: row.u_email, name: row.u_name } : null;
    deliveries.push({ type: c.type as WebhookType, event: toEvent(row), user, attempts: c.attempts, claimedUntil });
  }
  return deliveries.sort((a, b) => a.event.at - b.event.at || (a.event.id < b.event.id ? -1 : 1));
}

export async function settleDelivery(
  db: Db,
  eventId: string,
  outcome: { delivered: true; at: number } | { delivered: false; at: number; error: string; nextAttemptAt: number | null; claimedUntil?: number },
): Promise<void> {
  const settled = outcome.delivered
    ? { delivered_at: outcome.at, last_error: null }
    : outcome.nextAttemptAt === null
      ? { gave_up_at: outcome.at, last_error: outcome.error.slice(0, 500) }
      : { next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error.slice(0, 500) };
  let update = db
    .updateTable('webhook_deliveries')
    .set((eb) => ({ ...settled, claimed_until: null, attempts: eb('attempts', '+', 1) }))
    .where('event_id', '=', eventId)
    .where('delivered_at', 'is', null);
  // A success always counts (the receiver has it, whoever sent it); a failure only from the claim holding the row.
  if (!outcome.delivered && outcome.claimedUntil !== undefined) update = update.where('claimed_until', '=', outcome.claimedUntil);
  await update.execute();
}

export async function countBacklog(db: Db): Promise<{ pending: number; oldestCreatedAt: number | null }> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<number | string | bigint>().as('pending'), eb.fn.min('created_at').as('oldest')])
    .where('delivered_at', 'is', null)
    .where('gave_up_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) };
}

export async function deleteSettledDeliveries(db: Db, before: number, limit: number): Promise<number> {
  // Two ranges, each on an index that holds only settled rows (migration 0012): delivered
  // before `before`, and given up before it but not delivered then (a late success can settle a
  // row given up on, and that row is in the first range). One OR of them would read every row.
  const settled = [
    db.selectFrom('webhook_deliveries').select('event_id').where('delivered_at', '<', before),
    db
      .selectFrom('webhook_deliveries')
      .select('event_id')
      .where('gave_up_at', '<', before)
      .where((w) => w.or([w('delivered_at', 'is', null), w('delivered_at', '>=', before)])),
  ].map((range, i) => db.selectFrom(range.limit(limit).as(`settled${i}`)).select('event_id'));
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('event_id', 'in', (eb) => eb.selectFrom(settled[0]!.unionAll(settled[1]!).as('settled')).select('event_id').limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
