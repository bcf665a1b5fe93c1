import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { SECOND, systemClock, type Clock } from './core/clock.js';
import { notMeKey } from './core/not-me-link.js';
import type { WordList } from './core/password-blocklist.js';
import type { PasswordHasher } from './core/password-hasher.js';
import type { RevokedSession } from './core/records.js';
import type { Locator } from './geo/locator.js';
import { openLocator } from './geo/open-locator.js';
import { buildApp } from './http/app.js';
import { trackConnections } from './http/connection-drain.js';
import { loggerOptions } from './http/logger-options.js';
import { KeyRing } from './keys/key-ring.js';
import { KEY_RELOAD_INTERVAL_MS } from './keys/key-schedule.js';
import { keepKeys } from './keys/upkeep.js';
import { resolveKeySecret } from './keys/local-secret.js';
import { GatehouseMetrics } from './metrics/gatehouse-metrics.js';
import { argon2Hasher } from './passwords/argon2-hasher.js';
import { commonPasswords } from './passwords/common-passwords.js';
import { PostgresListener } from './revocation/postgres-listener.js';
import { RevocationSync } from './revocation/revocation-sync.js';
import { RevocationView, type RevocationSink } from './revocation/revocation-view.js';
import type { ServiceContext } from './service/context.js';
import { recordSessionExpiries } from './service/housekeeping.js';
import { LastActivity } from './service/last-activity.js';
import type { SecurityEvent } from './service/security-log.js';
import { openStore } from './storage/kysely/kysely-store.js';
import type { Store } from './storage/store.js';
import { WebhookDeliverer } from './webhooks/deliverer.js';
import { purgePhases, revocationHorizon } from './purge-phases.js';
import { sayWhereKeysAreSafe } from './keys/start-up-warnings.js';
import { accountTokenKey } from './core/account-tokens.js';
import { MailDeliverer } from './mail/deliverer.js';
import { openMailTransport } from './mail/transport.js';

export interface Gatehouse {
  app: FastifyInstance;
  store: Store;
  view: RevocationView;
  sync: RevocationSync;
  keys: KeyRing;
  /** What seals the private signing keys: GATEHOUSE_SECRET, or the local secret (keys/local-secret.ts). */
  keySecret: string;
  activity: LastActivity;
  ctx: ServiceContext;
  /** What /metrics reports. */
  metrics: GatehouseMetrics;
  /** Sends the webhook outbox; undefined when GATEHOUSE_WEBHOOK_URL is not set. */
  webhooks?: WebhookDeliverer;
  /** Sends the mail outbox; undefined when GATEHOUSE_MAIL=off. */
  mail?: MailDeliverer;
  /** Deletes sessions and history past their retention and stale sign-in failure counters now (it also runs every hour). */
  purge(): Promise<number>;
  /**
   * Shuts the node down: refuses new connections and fails /readyz at once, answers every
   * request it has read, then writes pending activity, stops the webhook deliverer and closes
   * the database, in that order.
   */
  close(): Promise<void>;
}

export { purgePhases, revocationHorizon, type PurgePhase } from './purge-phases.js';

export interface GatehouseOverrides {
  clock?: Clock;
  /** An open store to use instead of opening `config.database` (closed with the app). */
  store?: Store;
  hasher?: PasswordHasher;
  logger?: FastifyServerOptions['logger'];
  /**
   * Told of every revocation this node commits, after its own view has it: how `serve
   * --workers` relays sign-outs to sibling processes at once (apply theirs with `view.revoked`).
   */
  onRevoked?: (sessions: RevokedSession[]) => void;
}

const PRUNE_INTERVAL_MS = 60 * SECOND;
/** How often each node reads revocations other nodes committed. */
const CATCH_UP_INTERVAL_MS = 1 * SECOND;
const ACTIVITY_FLUSH_MS = 10 * SECOND;
const PURGE_INTERVAL_MS = 3600 * SECOND;
/** How often the query planner's statistics are brought up to date (SQLite; dialect.ts). */
const STATISTICS_INTERVAL_MS = 3600 * SECOND;
/** How late a session's expiry may appear in its history. */
const EXPIRY_SWEEP_INTERVAL_MS = 60 * SECOND;
const FIRST_PURGE_DELAY_MS = 60 * SECOND;
/**
 * What the stop needs after the last connection has closed: the webhook deliverer's 3 s for
 * deliveries in flight, and a second to write the last activity and close the database.
 */
const AFTER_DRAIN_MS = 4 * SECOND;

/**
 * Puts a node together: database → signing keys → revocation view (loaded from the database)
 * → use-case context → HTTP app, plus the timers that keep it tidy. The same wiring serves
 * `npm start` and the tests.
 */
