import type { AccessClaims } from './access-token.js';

/** Enough for every token in use on a busy node; ~1 KiB each, so about 10 MiB at most. */
export const DEFAULT_CACHE_CAPACITY = 10_000;

export interface VerifiedToken {
  claims: AccessClaims;
  /** The key that verified the signature: a hit only counts while that key is still trusted. */
  kid: string;
}

/**
 * Remembers access tokens whose signature was already checked, keyed by the whole token: a
 * hit means the very same bytes, signature included, so nothing can be forged through it.
 * Only the signature check is skipped: lifetime claims are checked on every hit (see
 * access-token.ts) and the revocation check runs on every request, after this.
 *
 * Bounded, first in first out: a flood of distinct valid tokens only makes it forget older
 * ones, and failed verifications are never stored, so forged tokens cannot fill it.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(readonly capacity = DEFAULT_CACHE_CAPACITY) {}

  get(token: string): VerifiedToken | undefined {
    return this.entries.get(token);
  }

  set(token: string, verified: VerifiedToken): void {
    if (this.capacity <= 0) return;
    if (this.entries.size >= this.capacity && !this.entries.has(token)) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(token, verified);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
