import { setTimeout as sleep } from 'node:timers/promises';
import { readHeartbeatMessage, readRevocationsMessage } from './feed-messages.js';
import { RevokedSessions } from './revoked-sessions.js';
import { SseParser, type ServerSentEvent } from './sse-parser.js';

export interface RevocationFeedOptions {
  url: string;
  serviceKey: string;
  maxStalenessMs: number;
  fetch: typeof fetch;
  /** Aborted when the verifier closes: ends the stream and any wait between attempts. */
  signal: AbortSignal;
  /** The wall clock (sign-outs older than the retention are forgotten by it) and a monotonic one (staleness). */
  clock: { now(): number; monotonic(): number };
}

/** What Gatehouse says about its tokens, with every message: the verifier checks tokens by it. */
export interface TokenSettings {
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
}

export interface FeedStatus {
  /** The view was confirmed within the staleness bound: requests are being answered. */
  fresh: boolean;
  /** How long ago Gatehouse last confirmed the view; null before the first snapshot. */
  stalenessMs: number | null;
  revokedSessions: number;
  /** A stream is open and its snapshot has arrived. */
  connected: boolean;
  /** Why the last connection ended or failed, if one has (never holds the service key). */
  lastError?: string;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
/** A stream that stays silent this long (Gatehouse sends a heartbeat each second) is presumed dead. */
const MIN_SILENCE_MS = 3000;

/**
 * The resource server's end of Gatehouse's revocation feed: one long-lived SSE stream that
 * delivers a snapshot of recent sign-outs, then each new one, then heartbeats. Every message says
 * how long ago Gatehouse confirmed its own view (`staleness_ms`), so this view counts as
 * confirmed at (arrival − staleness_ms), measured on this machine's monotonic clock: the two
 * machines' clocks never need to agree for the staleness bound to hold.
 *
 * The stream reconnects by itself (250 ms doubling to 5 s), resumes with Last-Event-ID, and
 * keeps the view across reconnects.
 */
export class RevocationFeed {
  private readonly revoked = new RevokedSessions();
  /** The monotonic clock's reading at which Gatehouse last confirmed what this view holds. */
  private confirmedAt = -Infinity;
  private settings: TokenSettings | undefined;
  private retentionMs = 0;
  private cursor: string | undefined;
  private connected = false;
  private lastError: string | undefined;
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly running: Promise<void>;

