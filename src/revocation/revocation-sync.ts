import { SECOND, type Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { SessionStore } from '../storage/ports/sessions.js';
import type { RevocationView } from './revocation-view.js';

/**
 * Re-reading the last moments on every catch-up covers revocations committed late (a slow
 * transaction stamped before it committed) and revoking nodes whose clocks run a little behind
 * ours; the view ignores what it already holds. Clocks must agree far better than this anyway
 * (access tokens allow GATEHOUSE_CLOCK_TOLERANCE, 5 s).
 */
export const CATCH_UP_OVERLAP_MS = 15 * SECOND;

export interface RevocationSyncOptions {
  /** How often the catch-up query runs. */
  intervalMs: number;
  /** How old the last confirmation may be before the view is no longer trusted. */
  maxStalenessMs: number;
}

/**
 * Keeps this node's revocation view in step with revocations other nodes commit: a catch-up
 * query ("revoked since the cursor") on a short interval, on SQLite and PostgreSQL alike. Each
 * successful query confirms the view as of the moment it started. When the last confirmation is
 * older than the staleness bound, the view is not trusted: `checkSession` asks the database
 * instead, and if the database cannot answer the request fails with 503 — a possibly revoked
 * session is never accepted.
 */
export class RevocationSync {
  private cursor: number;
  /** Wall-clock time of the last confirmation: the feed's cursor. */
  private confirmedAt: number;
  /** The same moment on the monotonic clock: what staleness is measured from. */
  private confirmedMonotonic: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** A catch-up was asked for while one was running: run again after it. */
  private again = false;

  constructor(
    private readonly store: Pick<SessionStore, 'listRevokedSince' | 'findSession'>,
    private readonly view: RevocationView,
    private readonly clock: Clock,
    private readonly options: RevocationSyncOptions,
    /** When the view was last built from the database (at start), on both clocks. */
    loaded: { at: number; monotonic: number },
  ) {
    this.cursor = loaded.at;
    this.confirmedAt = loaded.at;
    this.confirmedMonotonic = loaded.monotonic;
  }

  start(onError: (error: unknown) => void): void {
    this.timer = setInterval(() => {
      this.catchUp().catch(onError);
    }, this.options.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Reads revocations committed since the cursor into the view, one query at a time. A call
   * made while a query runs gets a second query after it: the running one may have started
   * before the commit that prompted the call.
   */
  catchUp(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.readSinceCursor();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Whether the view was confirmed against the database recently enough to be trusted. */
  isFresh(): boolean {
    return this.staleness() <= this.options.maxStalenessMs;
  }

  /**
   * When the last confirmation started: every revocation committed before it is in the view
   * (the revocation feed uses it as the cursor of what it has streamed).
   */
  lastConfirmedAt(): number {
    return this.confirmedAt;
  }

  /** How long ago the view was last confirmed, in ms (for /readyz). */
  staleness(): number {
    return Math.max(0, Math.round(this.clock.monotonic() - this.confirmedMonotonic));
  }

  /**
   * The slow path for a stale view: whether the session is revoked, asked of the database.
   * Throws `unavailable` when the database cannot say.
   */
  async isRevokedInDatabase(sessionId: string): Promise<boolean> {
    let revokedAt: number | null | undefined;
    try {
      revokedAt = (await this.store.findSession(sessionId))?.revokedAt;
    } catch {
      throw new GatehouseError('unavailable', 'Sign-outs cannot be confirmed right now; try again shortly.');
    }
    if (revokedAt === undefined) return true; // purged long ago, so ended long ago
    if (revokedAt !== null) this.view.revoked([{ id: sessionId, revokedAt }]);
    return revokedAt !== null;
  }

  private async readSinceCursor(): Promise<void> {
    const startedAt = this.clock.now();
    const startedMonotonic = this.clock.monotonic();
    const revoked = await this.store.listRevokedSince(this.cursor - CATCH_UP_OVERLAP_MS);
    this.view.revoked(revoked);
    this.cursor = startedAt;
    this.confirmedAt = startedAt;
    this.confirmedMonotonic = startedMonotonic;
  }
}
