import type { PasswordHasher } from '../../src/core/password-hasher.js';

/**
 * A hasher with no cost, for tests that sign in hundreds of times and are about something
 * other than hashing (argon2 takes ~50 ms a verification). Never for production: it stores the
 * password in a reversible form.
 */
export function instantHasher(): PasswordHasher {
  return {
    hash: async (password) => `test-only:${Buffer.from(password).toString('base64')}`,
    verify: async (stored, password) => stored === `test-only:${Buffer.from(password).toString('base64')}`,
    verifyNothing: async () => false,
    needsRehash: () => false,
  };
}
