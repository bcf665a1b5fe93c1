import { sql, type Kysely } from 'kysely';
import type { Revocation, RevokedSession, SessionRecord, SigningKeyRecord, UserRecord } from '../../core/records.js';
import type { EventPage, NewSession, RefreshRotation, SessionStart, SessionStartOptions, Store, WebhookDelivery } from '../store.js';
import type { ActivityEvent, EventsFor, StoredEvent } from '../../core/activity.js';
import { deleteEventsBefore, insertEvents, selectEvent, selectUserEvents } from './events.js';
import { dropMonthsBefore, prepareMonths } from './event-months.js';
import { forgetDevice } from './known-devices.js';
import { markExpiriesRecorded } from './session-expiries.js';
import { purgeEndedSessions } from './session-purge.js';
import { startSession } from './session-start.js';
import { claimDeliveries, countBacklog, deleteSettledDeliveries, settleDelivery } from './webhook-deliveries.js';
import { reportSignIn } from './sign-in-reports.js';
import { connect, type DatabaseLocation } from './connect.js';
import { markReauthenticated, revokeWhere } from './session-writes.js';
import { activeAt } from './active-sessions.js';
import type { Dialect } from './dialect.js';
import { selectSessionWithUser } from './session-with-user.js';
import { importUser, selectImportedRows, selectTakenEmailKeys, updateImportedUser } from './imports.js';
import { countOpenSessions, foldOpenSessionChanges, recountOpenSessions } from './open-sessions.js';
import { selectUsersByEmail, setUserDisabled, setUserRole } from './admin-users.js';
import { changePassword, insertUser } from './user-writes.js';
import { toSession, toUser } from './rows.js';
import { insertSigningKey, insertSigningKeyIfNoneSince, retireSigningKey, sealSigningKey, selectSigningKeys } from './signing-keys.js';
import type { Database } from './tables.js';
import { hasPendingMigrations, migrateDatabase, migrateToLatest } from '../migrate.js';
import { reportingUnavailable } from './unavailable.js';
import { SqliteSync } from './sqlite-sync.js';
import { countAddressAttempt, deleteStaleAddressAttempts } from './address-attempts.js';
import {
  cancelEmailChange,
  changeEmail,
  deleteExpiredAccountTokens,
  issueAccountTokens,
  recordWithheldMail,
  resetPassword,
  selectAccountToken,
  verifyEmail,
} from './account-tokens.js';
import { claimMail, countMailBacklog, deleteSettledMail, insertMail, settleMail } from './mail-outbox.js';
import { claimSignInAttempt, deleteStaleSignInFailures, readSignInCounters, releaseSuccessfulAttempt } from './sign-in-failures.js';
import type { SignInClaim, SignInCounters, SignInLimitPolicy } from '../../core/sign-in-limits.js';

/** The order a user's session list is shown in: most recently active, then latest signed in, then by id. */
const mostRecentlyActiveFirst = (a: SessionRecord, b: SessionRecord): number =>
  b.lastActiveAt - a.lastActiveAt || b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Opens the database at `location`, brings its schema up to date and returns the store. */
