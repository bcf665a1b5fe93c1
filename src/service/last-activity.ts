import { SECOND, type Clock } from '../core/clock.js';
import type { SessionPolicy } from '../core/session-policy.js';
import type { SessionStore } from '../storage/ports/sessions.js';

/** A session's last activity is written at most this often from authenticated requests. */
export const ACTIVITY_RESOLUTION_MS = 60 * SECOND;
/** Most sessions written in one batch; a larger backlog is written over several flushes. */
const BATCH_SIZE = 1000;

/**
 * Keeps `last_active_at` (and with it the idle expiry) moving on authenticated requests without
 * a write on the request path: `seen()` is a Map lookup; a timer writes what it collected, at
 * most once a minute per session, in one batch. Refreshes write their own activity, since they
 * write the session anyway.
 */
export class LastActivity {
  /** When each session's activity was last taken for writing. */
  private readonly taken = new Map<string, number>();
  private pending = new Map<string, number>();
  /** The flush in progress: flushes run one after another. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<SessionStore, 'recordActivity'>,
    private readonly clock: Clock,
    private readonly policy: Pick<SessionPolicy, 'idleTtlSeconds'>,
  ) {}

  /** Called for every authenticated request; never waits. */
  seen(sessionId: string): void {
    const now = this.clock.now();
    const last = this.taken.get(sessionId);
    if (last !== undefined && now - last < ACTIVITY_RESOLUTION_MS) return;
    this.taken.set(sessionId, now);
    this.pending.set(sessionId, now);
  }

  get backlog(): number {
    return this.pending.size;
  }

  /**
   * Writes the collected activity; a failed write is kept for the next flush. Waits for a flush
   * in progress first, so the one at shutdown cannot finish, and the database close, while the
   * timer's is still writing (or about to hand a failed batch back).
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.writeBatch());
    this.flushing = run.catch(() => {});
    return run;
  }

  private async writeBatch(): Promise<void> {
    this.forgetOld();
    if (this.pending.size === 0) return;
    const batch = [...this.pending].slice(0, BATCH_SIZE);
    for (const [sessionId] of batch) this.pending.delete(sessionId);
    try {
      await this.store.recordActivity(
        batch.map(([sessionId, at]) => ({ sessionId, at })),
        this.policy.idleTtlSeconds * SECOND,
        this.clock.now(),
      );
    } catch (error) {
      for (const [sessionId, at] of batch) if (!this.pending.has(sessionId)) this.pending.set(sessionId, at);
      throw error;
    }
  }

  /** Throttle entries older than the resolution no longer throttle anything. */
  private forgetOld(): void {
    const horizon = this.clock.now() - ACTIVITY_RESOLUTION_MS;
    for (const [sessionId, at] of this.taken) if (at <= horizon) this.taken.delete(sessionId);
  }
}
