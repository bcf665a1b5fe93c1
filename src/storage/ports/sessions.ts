import type { ActivityEvent, EventsFor } from '../../core/activity.js';
import type { Revocation, RevokedSession, SessionRecord, UserRecord } from '../../core/records.js';

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
 * The sessions: each sign-in, its refresh token, its activity, and how it ended.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface SessionStore {
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
  /** Moves the session's last password proof to `at`; false when it is not active. */
  markReauthenticated(sessionId: string, at: number, events?: ActivityEvent[]): Promise<boolean>;
  /**
   * Revokes one not-yet-revoked session of the user; undefined when there is none with that id.
   * `events` are written with the revocation, and only when there was one.
   */
  revokeSession(userId: string, sessionId: string, revocation: Revocation, events?: EventsFor<RevokedSession>): Promise<RevokedSession | undefined>;
  /** Revokes every not-yet-revoked session of the user, except `exceptSessionId` when given. */
  revokeUserSessions(userId: string, revocation: Revocation, exceptSessionId?: string, events?: EventsFor<RevokedSession[]>): Promise<RevokedSession[]>;
  /** Sessions revoked at or after `since`, oldest first: what the revocation view is built from. */
  listRevokedSince(since: number): Promise<RevokedSession[]>;
  /** The user's active sessions at `now`, most recently active first. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /**
   * How many sessions of all users are open: neither revoked nor recorded as expired (the
   * expiry sweep records an expiry within a minute). Kept as it changes, not counted.
   */
  countOpenSessions(): Promise<number>;
  /** Compacts what the open count is kept in; the expiry sweep calls it after each run. */
  settleOpenSessionCount(): Promise<void>;
  /**
   * Corrects the open count from a count of the sessions themselves (every open one is read:
   * `gatehouse migrate` only); returns the correction, 0 when it was right.
   */
  recountOpenSessions(): Promise<number>;
  /**
   * Writes the history of up to `limit` sessions that ran out (idle or absolute expiry at or
   * before `now`) without being revoked and whose expiry is not yet recorded, each once, even
   * with several nodes doing this at once; returns how many.
   */
  recordSessionExpiries(now: number, limit: number, events: EventsFor<SessionRecord>): Promise<number>;
  /** Deletes up to `limit` sessions that ended (revoked or expired) before `before`; returns how many. */
  purgeEndedSessions(before: number, limit: number): Promise<number>;
}
