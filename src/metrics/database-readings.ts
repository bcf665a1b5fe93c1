import type { Clock } from '../core/clock.js';
import type { MailOutboxStore } from '../storage/ports/mail-outbox.js';
import type { OutboxStore } from '../storage/ports/outbox.js';
import type { SessionStore } from '../storage/ports/sessions.js';

export interface Readings {
  activeSessions: number;
  webhookPending: number;
  /** When the oldest undelivered notification was written; null when none waits. */
  webhookOldestCreatedAt: number | null;
  mailPending: number;
  mailOldestCreatedAt: number | null;
}

export interface DatabaseReadingsOptions {
  /** The database is asked again only once the last question is this old. */
  maxAgeMs: number;
  /** A scrape waits this long for an answer, then reports what it had. */
  timeoutMs: number;
}

/**
 * The figures only the database knows (active sessions, the webhook and mail outboxes), read at most once
 * per `maxAgeMs` however many scrapers ask: /metrics may be open to anyone who can reach it,
 * and database reads on every request would let them load the database. The
 * first scrape after the interval asks (one query at a time, others wait for it); a node nobody
 * scrapes never asks at all.
 */
export class DatabaseReadings {
  private last: Readings | undefined;
  /** Monotonic time of the last question, answered or not: a failing database is not asked per scrape either. */
  private askedAt = -Infinity;
  private asking: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<SessionStore, 'countOpenSessions'> & Pick<OutboxStore, 'webhookBacklog'> & Pick<MailOutboxStore, 'mailBacklog'>,
    private readonly clock: Clock,
    private readonly options: DatabaseReadingsOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The latest readings, asked anew if they are due; undefined until the database first answered. */
  async current(): Promise<Readings | undefined> {
    if (!this.asking && this.clock.monotonic() - this.askedAt >= this.options.maxAgeMs) {
      this.askedAt = this.clock.monotonic();
      this.asking = this.ask().finally(() => {
        this.asking = undefined;
      });
    }
    if (this.asking) await within(this.asking, this.options.timeoutMs);
    return this.last;
  }

  private async ask(): Promise<void> {
    try {
      const [activeSessions, backlog, mail] = await Promise.all([this.store.countOpenSessions(), this.store.webhookBacklog(), this.store.mailBacklog()]);
      this.last = {
        activeSessions,
        webhookPending: backlog.pending,
        webhookOldestCreatedAt: backlog.oldestCreatedAt,
        mailPending: mail.pending,
        mailOldestCreatedAt: mail.oldestCreatedAt,
      };
    } catch (error) {
      // The last readings stay: a scrape during an outage still answers, and /readyz says why.
      this.onError(error);
    }
  }
}

/** Resolves when `work` settles or after `ms`, whichever comes first; never rejects. */
function within(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms).unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
