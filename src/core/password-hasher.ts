/**
 * What a password hash is for. Each kind has a share of the hasher of its own (argon2-pool.ts):
 * a flood of one waits and is refused in its own queue, and cannot keep the others waiting.
 * - `sign-in`: signing in, and the rehash of an outdated hash that a sign-in does;
 * - `account`: signed-in people's own password work (reauthentication, password change) and
 *   accounts an administrator creates;
 * - `registration`: anyone's new account, the work a stranger can ask for most cheaply.
 */
export type PasswordWork = 'sign-in' | 'account' | 'registration';

/** Password hashing, passed into the core so its rules stay free of native modules. */
export interface PasswordHasher {
  /** A new hash, for an account's new password. */
  hash(password: string, work: PasswordWork): Promise<string>;
  /**
   * `password` is NFKC-normalised, as Gatehouse hashes it. `typed`, the password as it was
   * typed, matters only for a hash imported from another system (bcrypt, src/import), which was
   * made from the password as its owner typed it then.
   */
  verify(hash: string, password: string, work: PasswordWork, typed?: string): Promise<boolean>;
  /**
   * Does the same work as a verification against a real hash and returns false: an unknown
   * email must cost what a wrong password costs, or response times would reveal who has an account.
   */
  verifyNothing(password: string, work: PasswordWork): Promise<false>;
  /**
   * True when the stored hash was made with another algorithm or other parameters than this
   * hasher's `hash` uses today, so a sign-in that just proved the password should store a
   * fresh hash of it. Reads the stored string only: it must cost next to nothing on every
   * sign-in.
   */
  needsRehash(hash: string): boolean;
  /**
   * True when a verification started now would be refused for overload: a sign-in then answers
   * 503 before its attempt is counted, so a flood cannot lock out an owner whose right password
   * was never checked. Optional: a hasher that never refuses has no need of it.
   */
  saturated?(work: PasswordWork): boolean;
}
