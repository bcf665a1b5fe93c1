import type { Kysely, Transaction } from 'kysely';
import { GatehouseError } from '../../core/errors.js';
import type { Role, UserRecord } from '../../core/records.js';
import type { EventsFor } from '../../core/activity.js';
import type { UserChange } from '../store.js';
import { insertEvents } from './events.js';
import { toUser } from './rows.js';
import type { Dialect } from './dialect.js';
import { revokeWhere } from './session-writes.js';
import type { Database } from './tables.js';

/** The statements of administration (src/service/admin*.ts): finding users, disabling them, roles. */

export async function selectUsersByEmail(
  db: Kysely<Database>,
  dialect: Dialect,
  prefix: string,
  page: { after?: string; limit: number },
): Promise<UserRecord[]> {
  // Code-point order on both databases (dialect.ts), as migration 0006 indexes it.
  const key = dialect.emailKey;
  let query = db.selectFrom('users').selectAll();
  // A range, not LIKE: it uses the index, and a prefix's `%` or `_` mean nothing special.
  if (prefix !== '') query = query.where(key, '>=', prefix);
  const end = prefixEnd(prefix);
  if (end !== undefined) query = query.where(key, '<', end);
  if (page.after !== undefined) query = query.where(key, '>', page.after);
  const rows = await query.orderBy(key).limit(page.limit).execute();
  return rows.map(toUser);
}

/**
 * The least string above every string that starts with `prefix`, in code point order: the
 * prefix with its last code point one higher (dropping trailing U+10FFFF); undefined when no
 * bound is needed.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0) as number);
  while (points.length > 0) {
    const last = (points.pop() as number) + 1;
    if (last > 0x10ffff) continue;
    // No string holds a lone surrogate once encoded: the next code point after them is U+E000.
    points.push(last >= 0xd800 && last <= 0xdfff ? 0xe000 : last);
    return String.fromCodePoint(...points);
  }
  return undefined;
}

/** A compare-and-swap that keeps losing means something is wrong, not busy. */
const MAX_ATTEMPTS = 5;

type Trx = Transaction<Database>;

/**
 * Reads the user, then runs `change` in a transaction as a compare-and-swap on what was read:
 * it answers null when the user changed in between, and is run again on a fresh read. So it
 * works alike on both databases (a SQLite transaction that reads before it writes fails when
 * another process commits in between), and the outcome names the exact state it replaced.
 */
async function changeUser(
  db: Kysely<Database>,
  userId: string,
  change: (previous: UserRecord, trx: Trx) => Promise<UserChange | null>,
): Promise<UserChange | undefined> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const row = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!row) return undefined;
    const previous = toUser(row);
    const outcome = await db.transaction().execute((trx) => change(previous, trx));
    if (outcome) return outcome;
  }
  throw new GatehouseError('unavailable', 'The account is changing too fast; try again.');
}

export function setUserDisabled(
  db: Kysely<Database>,
  dialect: Dialect,
  change: { userId: string; disabled: boolean; at: number; by: string; events: EventsFor<UserChange> },
): Promise<UserChange | undefined> {
  const { userId, disabled, at } = change;
  return changeUser(db, userId, async (previous, trx) => {
    const changed = (previous.disabledAt !== null) !== disabled;
    if (changed) {
      const updated = await trx
        .updateTable('users')
        .set({ disabled_at: disabled ? at : null, updated_at: at })
        .where('id', '=', userId)
        .where('disabled_at', previous.disabledAt === null ? 'is' : '=', previous.disabledAt)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return null;
    }
    // Also when it was disabled already: no session should be alive then, and if one is, it goes.
    const revoked = disabled ? await revokeWhere(trx, dialect, { reason: 'account_disabled', by: change.by, at }, (eb) => eb('user_id', '=', userId)) : [];
    const user = changed ? { ...previous, disabledAt: disabled ? at : null, updatedAt: at } : previous;
    const outcome: UserChange = { user, previous, changed, revoked };
    await insertEvents(trx, change.events(outcome));
    return outcome;
  });
}

export function setUserRole(
  db: Kysely<Database>,
  change: { userId: string; role: Role; at: number; events: EventsFor<UserChange> },
): Promise<UserChange | undefined> {
  const { userId, role, at } = change;
  return changeUser(db, userId, async (previous, trx) => {
    const changed = previous.role !== role;
    if (changed) {
      const updated = await trx
        .updateTable('users')
        .set({ role, updated_at: at })
        .where('id', '=', userId)
        .where('role', '=', previous.role)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return null;
    }
    const outcome: UserChange = { user: changed ? { ...previous, role, updatedAt: at } : previous, previous, changed, revoked: [] };
    await insertEvents(trx, change.events(outcome));
    return outcome;
  });
}
