import pg from 'pg';
import { REVOCATION_CHANNEL } from '../storage/kysely/dialect.js';

const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * Wakes this node's catch-up the moment another node commits a revocation on PostgreSQL, so a
 * sign-out reaches every node in milliseconds instead of at the next one-second poll. The
 * notice carries nothing but "look now": the catch-up query stays the one source of truth, so
 * a bulk revocation is one notice, and a notice lost while disconnected costs only latency —
 * the listener catches up on every reconnect, and the poll and staleness bound stay in force.
 */
export class PostgresListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = MIN_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Which connection attempt is current: events from older clients are ignored. */
  private attempt = 0;

  constructor(
    private readonly url: string,
    private readonly onNotice: () => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Connects and listens; resolves once listening or once the first attempt failed (it keeps retrying). */
  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.attempt++;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 });
    this.client = client;
    client.on('notification', () => this.onNotice());
    client.on('error', (error) => this.lost(attempt, error));
    client.on('end', () => this.lost(attempt));
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    } catch (error) {
      this.lost(attempt, error);
      return;
    }
    if (attempt !== this.attempt) return;
    this.retryMs = MIN_RETRY_MS;
    // Whatever was committed while this node was not listening.
    this.onNotice();
  }

  /** The connection of `attempt` is gone: drop it and try again after a growing pause. */
  private lost(attempt: number, error?: unknown): void {
    if (this.stopped || attempt !== this.attempt) return;
    this.attempt++;
    if (error) this.onError(error);
    this.client?.end().catch(() => {});
    this.client = undefined;
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs).unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}
