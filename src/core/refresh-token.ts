import { createHash, timingSafeEqual } from 'node:crypto';
import { newSecret } from './random.js';

/**
 * Refresh tokens are `<session id>.<secret>`: the id finds the row without a scan, the secret
 * proves possession. Only SHA-256(secret) is stored, so a leaked database cannot be replayed;
 * a fast hash is enough because the secret has 256 bits of entropy (nothing to brute-force).
 */
export interface IssuedRefreshToken {
  token: string;
  hash: string;
}

const ID_PART = /^[A-Za-z0-9_-]{22}$/;
const SECRET_PART = /^[A-Za-z0-9_-]{43}$/;

export function issueRefreshToken(sessionId: string): IssuedRefreshToken {
  const secret = newSecret();
  return { token: `${sessionId}.${secret}`, hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Splits a presented token; undefined for anything not shaped like one we issued. */
export function parseRefreshToken(token: string): { sessionId: string; secret: string } | undefined {
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const sessionId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!ID_PART.test(sessionId) || !SECRET_PART.test(secret)) return undefined;
  return { sessionId, secret };
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
