import { normalizePassword } from '../core/password-policy.js';
import type { ServiceContext } from './context.js';

/**
 * After a sign-in proved the password, stores a fresh hash of it when the stored one was made
 * with older parameters or another algorithm: hashes get stronger as people come back, with no
 * reset. Costs one hash, once per account; an up-to-date hash costs one string comparison.
 *
 * Never fails the sign-in. The store swaps only while `verifiedHash` is still the user's, so a
 * password change that landed meanwhile is kept and this does nothing; and a database error
 * leaves the old hash, which still works, for the next sign-in to try again.
 */
export async function rehashIfOutdated(ctx: ServiceContext, userId: string, verifiedHash: string, password: string): Promise<void> {
  if (!ctx.hasher.needsRehash(verifiedHash)) return;
  let outcome: 'stored' | 'lost_race' | 'failed';
  try {
    const passwordHash = await ctx.hasher.hash(normalizePassword(password), 'sign-in');
    outcome = (await ctx.store.rehashPassword({ userId, currentPasswordHash: verifiedHash, passwordHash })) ? 'stored' : 'lost_race';
  } catch {
    outcome = 'failed';
  }
  ctx.log({ event: 'password_rehashed', userId, outcome });
}
