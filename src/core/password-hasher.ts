/** Password hashing, passed into the core so its rules stay free of native modules. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * Does the same work as a verification against a real hash and returns false: an unknown
   * email must cost what a wrong password costs, or response times would reveal who has an account.
   */
  verifyNothing(password: string): Promise<false>;
}
