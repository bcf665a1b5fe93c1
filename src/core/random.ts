import { randomBytes } from 'node:crypto';

/**
 * Public identifiers (users, sessions): 128 random bits, so they cannot be guessed or
 * enumerated, and carry no creation order that would leak sign-up or sign-in counts.
 */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** Secrets handed to clients: 256 random bits (design §5: at least 256). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
