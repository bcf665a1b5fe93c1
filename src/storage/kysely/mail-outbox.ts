import type { Kysely, Transaction } from 'kysely';
import type { MailData, MailKind, NewMail, OutgoingMail } from '../../core/mail.js';
import type { Dialect } from './dialect.js';
import type { Database } from './tables.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Queues messages; called with the transaction of what caused them. */
export async function insertMail(db: Db, mail: NewMail[]): Promise<void> {
  if (mail.length === 0) return;
  await db
    .insertInto('mail_outbox')
    .values(
      mail.map((m) => ({
        id: m.id,
        kind: m.kind,
        recipient: m.recipient,
        user_id: m.userId,
        data: JSON.stringify(m.data),
        created_at: m.createdAt,
        next_attempt_at: m.createdAt,
      })),
    )
    .execute();
}

/**
 * Claims due messages with a lease in one statement, as the webhook outbox does
 * (webhook-deliveries.ts): rows another node is claiming are skipped on PostgreSQL, and the
 * outer conditions repeat the inner ones so a row claimed meanwhile is not claimed twice.
 */
export async function claimMail(db: Kysely<Database>, dialect: Dialect, now: number, limit: number, leaseMs: number): Promise<OutgoingMail[]> {
  const claimedUntil = now + leaseMs;
  const claimed = await db
    .updateTable('mail_outbox')
    .set({ claimed_until: claimedUntil })
    .where('sent_at', 'is', null)
    .where('gave_up_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .where('id', 'in', (eb) =>
      dialect.claimRows(
        eb
          .selectFrom('mail_outbox')
          .select('id')
          .where('sent_at', 'is', null)
          .where('gave_up_at', 'is', null)
          .where('next_attempt_at', '<=', now)
          .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', now)]))
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(limit),
      ),
    )
    .returningAll()
    .execute();
  if (claimed.length === 0) return [];
  const userIds = [...new Set(claimed.flatMap((m) => (m.user_id === null ? [] : [m.user_id])))];
  const users = userIds.length === 0 ? [] : await db.selectFrom('users').select(['id', 'email', 'email_verified_at']).where('id', 'in', userIds).execute();
  const byId = new Map(users.map((u) => [u.id, u]));
  // A message for "the account's address" whose account is gone has no one to go to.
  const orphans = claimed.filter((m) => m.recipient === null && (m.user_id === null || !byId.has(m.user_id))).map((m) => m.id);
  if (orphans.length > 0) await db.deleteFrom('mail_outbox').where('id', 'in', orphans).execute();
  const outgoing: OutgoingMail[] = [];
  for (const row of claimed) {
    const user = row.user_id === null ? undefined : byId.get(row.user_id);
    const recipient = row.recipient ?? user?.email;
    if (recipient === undefined) continue;
    outgoing.push({
      id: row.id,
      kind: row.kind as MailKind,
      recipient,
      userId: row.user_id,
      addressProved: user !== undefined && user.email_verified_at !== null && recipient === user.email,
      data: JSON.parse(row.data) as MailData,
      createdAt: Number(row.created_at),
      attempts: row.attempts,
      claimedUntil,
    });
  }
  return outgoing.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

export async function settleMail(
  db: Db,
  id: string,
  outcome: { sent: true; at: number } | { sent: false; at: number; error: string; nextAttemptAt: number | null; claimedUntil?: number },
): Promise<void> {
  const settled = outcome.sent
    ? { sent_at: outcome.at, last_error: null }
    : outcome.nextAttemptAt === null
      ? { gave_up_at: outcome.at, last_error: outcome.error.slice(0, 500) }
      : { next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error.slice(0, 500) };
  let update = db
    .updateTable('mail_outbox')
    .set((eb) => ({ ...settled, claimed_until: null, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('sent_at', 'is', null);
  // A send always counts (the server has it); a failure only from the claim holding the row.
  if (!outcome.sent && outcome.claimedUntil !== undefined) update = update.where('claimed_until', '=', outcome.claimedUntil);
  await update.execute();
}

export async function countMailBacklog(db: Db): Promise<{ pending: number; oldestCreatedAt: number | null }> {
  const row = await db
    .selectFrom('mail_outbox')
    .select((eb) => [eb.fn.countAll<number | string | bigint>().as('pending'), eb.fn.min('created_at').as('oldest')])
    .where('sent_at', 'is', null)
    .where('gave_up_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) };
}

/** Two ranges, each on an index of settled rows only (migration 0014), as for webhook deliveries. */
export async function deleteSettledMail(db: Db, before: number, limit: number): Promise<number> {
  const settled = [
    db.selectFrom('mail_outbox').select('id').where('sent_at', '<', before),
    db
      .selectFrom('mail_outbox')
      .select('id')
      .where('gave_up_at', '<', before)
      .where((w) => w.or([w('sent_at', 'is', null), w('sent_at', '>=', before)])),
  ].map((range, i) => db.selectFrom(range.limit(limit).as(`settled${i}`)).select('id'));
  const result = await db
    .deleteFrom('mail_outbox')
    .where('id', 'in', (eb) => eb.selectFrom(settled[0]!.unionAll(settled[1]!).as('settled')).select('id').limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
