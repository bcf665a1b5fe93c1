import type { Clock } from '../core/clock.js';
import type { RevocationReason } from '../core/records.js';
import type { RevocationSink, RevocationView } from '../revocation/revocation-view.js';
import type { SecurityEvent } from '../service/security-log.js';
import { DatabaseReadings, type Readings } from './database-readings.js';
import { registerProcessMetrics } from './process-metrics.js';
import { PropagationTimer } from './propagation.js';
import { Counter, Gauge, Histogram, Registry } from './registry.js';

/** Request latencies, in seconds: from a cached token check (sub-millisecond) to a slow argon2 sign-in. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Revocation propagation, in seconds: a PostgreSQL notice (milliseconds) to the 1 s poll and beyond. */
const PROPAGATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30];

/** Counts over whole tables: read at most this often, and a scrape waits at most this long for them. */
const DATABASE_READINGS = { maxAgeMs: 15_000, timeoutMs: 2_000 };

/** Listed so their series exist at 0 from the start; reasons added later appear when first counted. */
const REVOCATION_REASONS: readonly RevocationReason[] = [
  'logout',
  'remote_logout',
  'logout_others',
  'logout_all',
  'password_changed',
  'replaced',
  'refresh_token_reused',
  'session_limit',
  'reported',
  'admin',
  'account_disabled',
  'password_reset',
  'email_change_cancelled',
];

/** What became of mail: queued by a request, then sent, retried or given up by a deliverer. */
export const MAIL_OUTCOMES = ['queued', 'sent', 'retried', 'failed'] as const;
export type MailOutcome = (typeof MAIL_OUTCOMES)[number];

export const SIGN_IN_OUTCOMES = ['success', 'invalid_credentials', 'rate_limited', 'unavailable', 'forbidden', 'invalid_request', 'error'] as const;
export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];

export interface MetricsSources {
  clock: Clock;
  /** Asked at most every 15 s (database-readings.ts). */
  store: ConstructorParameters<typeof DatabaseReadings>[0];
  /** How long ago the revocation view was confirmed against the database, in ms. */
  viewStalenessMs: () => number;
  /** How many revoked sessions the view holds. */
  viewSize: () => number;
  onError: (error: unknown) => void;
}

/**
 * Every metric family of a Gatehouse node, and the few calls that move them. The request
 * counters are fed by one onResponse hook (request-metrics.ts); sign-outs by the security log;
 * gauges read their source when scraped.
 */
export class GatehouseMetrics {
  readonly registry = new Registry();
  private readonly requests = this.registry.register(
    new Counter('gatehouse_http_requests_total', 'HTTP requests answered, by route pattern, method and status.', ['route', 'method', 'status']),
  );
  private readonly durations = this.registry.register(
    new Histogram(
      'gatehouse_http_request_duration_seconds',
      'Time to answer an HTTP request, by route pattern and method, in seconds.',
      ['route', 'method'],
      LATENCY_BUCKETS,
    ),
  );
  private readonly signIns = this.registry.register(
    new Counter('gatehouse_sign_ins_total', 'Sign-in attempts (POST /v1/auth/login), by outcome.', ['outcome']),
  );
  private readonly revocations = this.registry.register(new Counter('gatehouse_revocations_total', 'Sessions revoked by this node, by reason.', ['reason']));
  private readonly propagation = this.registry.register(
    new Histogram(
      'gatehouse_revocation_propagation_seconds',
      "How long after a revocation committed elsewhere (another node or worker) this node's view learnt it, in seconds.",
      [],
      PROPAGATION_BUCKETS,
    ),
  );
  private readonly staleness = this.registry.register(
    new Gauge('gatehouse_revocation_view_staleness_seconds', 'How long ago the revocation view was last confirmed against the database, in seconds.', []),
  );
  private readonly viewSessions = this.registry.register(
    new Gauge('gatehouse_revocation_view_sessions', 'Revoked sessions held in the in-memory revocation view.', []),
  );
  private readonly activeSessions = this.registry.register(
    new Gauge(
      'gatehouse_active_sessions',
      "Sessions neither revoked nor expired (an expiry counts once the minute's sweep records it), in the whole database; read at most every 15 s.",
      [],
    ),
  );
  private readonly webhookPending = this.registry.register(
    new Gauge('gatehouse_webhook_backlog', 'Webhook notifications neither delivered nor given up, in the whole database (read at most every 15 s).', []),
  );
  private readonly webhookAge = this.registry.register(
    new Gauge('gatehouse_webhook_backlog_oldest_age_seconds', 'Age of the oldest undelivered webhook notification, in seconds; 0 when none waits.', []),
  );
  private readonly mailMessages = this.registry.register(
    new Counter(
      'gatehouse_mail_messages_total',
      'Mail messages queued by this node, and attempts it made: sent, retried (failed, will retry) and failed (given up).',
      ['outcome'],
    ),
  );
  private readonly mailPending = this.registry.register(
    new Gauge('gatehouse_mail_backlog', 'Mail messages neither sent nor given up, in the whole database (read at most every 15 s).', []),
  );
  private readonly mailAge = this.registry.register(
    new Gauge('gatehouse_mail_backlog_oldest_age_seconds', 'Age of the oldest unsent mail message, in seconds; 0 when none waits.', []),
  );
  private readonly readings: DatabaseReadings;
  private readonly stops: Array<() => void> = [];
  /** Per route, method and status: the series to move, so a request costs one Map lookup. */
  private readonly perRequest = new Map<string, { count: { inc(): void }; time: { observe(seconds: number): void } }>();

