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
    for (const { id, revokedAt } of sessions) this.revokedAt.set(id, revokedAt);
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
