import type { SignInClaim, SignInCounters, SignInLimitPolicy } from '../../core/sign-in-limits.js';

/**
 * Brute-force limits on sign-in: each email's and each address's failures.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface SignInCounterStore {
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
}
