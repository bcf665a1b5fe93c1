import type { Kysely } from 'kysely';
import { GatehouseError } from '../../core/errors.js';
import type { RevokedSession, UserRecord } from '../../core/records.js';
import type { Store } from '../store.js';
import { insertAccountTokens, voidAccountTokens } from './account-tokens.js';
import { isUniqueViolation } from './connect.js';
import type { Dialect } from './dialect.js';
import { insertEvents } from './events.js';
import { rememberDevice } from './known-devices.js';
import { insertMail } from './mail-outbox.js';
import { fromUser } from './rows.js';
import { revokeWhere } from './session-writes.js';
import type { Database } from './tables.js';

/** A new account, in one transaction with its device, its verification link and mail, and its events: the store's `createUser`. */
export async function insertUser(db: Kysely<Database>, ...[user, activity = {}]: Parameters<Store['createUser']>): Promise<UserRecord> {
  const record: UserRecord = {
    ...user,
    disabledAt: null,
    updatedAt: user.createdAt,
    passwordChangedAt: user.createdAt,
    emailVerifiedAt: user.emailVerifiedAt ?? null,
  };
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('users').values(fromUser(record)).execute();
      if (activity.device !== undefined) await rememberDevice(trx, user.id, activity.device, user.createdAt);
      if (activity.link) {
        await insertAccountTokens(trx, [activity.link.token]);
        await insertMail(trx, activity.link.mail);
      }
      await insertEvents(trx, activity.events ?? []);
    });
  } catch (error) {
    // The unique index decides races between two sign-ups of one email: exactly one wins.
    if (isUniqueViolation(error)) throw new GatehouseError('email_taken', 'An account with this email already exists.');
    throw error;
  }
  return record;
}

/** A password change, its sessions ended and its stale links voided, in one transaction: the store's `changePassword`. */
export function changePassword(db: Kysely<Database>, dialect: Dialect, change: Parameters<Store['changePassword']>[0]): Promise<RevokedSession[]> {
  const { userId, currentPasswordHash, passwordHash, keepSessionId, revocation, events } = change;
  return db.transaction().execute(async (trx) => {
    // Compare-and-swap on the hash: of two changes that both proved the old password, one wins.
    const updated = await trx
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: revocation.at, updated_at: revocation.at })
      .where('id', '=', userId)
      .where('password_hash', '=', currentPasswordHash)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw new GatehouseError('invalid_credentials', 'The current password is incorrect.');
    const kept = await trx.selectFrom('sessions').select('revoked_at').where('id', '=', keepSessionId).executeTakeFirst();
    if (!kept || kept.revoked_at !== null) throw new GatehouseError('session_revoked', 'This session has ended.');
    const revoked = await revokeWhere(trx, dialect, revocation, (eb) => eb.and([eb('user_id', '=', userId), eb('id', '!=', keepSessionId)]));
    // A reset link sent before the change would undo it; a change of address asked for before
    // it may be an intruder's, and the password change is how the owner shuts them out.
    await voidAccountTokens(trx, userId, ['password_reset', 'email_change'], revocation.at);
    await insertEvents(trx, events?.(revoked) ?? []);
    return revoked;
  });
}