  constructor(private readonly options: RevocationFeedOptions) {
    this.running = this.run();
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Whether the view may be trusted to hold every sign-out: confirmed within the bound, and not closed. */
  isFresh(): boolean {
    return !this.options.signal.aborted && this.options.clock.monotonic() - this.confirmedAt <= this.options.maxStalenessMs;
  }

  /** Gatehouse's token settings from the latest message; undefined before the first snapshot. */
  tokenSettings(): TokenSettings | undefined {
    return this.settings;
  }

  status(): FeedStatus {
    const staleness = this.options.clock.monotonic() - this.confirmedAt;
    return {
      fresh: this.isFresh(),
      stalenessMs: Number.isFinite(staleness) ? Math.round(staleness) : null,
      revokedSessions: this.revoked.size,
      connected: this.connected,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Resolves once a snapshot has arrived; rejects when Gatehouse refuses the service key, or on close. */
  ready(): Promise<void> {
    if (this.settings) return Promise.resolve();
    if (this.options.signal.aborted) return Promise.reject(new Error('@gatehouse/verify: the verifier is closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Resolves when the stream has ended and no timer is left (the signal must be aborted first). */
  closed(): Promise<void> {
    this.settle(new Error('@gatehouse/verify: the verifier is closed'));
    return this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.options.signal.aborted) {
      try {
        await this.stream();
      } catch (error) {
        if (!this.options.signal.aborted) this.lastError = error instanceof Error ? error.message : String(error);
      }
      // A stream that got as far as its snapshot was a success, however it ended.
      failures = this.connected ? 0 : failures + 1;
      this.connected = false;
      // Jitter spreads the reconnections of many resource servers after a Gatehouse restart.
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1)) * (0.8 + 0.2 * Math.random());
      await sleep(delay, undefined, { signal: this.options.signal }).catch(() => {});
    }
  }

  /** One connection, until it ends. */
  private async stream(): Promise<void> {
    const connection = new AbortController();
    const silence = Math.max(MIN_SILENCE_MS, this.options.maxStalenessMs);
    const watchdog = setTimeout(() => connection.abort(new Error(`the feed sent nothing for ${silence} ms`)), silence);
    const onClose = () => connection.abort(this.options.signal.reason);
    this.options.signal.addEventListener('abort', onClose, { once: true });
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    // Node 20's fetch can stop heeding its signal once the response has arrived and its request
    // object has been garbage-collected (seen with redirect: 'error'; nodejs/node#55428): the
    // body is cancelled here too, or neither close() nor the silence watchdog could end a stream.
    const cancel = () => void reader?.cancel().catch(() => {});
    connection.signal.addEventListener('abort', cancel, { once: true });
    try {
      const response = await this.options.fetch(this.options.url, {
        headers: {
          accept: 'text/event-stream',
          authorization: `Bearer ${this.options.serviceKey}`,
          ...(this.cursor === undefined ? {} : { 'last-event-id': this.cursor }),
        },
        // The service key reads every sign-out: a redirect must not carry it anywhere else.
        redirect: 'error',
        signal: connection.signal,
      });
      if (response.status !== 200 || !/^text\/event-stream\b/i.test(response.headers.get('content-type') ?? '')) {
        return await this.refused(response);
      }
      if (!response.body) throw new Error('the feed answered without a body');
      reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      let synced = false;
      for (;;) {
        const { done, value } = await reader.read();
        if (connection.signal.aborted) throw connection.signal.reason;
        if (done) throw new Error('the feed closed the stream');
        watchdog.refresh();
        const receivedAt = this.options.clock.monotonic();
        // Retry timing is ours to choose (parser.retry is ignored): freshness depends on it.
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          synced = this.handle(event, receivedAt, synced) || synced;
        }
      }
    } finally {
      clearTimeout(watchdog);
      this.options.signal.removeEventListener('abort', onClose);
      connection.abort(); // releases the response body when a bad message ended the loop early
    }
  }

  /** Applies one event; returns whether it was a snapshot or a batch of sign-outs. */
  private handle(event: ServerSentEvent, receivedAt: number, synced: boolean): boolean {
    if (event.event === 'revocations') {
      const message = readRevocationsMessage(event.data);
      this.revoked.add(message.revocations);
      this.settings = { accessTokenTtlSeconds: message.accessTokenTtlSeconds, clockToleranceSeconds: message.clockToleranceSeconds };
      this.retentionMs = message.retentionSeconds * 1000;
      this.confirm(message.cursor, receivedAt - message.stalenessMs);
      this.connected = true;
      this.settle();
      return true;
    }
    if (event.event === 'heartbeat') {
      const message = readHeartbeatMessage(event.data);
      // Only a stream that has delivered its snapshot can confirm what this view holds.
      if (synced) this.confirm(message.cursor, receivedAt - message.stalenessMs);
    }
    return false;
  }

  private confirm(cursor: string, confirmedAt: number): void {
    this.cursor = cursor;
    this.confirmedAt = Math.max(this.confirmedAt, confirmedAt);
    this.revoked.prune(this.options.clock.now(), this.retentionMs);
  }

  private async refused(response: Response): Promise<never> {
    const body = (await response.json().catch(() => undefined)) as { code?: unknown } | undefined;
    const code = typeof body?.code === 'string' ? ` ${body.code}` : '';
    // A cursor Gatehouse no longer understands: start over from a full snapshot (the view is kept).
    if (response.status === 400) this.cursor = undefined;
    if (response.status === 200) throw new Error('the feed did not answer with text/event-stream');
    const error = new Error(
      response.status === 401 || response.status === 403
        ? `the feed refused the service key (${response.status}${code})`
        : `the feed answered ${response.status}${code}`,
    );
    if (response.status === 401 || response.status === 403) this.settle(error);
    throw error;
  }

  /** Resolves (no error) or rejects everyone waiting in ready(). */
  private settle(error?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }
}
