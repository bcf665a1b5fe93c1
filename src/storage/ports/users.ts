import type { ActivityEvent, EventsFor } from '../../core/activity.js';
import type { NewMail } from '../../core/mail.js';
import type { Revocation, RevokedSession, Role, UserRecord } from '../../core/records.js';
import type { NewAccountToken } from './account-tokens.js';

/** A new account; its address is unverified unless `emailVerifiedAt` says otherwise. */
export type NewUser = Omit<UserRecord, 'updatedAt' | 'passwordChangedAt' | 'disabledAt' | 'emailVerifiedAt'> & { emailVerifiedAt?: number | null };

/** What an administrative change did: the user after it, and what was ended with it. */
export interface UserChange {
  user: UserRecord;
  /** The user as it was before. */
  previous: UserRecord;
  /** False when the user already was as asked (nothing but ended sessions changed). */
  changed: boolean;
  revoked: RevokedSession[];
}

/**
 * The accounts: who they are, their password, their role and whether they may sign in.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface UserStore {
  /**
   * Inserts the user with its `events` and its address's verification `link` (its row and its
   * mail), and remembers `device` (a core `deviceKey`) as one the account has used; throws GatehouseError `email_taken` (storing nothing) when the email key exists.
   */
  createUser(user: NewUser, activity?: { events?: ActivityEvent[]; device?: string; link?: { token: NewAccountToken; mail: NewMail[] } }): Promise<UserRecord>;
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
   * Replaces the user's password hash with a fresh hash of the same password (made with
   * today's parameters), only while the stored hash is still `currentPasswordHash`: a
   * compare-and-swap, so it never overwrites a password change that landed meanwhile. Changes
   * nothing else: not `password_changed_at`, not `updated_at`, no session; the password is the
   * same. Returns false when it lost the race (the caller just moves on).
   */
  rehashPassword(rehash: { userId: string; currentPasswordHash: string; passwordHash: string }): Promise<boolean>;
}