export async function openStore(location: DatabaseLocation): Promise<KyselyStore> {
  const { db, dialect, sqlite } = connect(location);
  try {
    // The first statement also starts Kysely's driver, which starts on first use: a store
    // closed before any statement would otherwise open its pool again at the next one.
    if (await hasPendingMigrations(db)) {
      // PostgreSQL migrates on a connection of its own, which lets a long migration's statements
      // run their course; SQLite has no statement limit, and an in-memory database is per connection.
      if (location.kind === 'postgres') await migrateDatabase(location);
      else await migrateToLatest(db);
    }
    await dialect.refreshStatistics(db, true);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return reportingUnavailable(new KyselyStore(db, dialect, sqlite && new SqliteSync(db, sqlite)));
}

export class KyselyStore implements Store {
  constructor(
    readonly db: Kysely<Database>,
    /** What differs between the databases (dialect.ts): the store never compares their names. */
    private readonly sqlDialect: Dialect,
    private readonly sqlite?: SqliteSync,
  ) {}

  get dialect(): Dialect['name'] {
    return this.sqlDialect.name;
  }

  get onTheEventLoop(): boolean {
    return this.sqlDialect.onTheEventLoop;
  }

  createUser: Store['createUser'] = (user, activity) => insertUser(this.db, user, activity);

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserByEmail(emailKey: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
    return row && toUser(row);
  }

  findUsersByEmail: Store['findUsersByEmail'] = (prefix, page) => selectUsersByEmail(this.db, this.sqlDialect, prefix, page);
  setUserDisabled: Store['setUserDisabled'] = (change) => setUserDisabled(this.db, this.sqlDialect, change);
  setUserRole: Store['setUserRole'] = (change) => setUserRole(this.db, change);

  changePassword: Store['changePassword'] = (change) => changePassword(this.db, this.sqlDialect, change);

  startSession(session: NewSession, options: SessionStartOptions, events?: EventsFor<SessionStart>): Promise<SessionStart> {
    return startSession(this.db, this.sqlDialect, session, options, events);
  }

  findSessionWithUser(id: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
    return selectSessionWithUser(this.db, id);
  }

  async rotateRefresh(rotation: RefreshRotation): Promise<SessionRecord | undefined> {
    const { sessionId, presentedHash, generation, nextHash, sealedSuccessor, at, idleExpiresAt } = rotation;
    const row = await this.db
      .updateTable('sessions')
      .set((eb) => ({
        refresh_hash: nextHash,
        refresh_generation: generation + 1,
        // SET reads the row as it was: the current rotation time becomes the previous one.
        refresh_previous_rotated_at: eb.ref('refresh_rotated_at'),
        refresh_rotated_at: at,
        refresh_successor: sealedSuccessor,
        last_active_at: at,
        idle_expires_at: idleExpiresAt,
      }))
      .where('id', '=', sessionId)
      .where('refresh_hash', '=', presentedHash)
      .where('refresh_generation', '=', generation)
      .where(activeAt(at))
      .returningAll()
      .executeTakeFirst();
    return row && toSession(row);
  }

  recordActivity(seen: Array<{ sessionId: string; at: number }>, idleTtlMs: number, now: number): Promise<void> {
    if (seen.length === 0) return Promise.resolve();
    return this.sqlDialect.recordActivity(this.db, seen, idleTtlMs, now);
  }

  purgeEndedSessions(before: number, limit: number): Promise<number> {
    return purgeEndedSessions(this.db, before, limit);
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    // Found by the (user_id, revoked_at) index and sorted here: one user's sessions are few, and
    // an index in this order would be rewritten at every activity write.
    const rows = await this.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).where(activeAt(now)).execute();
    return rows.map(toSession).sort(mostRecentlyActiveFirst);
  }

  countOpenSessions(): Promise<number> {
    return countOpenSessions(this.db);
  }

  settleOpenSessionCount(): Promise<void> {
    return foldOpenSessionChanges(this.db);
  }

  recountOpenSessions(): Promise<number> {
    return recountOpenSessions(this.db);
  }

  markReauthenticated(sessionId: string, at: number, events: ActivityEvent[] = []): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const marked = await markReauthenticated(trx, sessionId, at);
      if (marked) await insertEvents(trx, events);
      return marked;
    });
  }

  revokeSession(userId: string, sessionId: string, revocation: Revocation, events?: EventsFor<RevokedSession>): Promise<RevokedSession | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const [revoked] = await revokeWhere(trx, this.sqlDialect, revocation, (eb) => eb.and([eb('id', '=', sessionId), eb('user_id', '=', userId)]));
      if (revoked && events) await insertEvents(trx, events(revoked));
      return revoked;
    });
  }

  revokeUserSessions(userId: string, revocation: Revocation, exceptSessionId?: string, events?: EventsFor<RevokedSession[]>): Promise<RevokedSession[]> {
    return this.db.transaction().execute(async (trx) => {
      const revoked = await revokeWhere(trx, this.sqlDialect, revocation, (eb) =>
        exceptSessionId === undefined ? eb('user_id', '=', userId) : eb.and([eb('user_id', '=', userId), eb('id', '!=', exceptSessionId)]),
      );
      await insertEvents(trx, events?.(revoked) ?? []);
      return revoked;
    });
  }

  recordEvents(events: ActivityEvent[]): Promise<void> {
    return insertEvents(this.db, events);
  }

  listUserEvents(userId: string, page: EventPage): Promise<StoredEvent[]> {
    return selectUserEvents(this.db, userId, page);
  }

  findEvent(id: string): Promise<StoredEvent | undefined> {
    return selectEvent(this.db, id);
  }

  recordSessionExpiries(now: number, limit: number, events: EventsFor<SessionRecord>): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const expired = await markExpiriesRecorded(trx, this.sqlDialect, now, limit);
      await insertEvents(trx, expired.flatMap(events));
      return expired.length;
    });
  }

  purgeEvents(before: number, limit: number, userlessBefore?: number): Promise<number> {
    return deleteEventsBefore(this.db, this.sqlDialect, before, limit, userlessBefore);
  }

  // On SQLite, history is one table: nothing to make ahead, and `purgeEvents` deletes it all.
  async prepareEventMonths(now: number): Promise<void> {
    if (this.sqlDialect.eventsByMonth) await prepareMonths(this.db, this.sqlDialect, now);
  }

  async purgeEventMonths(before: number): Promise<number> {
    return this.sqlDialect.eventsByMonth ? dropMonthsBefore(this.db, this.sqlDialect, before) : 0;
  }

  claimWebhookDeliveries(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    return claimDeliveries(this.db, this.sqlDialect, now, limit, leaseMs);
  }

  markWebhookDelivered(eventId: string, at: number): Promise<void> {
    return settleDelivery(this.db, eventId, { delivered: true, at });
  }

  markWebhookFailed(eventId: string, failure: { at: number; error: string; nextAttemptAt: number | null; claimedUntil?: number }): Promise<void> {
    return settleDelivery(this.db, eventId, { delivered: false, ...failure });
  }

  webhookBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }> {
    return countBacklog(this.db);
  }

  purgeWebhookDeliveries(before: number, limit: number): Promise<number> {
    return deleteSettledDeliveries(this.db, before, limit);
  }

  // The mail outbox (mail-outbox.ts) and emailed links (account-tokens.ts).
  queueMail: Store['queueMail'] = (mail) => insertMail(this.db, mail);
  claimMail: Store['claimMail'] = (now, limit, leaseMs) => claimMail(this.db, this.sqlDialect, now, limit, leaseMs);
  markMailSent: Store['markMailSent'] = (id, at) => settleMail(this.db, id, { sent: true, at });
  markMailFailed: Store['markMailFailed'] = (id, failure) => settleMail(this.db, id, { sent: false, ...failure });
  mailBacklog: Store['mailBacklog'] = () => countMailBacklog(this.db);
  purgeSettledMail: Store['purgeSettledMail'] = (before, limit) => deleteSettledMail(this.db, before, limit);
  issueAccountToken: Store['issueAccountToken'] = (token, effects) => issueAccountTokens(this.db, [token], effects);
  issueAccountTokens: Store['issueAccountTokens'] = (tokens, effects) => issueAccountTokens(this.db, tokens, effects);
  recordWithheldMail: Store['recordWithheldMail'] = (effects) => recordWithheldMail(this.db, effects);
  verifyEmail: Store['verifyEmail'] = (use) => verifyEmail(this.db, this.sqlDialect, use);
  changeEmail: Store['changeEmail'] = (use) => changeEmail(this.db, this.sqlDialect, use);
  cancelEmailChange: Store['cancelEmailChange'] = (cancel) => cancelEmailChange(this.db, this.sqlDialect, cancel);
  findAccountToken: Store['findAccountToken'] = (id) => selectAccountToken(this.db, id);
  resetPassword: Store['resetPassword'] = (reset) => resetPassword(this.db, this.sqlDialect, reset);
  purgeAccountTokens: Store['purgeAccountTokens'] = (before, limit) => deleteExpiredAccountTokens(this.db, before, limit);

  async isSignInReported(eventId: string): Promise<boolean> {
    const row = await this.db.selectFrom('sign_in_reports').select('event_id').where('event_id', '=', eventId).executeTakeFirst();
    return row !== undefined;
  }

  reportSignIn(report: Parameters<Store['reportSignIn']>[0]): Promise<{ reported: boolean; revoked: RevokedSession[] }> {
    return this.db.transaction().execute(async (trx) => {
      const reported = await reportSignIn(trx, report.eventId, report.revocation.at);
      if (!reported) return { reported, revoked: [] };
      const ids = [report.sessionId, ...(report.sameDevice?.sessionIds ?? [])];
      const revoked = await revokeWhere(trx, this.sqlDialect, report.revocation, (eb) => eb.and([eb('id', 'in', ids), eb('user_id', '=', report.userId)]));
      if (report.sameDevice) await forgetDevice(trx, report.userId, report.sameDevice.deviceKey);
      await insertEvents(trx, report.events(revoked));
      return { reported, revoked };
    });
  }

  async listRevokedSince(since: number): Promise<RevokedSession[]> {
    const rows = await this.db.selectFrom('sessions').select(['id', 'revoked_at']).where('revoked_at', '>=', since).orderBy('revoked_at').execute();
    return rows.map((row) => ({ id: row.id, revokedAt: row.revoked_at as number }));
  }

  // Signing keys: the SQL lives in signing-keys.ts.
  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return selectSigningKeys(this.db);
  }
  addSigningKey(key: SigningKeyRecord): Promise<void> {
    return insertSigningKey(this.db, key);
  }
  addFirstSigningKey(key: SigningKeyRecord): Promise<boolean> {
    return insertSigningKeyIfNoneSince(this.db, this.sqlDialect, key, undefined);
  }
  addSigningKeyIfNoneSince(key: SigningKeyRecord, since: number): Promise<boolean> {
    return insertSigningKeyIfNoneSince(this.db, this.sqlDialect, key, since);
  }
  retireSigningKey(kid: string, at: number): Promise<boolean> {
    return retireSigningKey(this.db, this.sqlDialect, kid, at);
  }
  sealSigningKey(kid: string, plain: string, sealed: string): Promise<boolean> {
    return sealSigningKey(this.db, kid, plain, sealed);
  }

  refreshPlannerStatistics(): Promise<void> {
    return this.sqlDialect.refreshStatistics(this.db, false);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async rehashPassword(rehash: { userId: string; currentPasswordHash: string; passwordHash: string }): Promise<boolean> {
    // One conditional statement: a password change (which swaps on the same column) either
    // lands first and this updates nothing, or lands after and replaces the rehashed value.
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: rehash.passwordHash })
      .where('id', '=', rehash.userId)
      .where('password_hash', '=', rehash.currentPasswordHash)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  importUser: Store['importUser'] = (entry) => importUser(this.db, entry);
  updateImportedUser: Store['updateImportedUser'] = (update) => updateImportedUser(this.db, update);
  findImportedRows: Store['findImportedRows'] = (source, table, ids) => selectImportedRows(this.db, source, table, ids);
  findTakenEmailKeys: Store['findTakenEmailKeys'] = (keys) => selectTakenEmailKeys(this.db, keys);

  // Brute-force counters: the SQL lives in sign-in-failures.ts.
  signInLimits(emailKey: string, ip: string): Promise<SignInCounters> {
    return readSignInCounters(this.db, emailKey, ip);
  }

  claimSignInAttempt(emailKey: string, ip: string, policy: SignInLimitPolicy, now: number): Promise<SignInClaim> {
    return claimSignInAttempt(this.db, this.sqlite, emailKey, ip, policy, now);
  }

  recordSignInSuccess(emailKey: string, ip: string, claim: { accountWindowStart: number; addressWindowStart: number }): Promise<void> {
    return releaseSuccessfulAttempt(this.db, { emailKey, ip, claim });
  }

  purgeSignInFailures(accountsBefore: number, addressesBefore: number, limit: number): Promise<number> {
    return deleteStaleSignInFailures(this.db, accountsBefore, addressesBefore, limit);
  }

  countAddressAttempt: Store['countAddressAttempt'] = (action, address, windowMs, now) => countAddressAttempt(this.db, action, address, windowMs, now);
  purgeAddressAttempts: Store['purgeAddressAttempts'] = (before, limit) => deleteStaleAddressAttempts(this.db, before, limit);
}