export async function createGatehouse(config: Readonly<Config>, overrides: GatehouseOverrides = {}): Promise<Gatehouse> {
  const clock = overrides.clock ?? systemClock;
  let app: FastifyInstance | undefined;
  // Before the database, so a wrong GATEHOUSE_GEOIP_DATABASE (or a build without its password
  // list) stops the start having created and migrated nothing, like any other configuration mistake.
  let locator: Locator;
  let passwords: WordList;
  try {
    passwords = commonPasswords();
    locator = await openLocator(config.geoipDatabase, (error) =>
      app?.log.warn({ err: error }, 'location lookup failed; such sign-ins get no location (logged once)'),
    );
  } catch (error) {
    await overrides.store?.close();
    throw error;
  }
  const store = overrides.store ?? (await openStore(config.database));
  let metrics: GatehouseMetrics | undefined;
  try {
    const secret = await resolveKeySecret(config.secret, config.database, () => store.listSigningKeys());
    const keys = await KeyRing.open(store, clock, secret.value);
    const revocationHorizonMs = revocationHorizon(config);
    const view = new RevocationView(clock, revocationHorizonMs);
    const loaded = { at: clock.now(), monotonic: clock.monotonic() };
    view.revoked(await store.listRevokedSince(view.horizon()));
    const sync = new RevocationSync(
      store,
      view,
      clock,
      { intervalMs: CATCH_UP_INTERVAL_MS, maxStalenessMs: config.revocationMaxStalenessSeconds * SECOND },
      loaded,
    );
    const measured = new GatehouseMetrics({
      clock,
      store,
      viewStalenessMs: () => sync.staleness(),
      viewSize: () => view.size,
      onError: (error) => app?.log.warn({ err: error }, 'metrics: reading active sessions and webhook backlog failed'),
    });
    metrics = measured;

    let mailer: MailDeliverer | undefined;
    const tokenKey = accountTokenKey(secret.value);
    const ctx: ServiceContext = {
      store,
      clock,
      hasher: overrides.hasher ?? argon2Hasher(),
      keys,
      // Revocations this node commits pass through the metrics, so only the others are timed.
      revocations: measured.timePropagation(view, overrides.onRevoked ? relayingSink(view, overrides.onRevoked) : view),
      log: (event: SecurityEvent) => {
        measured.securityEvent(event);
        app?.log.info(event, event.event);
      },
      tokens: {
        issuer: config.issuer,
        audience: config.audience,
        ttlSeconds: config.accessTokenTtlSeconds,
        clockToleranceSeconds: config.clockToleranceSeconds,
      },
      sessions: {
        idleTtlSeconds: config.sessionIdleTtlSeconds,
        maxAgeSeconds: config.sessionMaxAgeSeconds,
        reauthWindowSeconds: config.reauthWindowSeconds,
        replaceSameDevice: config.replaceSameDeviceSessions,
        refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
        maxSessions: config.maxSessions,
      },
      minPasswordLength: config.minPasswordLength,
      commonPasswords: passwords,
      signInLimits: {
        maxConsecutiveFailures: config.signInMaxConsecutiveFailures,
        maxFailuresPerHour: config.signInMaxFailuresPerHour,
        ipMaxFailures: config.signInIpMaxFailures,
      },
      registrationIpMax: config.registrationIpMax,
      locator,
      webhooks: config.webhookUrl !== undefined,
      // Keyed from the webhook secret where there is one (links already sent keep working), else
      // from the key secret: alerts by mail carry these links with no webhook configured.
      notMeLinks: { key: notMeKey(config.webhookSecret ?? secret.value), ttlSeconds: config.notMeLinkTtlSeconds, publicUrl: config.publicUrl },
      mailAlerts: new Set(config.mail.kind === 'off' ? [] : config.mailAlerts),
      emailVerification: config.emailVerification,
      mail:
        config.mail.kind === 'off'
          ? undefined
          : {
              queued: (count = 1) => {
                for (let i = 0; i < count; i++) measured.mailAttempt('queued');
                // After the answer, not in it: on SQLite the deliverer's first claim would run on
                // the event loop before the reply, and make a request that mails slower than one
                // that does not, which is what a password reset must not be.
                setImmediate(() => mailer?.kick());
              },
              resetIpMax: config.passwordResetIpMax,
              tokenKey,
            },
    };
    const activity = new LastActivity(store, clock, ctx.sessions);
    let closing = false;
    const built = await buildApp({
      ctx,
      store,
      keys,
      view,
      activity,
      sync,
      trustProxy: config.trustProxy,
      serviceKeys: config.serviceKeys,
      metrics: measured,
      metricsToken: config.metricsToken,
      publicUrl: config.publicUrl,
      logger: overrides.logger ?? loggerOptions(config.logLevel),
      closing: () => closing,
    });
    app = built;
    sayWhereKeysAreSafe(built.log, config, secret, keys.sealedAtOpen);
    // The connections get what GATEHOUSE_SHUTDOWN_TIMEOUT leaves after the steps behind them
    // (at least 1 s), then are cut: the process exits at the timeout, and a client still
    // sending must not cost the activity write, the webhooks' hand-back and the database close.
    const connections = trackConnections(built.server, {
      deadlineMs: config.shutdownTimeoutSeconds * SECOND - AFTER_DRAIN_MS,
      onDeadline: (open) => built.log.warn({ connections: open }, 'shutdown: connections still busy at the deadline were closed, their requests unanswered'),
    });
    const purge = async () => {
      const counts: number[] = [];
      for (const phase of purgePhases(config)) counts.push(await phase.run(ctx));
      return counts[0] ?? 0; // the ended sessions
    };

    // Background work never throws into the process: a failure is logged and tried next time.
    const every = (ms: number, what: string, work: () => unknown) =>
      setInterval(() => {
        Promise.resolve()
          .then(work)
          .catch((error: unknown) => built.log.error({ err: error }, `${what} failed`));
      }, ms).unref();
    const catchUpFailed = (error: unknown) => built.log.warn({ err: error }, 'revocation catch-up failed');
    sync.start(catchUpFailed);
    const listener =
      config.database.kind === 'postgres'
        ? new PostgresListener(
            config.database.url,
            () => sync.catchUp().catch(catchUpFailed),
            (error) => built.log.warn({ err: error }, 'revocation listener disconnected'),
          )
        : undefined;
    await listener?.start();
    const webhooks =
      config.webhookUrl === undefined || config.webhookSecret === undefined
        ? undefined
        : new WebhookDeliverer({
            url: config.webhookUrl,
            secret: config.webhookSecret,
            notMeLinks: ctx.notMeLinks,
            store,
            clock,
            log: built.log.child({ component: 'webhooks' }),
          });
    webhooks?.start();
    const transport = openMailTransport(config.mail);
    mailer =
      transport &&
      new MailDeliverer({
        transport,
        settings: { from: config.mailFrom, productName: config.productName, publicUrl: config.publicUrl, tokenKey, notMeLinks: ctx.notMeLinks! },
        store,
        clock,
        log: built.log.child({ component: 'mail' }),
        onAttempt: (outcome) => measured.mailAttempt(outcome),
      });
    mailer?.start();
    const timers = [
      every(PRUNE_INTERVAL_MS, 'revocation view pruning', () => view.prune()),
      every(ACTIVITY_FLUSH_MS, 'last-activity write', () => activity.flush()),
      every(PURGE_INTERVAL_MS, 'session purge', purge),
      every(KEY_RELOAD_INTERVAL_MS, 'signing key upkeep', () =>
        keepKeys(keys, store, clock, {
          secret: secret.value,
          rotationDays: config.keyRotationDays,
          lifetime: config,
          log: built.log.child({ component: 'signing-keys' }),
        }),
      ),
      every(EXPIRY_SWEEP_INTERVAL_MS, 'session expiry history', () => recordSessionExpiries(ctx)),
      every(STATISTICS_INTERVAL_MS, 'planner statistics', () => store.refreshPlannerStatistics()),
    ];
    const firstPurge = setTimeout(
      () => purge().catch((error: unknown) => built.log.error({ err: error }, 'session purge failed')),
      FIRST_PURGE_DELAY_MS,
    ).unref();

    built.addHook('onClose', async () => {
      // Fastify's close has stopped the server; the requests still in flight need the timers,
      // the view and the database until the last one is answered.
      await connections.closed();
      for (const timer of timers) clearInterval(timer);
      sync.stop();
      measured.close();
      await listener?.stop();
      clearTimeout(firstPurge);
      // Activity seen before the shutdown is written, not lost: after the timer's write in
      // progress, batch after batch until none is left, giving up only when the database
      // refuses (a few tries for a passing hiccup).
      let failures = 0;
      do {
        await activity.flush().catch((error: unknown) => {
          failures++;
          built.log.error({ err: error }, 'last-activity write failed');
        });
      } while (activity.backlog > 0 && failures < 3);
      // Attempts in flight finish (or are handed back) while the database is still there.
      await Promise.all([webhooks?.close(), mailer?.close()]);
      await store.close();
    });
    // Every plugin loaded and the OpenAPI document built and checked now (after the last hook
    // is added): a route without docs stops the start here, not at the first request.
    await built.ready();
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        closing = true;
        await connections.stopAccepting();
        await built.close();
      })());
    return {
      app: built,
      store,
      view,
      sync,
      keys,
      keySecret: secret.value,
      activity,
      ctx,
      metrics: measured,
      ...(webhooks ? { webhooks } : {}),
      ...(mailer ? { mail: mailer } : {}),
      purge,
      close,
    };
  } catch (error) {
    metrics?.close();
    await store.close();
    throw error;
  }
}

function relayingSink(view: RevocationSink, onRevoked: (sessions: RevokedSession[]) => void): RevocationSink {
  return {
    revoked(sessions) {
      view.revoked(sessions);
      onRevoked(sessions);
    },
  };
}
