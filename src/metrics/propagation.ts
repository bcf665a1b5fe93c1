import type { Clock } from '../core/clock.js';
import type { RevocationSink, RevocationView } from '../revocation/revocation-view.js';

/**
 * How long a revocation the view learnt from the database waits before it counts as another
 * node's. On PostgreSQL this node's own commit wakes its own catch-up (NOTIFY), which can read
 * the row and answer before the committing request gets its own answer and tells the view
 * itself; the gap is a few milliseconds, this is ample.
 */
export const OWN_COMMIT_GRACE_MS = 1000;

/**
 * Times the revocations the view receives from anywhere but this node's own commits: the
 * catch-up query (polled, or woken by a PostgreSQL notice), a sibling worker's relay, or the
 * database check of a stale view. Those are the ones whose delay is worth measuring; this
 * node's own reach its view before the revoking request answers.
 *
 * The use cases tell `sink` of their commits (it passes them on to `own`). The view calls its
 * listeners synchronously, so a flag set around our own commits tells them apart, and a
 * revocation that arrived from the database first is held for OWN_COMMIT_GRACE_MS in case it
 * was ours after all. `record` gets each delay, in ms, as measured when the view learnt it.
 */
export class PropagationTimer {
  readonly sink: RevocationSink;
  /** Learnt from elsewhere, not yet recorded: session id → when learnt (monotonic) and the delay. */
  private readonly pending = new Map<string, { learntAt: number; delayMs: number }>();
  private readonly unsubscribe: () => void;

  constructor(
    view: RevocationView,
    own: RevocationSink,
    private readonly clock: Clock,
    private readonly record: (delayMs: number) => void,
  ) {
    let committing = false;
    this.unsubscribe = view.subscribe((added) => {
      if (committing) return;
      const now = clock.now();
      const learntAt = clock.monotonic();
      // Another node's clock stamped revokedAt: a little skew can put it ahead of ours.
      for (const session of added) this.pending.set(session.id, { learntAt, delayMs: Math.max(0, now - session.revokedAt) });
      this.flush();
    });
    this.sink = {
      revoked: (sessions) => {
        for (const session of sessions) this.pending.delete(session.id);
        committing = true;
        try {
          own.revoked(sessions);
        } finally {
          committing = false;
        }
      },
    };
  }

  /** Records the revocations held past the grace period. */
  flush(): void {
    const due = this.clock.monotonic() - OWN_COMMIT_GRACE_MS;
    for (const [id, { learntAt, delayMs }] of this.pending) {
      if (learntAt > due) continue;
      this.pending.delete(id);
      this.record(delayMs);
    }
  }

  stop(): void {
    this.unsubscribe();
  }
}
