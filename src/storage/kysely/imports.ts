import type { Kysely, Transaction } from 'kysely';
import type { ImportedSession, ImportedUser, ImportedUserOutcome, ImportedUserUpdate } from '../store.js';
import { isUniqueViolation } from './connect.js';
import { insertEvents } from './events.js';
import { rememberDevice } from './known-devices.js';
import { noteOpenSessions } from './open-sessions.js';
import { fromNewSession, fromUser } from './rows.js';
import type { Database } from './tables.js';

/** `gatehouse import` (src/import/): users and sessions brought from another system's database. */

type Db = Kysely<Database> | Transaction<Database>;

/** Thrown inside the transaction to roll it back; the email was taken meanwhile. */
class EmailTaken extends Error {}

/**
 * The user, its sessions, the devices it used, its events and the rows that remember where each
 * came from, in one transaction: a crash leaves the user whole or absent, and a rerun finishes.
 * The source row is claimed first (its primary key): of two imports running at once, one brings
 * the user and the other finds it imported. An email key taken by then rolls everything back:
 * an account already in Gatehouse is never overwritten.
 */
export async function importUser(db: Kysely<Database>, entry: ImportedUser): Promise<ImportedUserOutcome> {
  const { user, at } = entry;
  try {
    return await db.transaction().execute(async (trx) => {
      if (!(await claimSourceRow(trx, entry.source, entry.userTable, entry.sourceId, user.id, at))) return 'already_imported';
      const record = { ...user, disabledAt: null, updatedAt: user.createdAt, passwordChangedAt: user.createdAt, emailVerifiedAt: user.emailVerifiedAt ?? null };
      try {
        await trx.insertInto('users').values(fromUser(record)).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new EmailTaken();
        throw error;
      }
      await insertSessions(trx, entry.source, user.id, entry, at);
      await insertEvents(trx, entry.events);
      return 'imported';
    });
  } catch (error) {
    if (error instanceof EmailTaken) return 'email_taken';
    throw error;
  }
}

/**
 * News of a user an earlier run imported: sessions whose source rows are new, the devices, and
 * a password changed in the source since. The hash is replaced only while it is still the one
 * imported (compare-and-swap): once the owner has signed in here, or changed it here, Gatehouse's
 * is the password that counts. Undefined, writing nothing, when the user is no longer there.
 */
export function updateImportedUser(db: Kysely<Database>, update: ImportedUserUpdate): Promise<{ sessions: number; passwordReplaced: boolean } | undefined> {
  return db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('id', '=', update.userId).executeTakeFirst();
    if (!user) return undefined;
    let passwordReplaced = false;
    if (update.passwordHash) {
      const replaced = await trx
        .updateTable('users')
        .set({ password_hash: update.passwordHash.current, password_changed_at: update.at, updated_at: update.at })
        .where('id', '=', update.userId)
        .where('password_hash', '=', update.passwordHash.imported)
        .executeTakeFirst();
      passwordReplaced = replaced.numUpdatedRows > 0n;
    }
    return { sessions: await insertSessions(trx, update.source, update.userId, update, update.at), passwordReplaced };
  });
}

/** The Gatehouse ids of the source's rows of `sourceTable` that were imported, by source id. */
export async function selectImportedRows(db: Db, source: string, sourceTable: string, sourceIds: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const ids of chunks(sourceIds)) {
    const rows = await db
      .selectFrom('imported_rows')
      .select(['source_id', 'target_id'])
      .where('source', '=', source)
      .where('source_table', '=', sourceTable)
      .where('source_id', 'in', ids)
      .execute();
    for (const row of rows) found.set(row.source_id, row.target_id);
  }
  return found;
}

/** Which of these email keys have an account. */
export async function selectTakenEmailKeys(db: Db, keys: string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  for (const part of chunks(keys)) {
    const rows = await db.selectFrom('users').select('email_key').where('email_key', 'in', part).execute();
    for (const row of rows) taken.add(row.email_key);
  }
  return taken;
}

/** Lists cut to a size every database takes as statement parameters (SQLite's limit is the lowest). */
function chunks<T>(items: T[], size = 1000): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

async function insertSessions(
  trx: Transaction<Database>,
  source: string,
  userId: string,
  entry: { sessionTable: string; sessions: ImportedSession[]; devices: Array<{ key: string; at: number }> },
  at: number,
): Promise<number> {
  let inserted = 0;
  for (const { sourceId, session } of entry.sessions) {
    if (!(await claimSourceRow(trx, source, entry.sessionTable, sourceId, session.id, at))) continue;
    await trx
      .insertInto('sessions')
      .values(fromNewSession({ ...session, userId }))
      .execute();
    inserted++;
  }
  await noteOpenSessions(trx, inserted);
  // Devices the account used in the old app: its first sign-in here from one of them is no news
  // (and no "new device" notification to every user the day after the move).
  for (const device of entry.devices) await rememberDevice(trx, userId, device.key, device.at);
  return inserted;
}

async function claimSourceRow(
  trx: Transaction<Database>,
  source: string,
  sourceTable: string,
  sourceId: string,
  targetId: string,
  at: number,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('imported_rows')
    .values({ source, source_table: sourceTable, source_id: sourceId, target_id: targetId, imported_at: at })
    .onConflict((oc) => oc.columns(['source', 'source_table', 'source_id']).doNothing())
    .executeTakeFirst();
  return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
