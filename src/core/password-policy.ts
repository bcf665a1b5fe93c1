import { GatehouseError } from './errors.js';

/** The longest password accepted (design: 128); long enough for any passphrase or manager. */
export const MAX_PASSWORD_LENGTH = 128;

/**
 * Passwords are NFKC-normalised before hashing and counting (NIST SP 800-63B 5.1.1.2), so the
 * same passphrase typed on two keyboards that compose characters differently still matches.
 * Length counts Unicode code points, not UTF-16 units or bytes; nothing is ever truncated.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export function passwordLength(password: string): number {
  let count = 0;
  for (const _ of password) count++;
  return count;
}

/** Checks a new password against the policy and returns it normalised, ready to hash. */
export function acceptNewPassword(password: string, minLength: number, pointer = '/password'): string {
  const normalized = normalizePassword(password);
  const length = passwordLength(normalized);
  if (length > MAX_PASSWORD_LENGTH) {
    throw new GatehouseError('validation_failed', `The password is longer than ${MAX_PASSWORD_LENGTH} characters.`, [
      { pointer, detail: `must be at most ${MAX_PASSWORD_LENGTH} characters` },
    ]);
  }
  if (length < minLength) {
    throw new GatehouseError('weak_password', `The password must be at least ${minLength} characters long.`, [
      { pointer, detail: `must be at least ${minLength} characters` },
    ]);
  }
  return normalized;
}
