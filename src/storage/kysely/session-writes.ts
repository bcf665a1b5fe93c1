import type { Expression, ExpressionBuilder, Kysely, SqlBool, Transaction } from 'kysely';
import type { Revocation, RevokedSession } from '../../core/records.js';
import { activeAt } from './active-sessions.js';
import type { Dialect } from './dialect.js';
import { noteOpenSessions } from './open-sessions.js';
import type { Database } from './tables.js';

/** The statements that end sessions, shared by every store method that ends some. */

type Db = Kysely<Database> | Transaction<Database>;

/** Moves the session's last password proof to `at`, if it is still active then. */
export async function markReauthenticated(db: Db, sessionId: string, at: number): Promise<boolean> {
  const result = await db.updateTable('sessions').set({ authenticated_at: at }).where('id', '=', sessionId).where(activeAt(at)).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Revokes the not-yet-revoked sessions a filter selects, in one statement, and returns them.
 * Sessions past their expiry are revoked too: an access token minted just before the expiry
 * may still be alive, and "sign out everywhere" must end it as well. In a transaction: the
 * open-session count changes with it.
 */
export async function revokeWhere(
  db: Transaction<Database>,
  dialect: Dialect,
  revocation: Revocation,
  filter: (eb: ExpressionBuilder<Database, 'sessions'>) => Expression<SqlBool>,
): Promise<RevokedSession[]> {
  const rows = await db
    .updateTable('sessions')
    .set({ revoked_at: revocation.at, revoked_reason: revocation.reason, revoked_by: revocation.by })
    .where('revoked_at', 'is', null)
    .where('id', 'in', (eb) => {
      // Locked in id order where writers run concurrently (dialect.ts, lockRows).
      return dialect.lockRows(eb.selectFrom('sessions').select('id').where('revoked_at', 'is', null).where(filter));
    })
    .returning(['id', 'expiry_recorded_at'])
    .execute();
  // A session whose expiry the sweep already recorded had left the open count then.
  await noteOpenSessions(db, -rows.filter((row) => row.expiry_recorded_at === null).length);
  if (rows.length > 0) await dialect.announceRevocations(db);
  return rows.map((row) => ({ id: row.id, revokedAt: revocation.at }));
}
