import type { Kysely, Transaction } from 'kysely';
import type { AccountTokenPurpose } from '../../core/account-tokens.js';
import type { ActivityEvent } from '../../core/activity.js';
import { GatehouseError } from '../../core/errors.js';
import type { NewMail } from '../../core/mail.js';
import type { RevokedSession, UserRecord } from '../../core/records.js';
import type { AccountTokenRecord, EmailChange, EmailChangeCancel, LinkUse, NewAccountToken, PasswordReset } from '../ports/account-tokens.js';
import { isUniqueViolation } from './connect.js';
import type { Dialect } from './dialect.js';
import { insertEvents } from './events.js';
import { insertMail } from './mail-outbox.js';
import { toUser } from './rows.js';
import { revokeWhere } from './session-writes.js';
import type { AccountTokensTable, Database, UsersTable } from './tables.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Voids the user's open links of `purposes` at `at`: what a newer link, a sign-in and a password
 * change do to a reset link (one range of `account_tokens_open`, usually empty).
 */
export async function voidAccountTokens(db: Db, userId: string, purposes: AccountTokenPurpose[], at: number): Promise<void> {
  await db
    .updateTable('account_tokens')
    .set({ voided_at: at })
    .where('user_id', '=', userId)
    .where('purpose', 'in', purposes)
    .where('used_at', 'is', null)
    .where('voided_at', 'is', null)
    .execute();
}

/**
 * Stores links, each voiding the user's older open links of its purpose: only the newest works.
 * But for a change's cancel link: each one stays the old address's way back for its whole week,
 * or whoever changed the address once could void the owner's link by changing it again.
 */
export async function insertAccountTokens(db: Db, tokens: NewAccountToken[]): Promise<void> {
  for (const token of tokens) {
    if (token.purpose !== 'email_change_cancel') await voidAccountTokens(db, token.userId, [token.purpose], token.createdAt);
    await db
      .insertInto('account_tokens')
      .values({ id: token.id, user_id: token.userId, purpose: token.purpose, email: token.email, created_at: token.createdAt, expires_at: token.expiresAt })
      .execute();
  }
}

export async function issueAccountTokens(
  db: Kysely<Database>,
  tokens: NewAccountToken[],
  effects: { mail: NewMail[]; events: ActivityEvent[] },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await insertAccountTokens(trx, tokens);
    await insertMail(trx, effects.mail);
    await insertEvents(trx, effects.events);
  });
}

export async function recordWithheldMail(db: Kysely<Database>, effects: { mail: NewMail[]; events: ActivityEvent[] }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // A decoy, as a sign-in with an unknown email verifies a decoy hash: the voiding a link's
    // issue runs, on the one user id no account has (ids are 22 characters).
    await voidAccountTokens(trx, '', ['password_reset'], 0);
    await insertMail(trx, effects.mail);
    await insertEvents(trx, effects.events);
  });
}