  constructor(private readonly sources: MetricsSources) {
    for (const outcome of SIGN_IN_OUTCOMES.slice(0, 4)) this.signIns.labels({ outcome });
    for (const reason of REVOCATION_REASONS) this.revocations.labels({ reason });
    for (const outcome of MAIL_OUTCOMES) this.mailMessages.labels({ outcome });
    this.readings = new DatabaseReadings(sources.store, sources.clock, DATABASE_READINGS, sources.onError);
    this.stops.push(registerProcessMetrics(this.registry));
    this.registry.onCollect(() => {
      this.staleness.set({}, sources.viewStalenessMs() / 1000);
      this.viewSessions.set({}, sources.viewSize());
    });
  }

  /** `route` is the route's pattern (`/v1/me/sessions/:id`), never the URL: URLs are unbounded. */
  request(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let series = this.perRequest.get(key);
    if (!series) {
      series = {
        count: this.requests.labels({ route, method, status: String(status) }),
        time: this.durations.labels({ route, method }),
      };
      this.perRequest.set(key, series);
    }
    series.count.inc();
    series.time.observe(seconds);
  }

  signIn(outcome: SignInOutcome): void {
    this.signIns.inc({ outcome });
  }

  mailAttempt(outcome: MailOutcome): void {
    this.mailMessages.inc({ outcome });
  }

  /** Told every security event (service/security-log.ts); counts the sign-outs among them. */
  securityEvent(event: SecurityEvent): void {
    if (event.event === 'sessions_revoked') this.revocations.inc({ reason: event.reason }, event.sessionIds.length);
  }

  /**
   * Times how late `view` learns of revocations other nodes commit (propagation.ts). Returns
   * the sink this node's use cases must tell of their own commits; it passes them on to `own`.
   */
  timePropagation(view: RevocationView, own: RevocationSink): RevocationSink {
    const timer = new PropagationTimer(view, own, this.sources.clock, (delayMs) => this.propagation.observe({}, delayMs / 1000));
    this.registry.onCollect(() => timer.flush());
    this.stops.push(() => timer.stop());
    return timer.sink;
  }

  /** The text exposition, with the database's figures brought up to date if they are due. */
  async exposition(): Promise<string> {
    this.setReadings(await this.readings.current());
    return this.registry.render();
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  private setReadings(readings: Readings | undefined): void {
    // Before the database first answered there is nothing true to say: the series stay absent.
    if (!readings) return;
    this.activeSessions.set({}, readings.activeSessions);
    this.webhookPending.set({}, readings.webhookPending);
    const oldest = readings.webhookOldestCreatedAt;
    this.webhookAge.set({}, oldest === null ? 0 : Math.max(0, this.sources.clock.now() - oldest) / 1000);
    this.mailPending.set({}, readings.mailPending);
    const oldestMail = readings.mailOldestCreatedAt;
    this.mailAge.set({}, oldestMail === null ? 0 : Math.max(0, this.sources.clock.now() - oldestMail) / 1000);
  }
}
