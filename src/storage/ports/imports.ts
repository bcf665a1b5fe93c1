import type { ActivityEvent } from '../../core/activity.js';
import type { NewSession } from './sessions.js';
import type { NewUser } from './users.js';

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

/**
 * `gatehouse import`: users and sessions of another system, and the rows that remember where they came from.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface ImportStore {
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
}
