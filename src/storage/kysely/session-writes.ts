import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Revocation, RevokedSession } from '../../core/records.js';
import type { NewSession } from '../store.js';
import { REVOCATION_CHANNEL } from './connect.js';
import type { Database } from './tables.js';

/** The statements that end sessions, shared by every store method that ends some. */

type Db = Kysely<Database> | Transaction<Database>;

/** Moves the session's last password proof to `at`, if it is still active then. */
export async function markReauthenticated(db: Db, sessionId: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ authenticated_at: at })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', at)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Ends the user's least recently active sessions beyond the cap; the new sign-in always stays.
 */
export async function evictBeyondCap(trx: Transaction<Database>, dialect: 'sqlite' | 'postgres', session: NewSession, maxSessions: number): Promise<RevokedSession[]> {
  const now = session.createdAt;
  const others = await trx
    .selectFrom('sessions')
    .select('id')
    .where('user_id', '=', session.userId)
    .where('id', '!=', session.id)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', now)
    .where('expires_at', '>', now)
    .orderBy('last_active_at', 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const beyond = others.slice(maxSessions - 1).map((row) => row.id);
  if (beyond.length === 0) return [];
  return revokeWhere(trx, dialect, { reason: 'session_limit', by: session.userId, at: now }, (eb) => eb('id', 'in', beyond));
}

/**
 * Revokes the not-yet-revoked sessions a filter selects, in one statement, and returns them.
 * Sessions past their expiry are revoked too: an access token minted just before the expiry
 * may still be alive, and "sign out everywhere" must end it as well.
 */
export async function revokeWhere(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  revocation: Revocation,
  filter: (eb: ExpressionBuilder<Database, 'sessions'>) => Expression<SqlBool>,
): Promise<RevokedSession[]> {
  const rows = await db
    .updateTable('sessions')
    .set({ revoked_at: revocation.at, revoked_reason: revocation.reason, revoked_by: revocation.by })
    .where('revoked_at', 'is', null)
    .where('id', 'in', (eb) => {
      const targets = eb.selectFrom('sessions').select('id').where('revoked_at', 'is', null).where(filter).orderBy('id');
      // PostgreSQL: lock the rows in id order, as every multi-row write here does, so two of
      // them (a sign-out everywhere and an activity batch) cannot deadlock on opposite orders.
      return dialect === 'postgres' ? targets.forUpdate() : targets;
    })
    .returning('id')
    .execute();
  // One notice however many sessions ended: it only tells other nodes to catch up now. Inside a
  // transaction PostgreSQL delivers it at commit, never for a rolled-back revocation.
  if (dialect === 'postgres' && rows.length > 0) await sql`select pg_notify(${REVOCATION_CHANNEL}, '')`.execute(db);
  return rows.map((row) => ({ id: row.id, revokedAt: revocation.at }));
}
