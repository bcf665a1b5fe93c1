/** One sign-out as the feed reports it, `revokedAt` in epoch ms of Gatehouse's clock. */
export interface Revocation {
  sessionId: string;
  revokedAt: number;
}

/**
 * The resource server's own view of revoked sessions: one Map lookup per request. Like
 * Gatehouse's view, it only needs sign-outs whose sessions may still hold an unexpired token;
 * the feed says how long that is (`retention_seconds`: token lifetime, clock tolerance and a
 * margin).
 *
 * Pruning compares Gatehouse's `revoked_at` with this machine's clock. A skew between the two
 * cancels out: token lifetimes (`exp`, `iat`) are Gatehouse times judged by this same clock,
 * so a token of a pruned session has already expired here too.
 */
export class RevokedSessions {
  private readonly revokedAt = new Map<string, number>();

  has(sessionId: string): boolean {
    return this.revokedAt.has(sessionId);
  }

  /** Adds sign-outs not yet known; the feed may send one again after a reconnect. */
  add(revocations: Iterable<Revocation>): void {
    for (const { sessionId, revokedAt } of revocations) {
      if (!this.revokedAt.has(sessionId)) this.revokedAt.set(sessionId, revokedAt);
    }
  }

  /** Forgets sign-outs older than `retentionMs` at `now`: every token of those sessions has expired. */
  prune(now: number, retentionMs: number): void {
    const horizon = now - retentionMs;
    for (const [sessionId, at] of this.revokedAt) if (at < horizon) this.revokedAt.delete(sessionId);
  }

  get size(): number {
    return this.revokedAt.size;
  }
}
