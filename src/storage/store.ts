import type { ActivityEvent, EventsFor, EventType, StoredEvent, WebhookType } from '../core/activity.js';
import type { SignInClaim, SignInCounters, SignInLimitPolicy } from '../core/sign-in-limits.js';
import type { AddressAction, AddressWindow } from '../core/address-limits.js';
import type {
  Revocation,
  Role,
  RevokedSession,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from '../core/records.js';

export type NewUser = Omit<UserRecord, 'updatedAt' | 'passwordChangedAt' | 'disabledAt'>;
export type NewSession = Omit<SessionRecord, 'revokedAt' | 'revokedReason' | 'revokedBy'>;

export interface SessionStartOptions {
  replaceSameDevice: boolean;
  maxSessions: number;
  passwordHash: string;
  /** The sign-in's core `deviceKey`: remembered for the account, and `newDevice` says if it was new. */
  device?: string;
  /**
   * The sign-in's claimed attempt (`claimSignInAttempt`), released as `recordSignInSuccess`
   * would, in the same transaction: the counters say "succeeded" exactly when the session exists.
   */
  signInSuccess?: SignInSuccess;
}

/** A claimed attempt that succeeded: its email key, address key, and the windows it was counted in. */
export interface SignInSuccess {
  emailKey: string;
  ip: string;
  claim: { accountWindowStart: number; addressWindowStart: number };
}

export interface SessionStart {
  replaced: RevokedSession[];
  evicted: RevokedSession[];
  /** The account had not signed in from `device` before (false when no device was given). */
  newDevice: boolean;
}

/** Which page of a user's history: up to `limit` events older than `before` (newest first). */
export interface EventPage {
  types?: EventType[];
  before?: { at: number; id: string };
  limit: number;
}

/** A notification due for delivery, with what its payload is made of. */
export interface WebhookDelivery {
  type: WebhookType;
  event: StoredEvent;
  /** The account as it is at delivery (its email may have changed since the event); null if deleted. */
  user: { id: string; email: string; name: string | null } | null;
  /** Attempts made before this one. */
  attempts: number;
  /** Until when this claim holds it (the lease it was claimed under). */
  claimedUntil: number;
}

/** What an administrative change did: the user after it, and what was ended with it. */
export interface UserChange {
  user: UserRecord;
  /** The user as it was before. */
  previous: UserRecord;
  /** False when the user already was as asked (nothing but ended sessions changed). */
  changed: boolean;
  revoked: RevokedSession[];
}

/** A login of another system that becomes a session here (`gatehouse import`, src/import/). */
export interface ImportedSession {
  /** Its row's id in the source table. */
  sourceId: string;
  session: NewSession;
}

/** What `gatehouse import` brings of one user of another system, written as one. */
export interface ImportedUser {
  /** The source's name (imports of two sources never mix), and its tables' names there. */
  source: string;
  userTable: string;
  sessionTable: string;
  /** The user's row id in the source table. */
  sourceId: string;
  user: NewUser;
  sessions: ImportedSession[];
  /** Core `deviceKey`s the account used in the old system, with when it last did. */
  devices: Array<{ key: string; at: number }>;
  events: ActivityEvent[];
  at: number;
}

export type ImportedUserOutcome = 'imported' | 'email_taken' | 'already_imported';

/** A later import's news of a user an earlier one brought: logins since, a changed password. */
export interface ImportedUserUpdate {
  source: string;
  sessionTable: string;
  userId: string;
  sessions: ImportedSession[];
  devices: Array<{ key: string; at: number }>;
  /** Replace the hash `imported` with `current` (compare-and-swap): the source's changed since. */
  passwordHash?: { imported: string; current: string };
  at: number;
}

export interface RefreshRotation {
  sessionId: string;
  presentedHash: string;
  generation: number;
  nextHash: string;
  sealedSuccessor: string;
  at: number;
  idleExpiresAt: number;
}

/**
 * Everything Gatehouse keeps, in the words of the domain. One implementation (Kysely) serves
 * SQLite and PostgreSQL; test/storage/store.conformance.test.ts holds both to this contract.
 * Every method that changes more than one row does so in one transaction.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';

  /**
   * Inserts the user with its `events`, and remembers `device` (a core `deviceKey`) as one the
   * account has used; throws GatehouseError `email_taken` (storing nothing) when the email key exists.
   */
  createUser(user: NewUser, activity?: { events?: ActivityEvent[]; device?: string }): Promise<UserRecord>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  findUserByEmail(emailKey: string): Promise<UserRecord | undefined>;
  /**
   * Administration: users whose email key starts with `prefix` (every user for ''), in email
   * key order (code points, the same on both databases), up to `limit` after the key `after`.
   */
  findUsersByEmail(prefix: string, page: { after?: string; limit: number }): Promise<UserRecord[]>;
  /**
   * Administration: disables the account at `at`, ending every one of its sessions in the same
   * transaction (reason `account_disabled`, revoked `by`), or enables it again (its ended
   * sessions stay ended). An account already in that state keeps its own time (`changed:
   * false`), though disabling still ends any session it finds. `events`, told the outcome, are
   * written in the transaction. Undefined when there is no such user, changing nothing.
   */
  setUserDisabled(change: { userId: string; disabled: boolean; at: number; by: string; events: EventsFor<UserChange> }): Promise<UserChange | undefined>;
  /** Administration: gives the user `role`, with `events` told the outcome; undefined when there is no such user. */
  setUserRole(change: { userId: string; role: Role; at: number; events: EventsFor<UserChange> }): Promise<UserChange | undefined>;
  /**
   * Sets the new hash and revokes every not-yet-revoked session of the user but `keepSessionId`.
   * Throws `invalid_credentials` (changing nothing) when the stored hash is no longer
   * `currentPasswordHash` — another change won the race — and `session_revoked` when the kept
   * session has been revoked meanwhile.
   */
  changePassword(change: {
    userId: string;
    currentPasswordHash: string;
    passwordHash: string;
    keepSessionId: string;
    revocation: Revocation;
    /** Written in the same transaction, told which sessions the change ended. */
    events?: EventsFor<RevokedSession[]>;
  }): Promise<RevokedSession[]>;

  /**
   * Records a sign-in, in one transaction with what it ends: with `replaceSameDevice`, the
   * user's not-yet-revoked sessions from the same user agent and IP (reason `replaced`); with
   * `maxSessions` > 0, the least recently active sessions beyond that many (`session_limit`).
   * Sign-ins of one user take turns, so parallel sign-ins cannot overshoot the cap. Throws
   * `invalid_credentials` (storing nothing) when the user's password is no longer
   * `passwordHash`, the one the sign-in was verified against, or the account was disabled
   * meanwhile: a sign-in racing a password change must not outlive it. `events`, told the
   * outcome, are written in the same transaction, and so is `signInSuccess`. Of parallel
   * sign-ins from one new device, exactly one sees `newDevice`.
   */
  startSession(session: NewSession, options: SessionStartOptions, events?: EventsFor<SessionStart>): Promise<SessionStart>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /** The session and its user, in one read: what a refresh needs. */
  findSessionWithUser(id: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;
  /**
   * Spends the current refresh token and stores its successor, as one compare-and-swap
   * statement: it succeeds only while the session is active and `presentedHash` is still its
   * current hash at `generation`, so of racing requests exactly one wins. Also moves
   * `last_active_at` and the idle expiry. Returns the updated session, or undefined if it lost.
   */
  rotateRefresh(rotation: RefreshRotation): Promise<SessionRecord | undefined>;
  /**
   * Moves last activity (and the idle expiry) forward, in one batch, for sessions that are
   * still active at `now`, the time of writing: a late write never revives an expired session.
   */
  recordActivity(seen: Array<{ sessionId: string; at: number }>, idleTtlMs: number, now: number): Promise<void>;
  /** Deletes up to `limit` sessions that ended (revoked or expired) before `before`; returns how many. */
  purgeEndedSessions(before: number, limit: number): Promise<number>;
  /** The user's active sessions at `now`, most recently active first. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** How many sessions of all users are active at `now` (for the metrics: a count over the table). */
  countActiveSessions(now: number): Promise<number>;
  /** Moves the session's last password proof to `at`; false when it is not active. */
  markReauthenticated(sessionId: string, at: number, events?: ActivityEvent[]): Promise<boolean>;
  /**
   * Revokes one not-yet-revoked session of the user; undefined when there is none with that id.
   * `events` are written with the revocation, and only when there was one.
   */
  revokeSession(userId: string, sessionId: string, revocation: Revocation, events?: EventsFor<RevokedSession>): Promise<RevokedSession | undefined>;
  /** Revokes every not-yet-revoked session of the user, except `exceptSessionId` when given. */
  revokeUserSessions(
    userId: string,
    revocation: Revocation,
    exceptSessionId?: string,
    events?: EventsFor<RevokedSession[]>,
  ): Promise<RevokedSession[]>;
  /** Sessions revoked at or after `since`, oldest first: what the revocation view is built from. */
  listRevokedSince(since: number): Promise<RevokedSession[]>;

  /** Appends events that go with no other change (failed sign-ins, lockouts). */
  recordEvents(events: ActivityEvent[]): Promise<void>;
  /** A page of the user's history, newest first. */
  listUserEvents(userId: string, page: EventPage): Promise<StoredEvent[]>;
  findEvent(id: string): Promise<StoredEvent | undefined>;
  /**
   * Writes the history of up to `limit` sessions that ran out (idle or absolute expiry at or
   * before `now`) without being revoked and whose expiry is not yet recorded, each once, even
   * with several nodes doing this at once; returns how many.
   */
  recordSessionExpiries(now: number, limit: number, events: EventsFor<SessionRecord>): Promise<number>;
  /**
   * Deletes up to `limit` events older than `before`, and those without a user (failed sign-ins
   * with an unknown email) older than `userlessBefore`, with their outbox rows and reports.
   */
  purgeEvents(before: number, limit: number, userlessBefore?: number): Promise<number>;

  /**
   * Takes up to `limit` notifications due at `now`, oldest first, and holds them for `leaseMs`
   * so no other node sends them meanwhile; a node that dies lets them go when the lease ends.
   */
  claimWebhookDeliveries(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]>;
  /** The receiver acknowledged it: it is never sent again. */
  markWebhookDelivered(eventId: string, at: number): Promise<void>;
  /**
   * It failed: tried again at `nextAttemptAt`, or never again when that is null (given up).
   * With `claimedUntil`, only while that claim still holds it: a node that stalled past its
   * lease must not reschedule a delivery another node has claimed since.
   */
  markWebhookFailed(eventId: string, failure: { at: number; error: string; nextAttemptAt: number | null; claimedUntil?: number }): Promise<void>;
  /** Notifications not yet delivered nor given up, and when the oldest of them was created. */
  webhookBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }>;
  /** Deletes up to `limit` outbox rows delivered or given up before `before`. */
  purgeWebhookDeliveries(before: number, limit: number): Promise<number>;

  /**
   * "This wasn't me": marks the sign-in event reported (once: a second report of the same event
   * changes nothing and returns `reported: false`), revokes its session if it is still live,
   * and with `sameDevice`, also those sessions of the user (the intruder's later sign-ins from
   * the device) and forgets the device, so its next sign-in is flagged again; with `events`,
   * told what was revoked, all in one transaction.
   */
  reportSignIn(report: {
    eventId: string;
    userId: string;
    sessionId: string;
    sameDevice?: { sessionIds: string[]; deviceKey: string };
    revocation: Revocation;
    events: EventsFor<RevokedSession[]>;
  }): Promise<{ reported: boolean; revoked: RevokedSession[] }>;
  /** Whether the sign-in event was reported through its link already. */
  isSignInReported(eventId: string): Promise<boolean>;

  /** Every signing key, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Adds `key` only if there is no active key yet, atomically, so nodes racing on their first
   * start store one key between them; returns whether this one was stored.
   */
  addFirstSigningKey(key: SigningKeyRecord): Promise<boolean>;
  /**
   * Adds `key` only if no unretired key was created after `since`, atomically, so nodes racing
   * on a scheduled rotation store one key between them; returns whether this one was stored.
   */
  addSigningKeyIfNoneSince(key: SigningKeyRecord, since: number): Promise<boolean>;
  /**
   * Retires key `kid` at `at` (it leaves the JWKS), unless it is unknown, retired already, or
   * the last unretired key (nodes would have nothing to sign with); returns whether it did.
   */
  retireSigningKey(kid: string, at: number): Promise<boolean>;
  /**
   * Replaces key `kid`'s private JWK stored in plain text with its sealed form, only while it
   * is still `plain` (a compare-and-swap, so nodes sealing at once agree); returns whether it did.
   */
  sealSigningKey(kid: string, plain: string, sealed: string): Promise<boolean>;

  /** Round-trips to the database; throws when it cannot. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Replaces the user's password hash with a fresh hash of the same password (made with
   * today's parameters), only while the stored hash is still `currentPasswordHash`: a
   * compare-and-swap, so it never overwrites a password change that landed meanwhile. Changes
   * nothing else: not `password_changed_at`, not `updated_at`, no session; the password is the
   * same. Returns false when it lost the race (the caller just moves on).
   */
  rehashPassword(rehash: { userId: string; currentPasswordHash: string; passwordHash: string }): Promise<boolean>;

  /**
   * `gatehouse import`: the user with its sessions, devices, events and the rows that remember
   * their sources, in one transaction. `already_imported` when its source row was imported
   * before, `email_taken` when the email key has an account: then nothing is written, and no
   * account is ever overwritten.
   */
  importUser(entry: ImportedUser): Promise<ImportedUserOutcome>;
  /**
   * `gatehouse import` again: the sessions whose source rows are new (how many), the devices,
   * and the new hash if the user's is still `passwordHash.imported`, in one transaction;
   * undefined, writing nothing, when the user is no longer there.
   */
  updateImportedUser(update: ImportedUserUpdate): Promise<{ sessions: number; passwordReplaced: boolean } | undefined>;
  /** Which of these rows of the source's `sourceTable` were imported: source id → Gatehouse id. */
  findImportedRows(source: string, sourceTable: string, sourceIds: string[]): Promise<Map<string, string>>;
  /** Which of these email keys have an account. */
  findTakenEmailKeys(emailKeys: string[]): Promise<Set<string>>;

  /** The failure counters of an email key and of a client address key, in one read. */
  signInLimits(emailKey: string, ip: string): Promise<SignInCounters>;
  /**
   * Before a password is verified: if core's `signInVerdict` allows an attempt at `now`, counts
   * it as a failure of the email key and of the address key (`afterFailure`) and says where;
   * otherwise changes nothing and says for how long. Atomic per counter (a compare-and-swap on
   * the counters the verdict was made on), so of parallel attempts on several nodes each is
   * decided on a distinct count, and no more are allowed than the limits allow.
   */
  claimSignInAttempt(emailKey: string, ip: string, policy: SignInLimitPolicy, now: number): Promise<SignInClaim>;
  /**
   * A claimed attempt succeeded: the email key's consecutive failures start again from 0, and
   * the attempt is taken back off the email's hourly window and the address's window. (A
   * sign-in has this done by `startSession`, with its session.)
   */
  recordSignInSuccess(emailKey: string, ip: string, claim: { accountWindowStart: number; addressWindowStart: number }): Promise<void>;
  /**
   * Deletes up to `limit` counter rows that no longer limit anything: accounts without a
   * failure since `accountsBefore`, addresses whose window opened before `addressesBefore`.
   */
  purgeSignInFailures(accountsBefore: number, addressesBefore: number, limit: number): Promise<number>;

  /**
   * Counts one attempt of `action` from an address key at `now`, in the address's window of
   * `windowMs` (a new one when the last has ended), and returns that window with this attempt
   * in it. Atomic: of parallel attempts on any node, each gets a count of its own.
   */
  countAddressAttempt(action: AddressAction, address: string, windowMs: number, now: number): Promise<AddressWindow>;
  /** Deletes up to `limit` address counters whose window opened before `before`. */
  purgeAddressAttempts(before: number, limit: number): Promise<number>;
}