export async function selectAccountToken(db: Db, id: string): Promise<AccountTokenRecord | undefined> {
  const row = await db.selectFrom('account_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toAccountToken(row);
}

/**
 * Spends a link of `purpose` as a compare-and-swap (of two tabs using one link, exactly one
 * gets the row), then reads its account: the link and the account it may act on, or the error
 * that says why it cannot be used. A link proves only the address it went to, so for every
 * purpose but a change's cancel link (which goes to the old address on purpose) the account
 * must still have that address, and it must not be disabled.
 */
async function spend(
  trx: Transaction<Database>,
  dialect: Dialect,
  id: string,
  purpose: AccountTokenPurpose,
  at: number,
): Promise<{ token: AccountTokenRecord; row: UsersTable }> {
  // The account first, locked where writers run concurrently: every use of a link takes the
  // same locks in the same order (account, then links), so two racing uses wait, not deadlock,
  // and the second sees the first's change of address.
  const owner = await trx.selectFrom('account_tokens').select('user_id').where('id', '=', id).executeTakeFirst();
  if (owner && dialect.concurrentWriters) await dialect.lockOwner(trx.selectFrom('users').select('id').where('id', '=', owner.user_id)).execute();
  const spent = await trx
    .updateTable('account_tokens')
    .set({ used_at: at })
    .where('id', '=', id)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('voided_at', 'is', null)
    .where('expires_at', '>', at)
    .returningAll()
    .executeTakeFirst();
  if (!spent) throw await whyUnusable(trx, id, purpose);
  const row = await trx.selectFrom('users').selectAll().where('id', '=', spent.user_id).executeTakeFirst();
  if (!row || row.disabled_at !== null) throw expired();
  const addressed = purpose === 'email_change' || purpose === 'email_change_cancel' ? true : row.email === spent.email;
  if (!addressed) throw expired();
  return { token: toAccountToken(spent), row };
}

export async function resetPassword(db: Kysely<Database>, dialect: Dialect, reset: PasswordReset): Promise<{ user: UserRecord; revoked: RevokedSession[] }> {
  const { at } = reset;
  return db.transaction().execute(async (trx) => {
    const { row } = await spend(trx, dialect, reset.tokenId, 'password_reset', at);
    const user = await updateUser(trx, row, {
      password_hash: reset.passwordHash,
      password_changed_at: at,
      updated_at: at,
      email_verified_at: row.email_verified_at ?? at,
    });
    const revoked = await revokeWhere(trx, dialect, reset.revocation, (eb) => eb('user_id', '=', user.id));
    // A change of address asked for before the reset is the likeliest thing the intruder left behind.
    await voidAccountTokens(trx, user.id, ['password_reset', 'email_change'], at);
    // A lock from guesses at the old password protects nothing now: the owner gets straight in.
    await trx.deleteFrom('sign_in_failures').where('email_key', '=', user.emailKey).execute();
    await insertEvents(trx, reset.events({ user, revoked }));
    await insertMail(trx, reset.mail({ user, revoked }));
    return { user, revoked };
  });
}

export async function verifyEmail(db: Kysely<Database>, dialect: Dialect, use: LinkUse): Promise<UserRecord> {
  return db.transaction().execute(async (trx) => {
    const { row } = await spend(trx, dialect, use.tokenId, 'email_verification', use.at);
    const user = row.email_verified_at !== null ? toUser(row) : await updateUser(trx, row, { email_verified_at: use.at, updated_at: use.at });
    await insertEvents(trx, use.events(user));
    return user;
  });
}

export async function changeEmail(db: Kysely<Database>, dialect: Dialect, use: EmailChange): Promise<{ user: UserRecord; previous: UserRecord }> {
  const { at } = use;
  try {
    return await db.transaction().execute(async (trx) => {
      const { token, row } = await spend(trx, dialect, use.tokenId, 'email_change', at);
      const previous = toUser(row);
      const user = await updateUser(trx, row, { email: token.email, email_key: use.emailKey, email_verified_at: at, updated_at: at });
      // Every other open link went to the old address (a reset, a verification): none of them proves the new one.
      await voidAccountTokens(trx, user.id, ['password_reset', 'email_verification', 'email_change'], at);
      await insertEvents(trx, use.events({ user, previous }));
      return { user, previous };
    });
  } catch (error) {
    // Another account took the address while the link waited: nothing changed, the link is unspent.
    if (isUniqueViolation(error)) throw new GatehouseError('email_taken', 'Another account has this address now.');
    throw error;
  }
}

export async function cancelEmailChange(
  db: Kysely<Database>,
  dialect: Dialect,
  cancel: EmailChangeCancel,
): Promise<{ user: UserRecord; reverted: boolean; revoked: RevokedSession[] }> {
  try {
    return await cancelInTransaction(db, dialect, cancel);
  } catch (error) {
    // Another account took the old address in that very moment: nothing changed, the link is unspent.
    if (isUniqueViolation(error)) throw new GatehouseError('email_taken', 'Another account has taken this address meanwhile.');
    throw error;
  }
}

function cancelInTransaction(db: Kysely<Database>, dialect: Dialect, cancel: EmailChangeCancel) {
  const { at } = cancel;
  return db.transaction().execute(async (trx) => {
    const { token, row } = await spend(trx, dialect, cancel.tokenId, 'email_change_cancel', at);
    await voidAccountTokens(trx, row.id, ['password_reset', 'email_verification', 'email_change', 'email_change_cancel'], at);
    // The change landed already: the old address comes back, unless someone else has it now.
    const taken =
      row.email_key !== cancel.emailKey &&
      (await trx.selectFrom('users').select('id').where('email_key', '=', cancel.emailKey).where('id', '!=', row.id).executeTakeFirst()) !== undefined;
    const reverted = row.email_key !== cancel.emailKey && !taken;
    const user = reverted ? await updateUser(trx, row, { email: token.email, email_key: cancel.emailKey, email_verified_at: at, updated_at: at }) : toUser(row);
    const revoked = await revokeWhere(trx, dialect, cancel.revocation, (eb) => eb('user_id', '=', user.id));
    await insertEvents(trx, cancel.events({ user, reverted, revoked }));
    return { user, reverted, revoked };
  });
}

async function updateUser(trx: Transaction<Database>, row: UsersTable, changes: Partial<UsersTable>): Promise<UserRecord> {
  await trx.updateTable('users').set(changes).where('id', '=', row.id).execute();
  return toUser({ ...row, ...changes });
}

async function whyUnusable(db: Db, id: string, purpose: AccountTokenPurpose): Promise<GatehouseError> {
  const token = await selectAccountToken(db, id);
  if (!token || token.purpose !== purpose) return new GatehouseError('link_invalid', 'This link is not valid. Ask for a new one.');
  if (token.usedAt !== null) return new GatehouseError('link_used', 'This link has already been used.');
  return expired();
}

const expired = () =>
  new GatehouseError('link_expired', 'This link no longer works: it expired, a newer one was sent, or the account changed since. Ask for a new one.');

export async function deleteExpiredAccountTokens(db: Db, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('account_tokens')
    .where('id', 'in', (eb) => eb.selectFrom('account_tokens').select('id').where('expires_at', '<', before).orderBy('expires_at').limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function toAccountToken(row: AccountTokensTable): AccountTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    purpose: row.purpose as AccountTokenPurpose,
    email: row.email,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
    voidedAt: row.voided_at === null ? null : Number(row.voided_at),
  };
}
