import type { Clock } from '../core/clock.js';
import type { RevokedSession } from '../core/records.js';

/** What the rest of Gatehouse tells the view after a revocation has been committed. */
export interface RevocationSink {
  revoked(sessions: RevokedSession[]): void;
}

/**
 * This node's in-memory knowledge of revoked sessions: the per-request check is one Map lookup,
 * never a database query. It only needs sessions revoked within the last access-token lifetime
 * (plus clock tolerance and a margin): any older revocation's tokens have all expired, and a
 * session cannot come back to life. Built from the database at start, then fed every
 * revocation this node commits, at once, before the revoking request answers.
 */
export class RevocationView implements RevocationSink {
  private readonly revokedAt = new Map<string, number>();
  private readonly listeners = new Set<(added: RevokedSession[]) => void>();

  constructor(
    private readonly clock: Clock,
    /** How long an entry must be kept: token lifetime + clock tolerance + margin, in ms. */
    readonly retentionMs: number,
  ) {}

  /** The earliest revocation time this view needs, for loading it from the database. */
  horizon(): number {
    return this.clock.now() - this.retentionMs;
  }

  isRevoked(sessionId: string): boolean {
    return this.revokedAt.has(sessionId);
  }

  revoked(sessions: RevokedSession[]): void {
    const added: RevokedSession[] = [];
    for (const session of sessions) {
      if (this.revokedAt.has(session.id)) continue;
      this.revokedAt.set(session.id, session.revokedAt);
      added.push(session);
    }
    if (added.length === 0) return;
    for (const listener of this.listeners) {
      // A listener (a feed stream) failing must not fail the revocation or the catch-up that
      // told us: both are committed facts by now.
      try {
        listener(added);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }

  /**
   * Calls `listener` with each batch of revocations new to this view, whether this node
   * committed them or learnt them from the database (the revocation feed streams these).
   * Returns the function that stops it.
   */
  subscribe(listener: (added: RevokedSession[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets revocations whose tokens have all expired; returns how many were dropped. */
  prune(): number {
    const horizon = this.horizon();
    let dropped = 0;
    for (const [id, at] of this.revokedAt) {
      if (at < horizon) {
        this.revokedAt.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.revokedAt.size;
  }
}
