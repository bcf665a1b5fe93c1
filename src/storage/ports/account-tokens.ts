import type { AccountTokenPurpose } from '../../core/account-tokens.js';
import type { ActivityEvent, EventsFor } from '../../core/activity.js';
import type { NewMail } from '../../core/mail.js';
import type { Revocation, RevokedSession, UserRecord } from '../../core/records.js';

/** What an emailed link may do (core/account-tokens.ts), as `account_tokens` keeps it. */
export interface AccountTokenRecord {
  id: string;
  userId: string;
  purpose: AccountTokenPurpose;
  /** The address the link was sent to, which it proves. */
  email: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** When a newer link, a sign-in or a password change voided it. */
  voidedAt: number | null;
}

export type NewAccountToken = Omit<AccountTokenRecord, 'usedAt' | 'voidedAt'>;

export interface PasswordReset {
  tokenId: string;
  at: number;
  passwordHash: string;
  revocation: Revocation;
  /** Written in the transaction, told the account and the sessions the reset ended. */
  events: EventsFor<{ user: UserRecord; revoked: RevokedSession[] }>;
  /** Queued in the transaction, told the same: the "your password was changed" mail. */
  mail: (outcome: { user: UserRecord; revoked: RevokedSession[] }) => NewMail[];
}

/** A link's use: which, when, and the events to write with it, told the account after the change. */
export interface LinkUse {
  tokenId: string;
  at: number;
  events: EventsFor<UserRecord>;
}

/** The new address of a change, with its email key (core/email.ts); its events are told the account before and after. */
export interface EmailChange {
  tokenId: string;
  at: number;
  emailKey: string;
  events: EventsFor<{ user: UserRecord; previous: UserRecord }>;
}

/** The old address's cancel link: the address to keep (or restore) and the key it has. */
export interface EmailChangeCancel {
  tokenId: string;
  at: number;
  emailKey: string;
  revocation: Revocation;
  events: EventsFor<{ user: UserRecord; reverted: boolean; revoked: RevokedSession[] }>;
}

/**
 * The links Gatehouse emails, and what using them does.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface AccountTokenStore {
  /**
   * Stores a new link with its mail and events, in one transaction that also voids the user's
   * earlier open links of the same purpose: only the newest link works.
   */
  issueAccountToken(token: NewAccountToken, effects: { mail: NewMail[]; events: ActivityEvent[] }): Promise<void>;
  /** Several links at once (an email change's confirmation and its cancel link), each voiding its purpose's older ones. */
  issueAccountTokens(tokens: NewAccountToken[], effects: { mail: NewMail[]; events: ActivityEvent[] }): Promise<void>;
  /**
   * What a reset request that mails nothing writes (an outbox row the deliverer drops, and its
   * events), with the statements of `issueAccountToken` as far as they can be run without a link:
   * its transaction, and a voiding that touches no row. The request must take as long as one
   * that mails a link, or the time of the answer would tell accounts from other addresses.
   */
  recordWithheldMail(effects: { mail: NewMail[]; events: ActivityEvent[] }): Promise<void>;
  findAccountToken(id: string): Promise<AccountTokenRecord | undefined>;
  /**
   * Uses a password-reset link: in one transaction, spends it (a compare-and-swap: of racing
   * uses, exactly one wins), sets the new hash, marks the address proved, ends every session
   * of the account, voids its other open links and lifts a sign-in lock (guesses at the old
   * password count for nothing now), with `events` and `mail`. Throws
   * `link_used`, `link_expired` (expired, voided, the account disabled or its address changed
   * since) or `link_invalid` (no such link), changing nothing.
   */
  resetPassword(reset: PasswordReset): Promise<{ user: UserRecord; revoked: RevokedSession[] }>;
  /**
   * Uses a verification link: spends it and marks the account's address proved, if the link
   * went to the address the account still has. Throws as `resetPassword` does.
   */
  verifyEmail(use: LinkUse): Promise<UserRecord>;
  /**
   * Uses a new address's confirmation link: spends it and makes that address the account's,
   * proved, voiding the account's other open links (they went to the old address). Throws
   * `email_taken` (changing nothing) when another account has the address by now, else as
   * `resetPassword` does.
   */
  changeEmail(use: EmailChange): Promise<{ user: UserRecord; previous: UserRecord }>;
  /**
   * Uses the old address's cancel link: spends it, voids every open link of the account, puts
   * the address back if the change landed (unless another account has taken it since), and ends
   * every session of the account. Throws as `resetPassword` does.
   */
  cancelEmailChange(cancel: EmailChangeCancel): Promise<{ user: UserRecord; reverted: boolean; revoked: RevokedSession[] }>;
  /** Deletes up to `limit` links that expired before `before`. */
  purgeAccountTokens(before: number, limit: number): Promise<number>;
}
