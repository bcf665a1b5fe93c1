import type { Kysely } from 'kysely';
import type { EventsFor } from '../../core/activity.js';
import { GatehouseError } from '../../core/errors.js';
import { sessionsEndedBySignIn } from '../../core/sessions-ended-by-sign-in.js';
import type { NewSession, SessionStart, SessionStartOptions } from '../store.js';
import type { Dialect } from './dialect.js';
import { voidAccountTokens } from './account-tokens.js';
import { insertEvents } from './events.js';
import { rememberDevice } from './known-devices.js';
import { noteOpenSessions } from './open-sessions.js';
import { fromNewSession } from './rows.js';
import { revokeWhere } from './session-writes.js';
import { releaseSuccessfulAttempt } from './sign-in-failures.js';
import type { Database } from './tables.js';

/**
 * A sign-in's session, in one transaction: inserted and counted open, the sessions core's rule
 * ends (same-device replacement, the per-user cap) revoked, the password and the account checked
 * once more under the user's lock, open reset links voided, the device remembered, the
 * address's counter released, and the events written. The store's `startSession`.
 */
export function startSession(
  db: Kysely<Database>,
  dialect: Dialect,
  session: NewSession,
  options: SessionStartOptions,
  events?: EventsFor<SessionStart>,
): Promise<SessionStart> {
  return db.transaction().execute(async (trx) => {
    // Sign-ins of one user take turns (a row lock on the user where writers run concurrently;
    // SQLite's one writer holds everything from the insert on), so two parallel sign-ins cannot
    // both count the sessions before either is inserted, and a password change either waits
    // for this sign-in (and then revokes it) or goes first.
    const owner = () => trx.selectFrom('users').select(['password_hash', 'disabled_at']).where('id', '=', session.userId);
    const locked = dialect.concurrentWriters ? await dialect.lockOwner(owner()).executeTakeFirst() : undefined;
    await trx.insertInto('sessions').values(fromNewSession(session)).execute();
    await noteOpenSessions(trx, 1);
    // Which sessions the sign-in ends is core's rule; here they are read and ended under the
    // lock (not read at all when neither rule is on).
    const rulesOn = options.replaceSameDevice || options.maxSessions > 0;
    const open = !rulesOn
      ? []
      : await trx
          .selectFrom('sessions')
          .select(['id', 'user_agent', 'ip', 'last_active_at', 'created_at', 'idle_expires_at', 'expires_at'])
          .where('user_id', '=', session.userId)
          .where('id', '!=', session.id)
          .where('revoked_at', 'is', null)
          .execute();
    const ending = sessionsEndedBySignIn(
      open.map((s) => ({
        id: s.id,
        userAgent: s.user_agent,
        ip: s.ip,
        lastActiveAt: s.last_active_at,
        createdAt: s.created_at,
        idleExpiresAt: s.idle_expires_at,
        expiresAt: s.expires_at,
      })),
      { userAgent: session.client.userAgent, ip: session.client.ip, at: session.createdAt },
      options,
    );
    const end = (ids: string[], reason: 'replaced' | 'session_limit') =>
      ids.length === 0 ? Promise.resolve([]) : revokeWhere(trx, dialect, { reason, by: session.userId, at: session.createdAt }, (eb) => eb('id', 'in', ids));
    const replaced = await end(ending.replaced, 'replaced');
    const evicted = await end(ending.evicted, 'session_limit');
    // On SQLite this read comes after the first write, so it sees the latest commit.
    const user = locked ?? (await owner().executeTakeFirst());
    if (!user || user.password_hash !== options.passwordHash || user.disabled_at !== null) {
      throw new GatehouseError('invalid_credentials', 'The email or password is incorrect.');
    }
    // Whoever signs in has the password: a reset link still in a mailbox is now only a risk.
    await voidAccountTokens(trx, session.userId, ['password_reset'], session.createdAt);
    const newDevice = options.device !== undefined && (await rememberDevice(trx, session.userId, options.device, session.createdAt));
    // Last: the counters' rows (an address's is shared by everyone signing in from it) stay
    // locked only until the commit, and nothing is waited for while they are held.
    if (options.signInSuccess) await releaseSuccessfulAttempt(trx, options.signInSuccess);
    const outcome = { replaced, evicted, newDevice };
    await insertEvents(trx, events?.(outcome) ?? []);
    return outcome;
  });
}
