import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { SECOND, systemClock, type Clock } from './core/clock.js';
import { notMeKey } from './core/not-me-link.js';
import type { PasswordHasher } from './core/password-hasher.js';
import type { RevokedSession } from './core/records.js';
import { openLocator } from './geo/open-locator.js';
import { buildApp } from './http/app.js';
import { KeyRing } from './keys/key-ring.js';
import { argon2Hasher } from './passwords/argon2-hasher.js';
import { PostgresListener } from './revocation/postgres-listener.js';
import { RevocationSync } from './revocation/revocation-sync.js';
import { RevocationView, type RevocationSink } from './revocation/revocation-view.js';
import type { ServiceContext } from './service/context.js';
import { purgeEndedSessions, purgeEvents, purgeSignInFailures, recordSessionExpiries } from './service/housekeeping.js';
import { LastActivity } from './service/last-activity.js';
import type { SecurityEvent } from './service/security-log.js';
import { openStore } from './storage/kysely/kysely-store.js';
import type { Store } from './storage/store.js';
import { WebhookDeliverer } from './webhooks/deliverer.js';
import { purgeSettledDeliveries } from './webhooks/retention.js';

export interface Gatehouse {
  app: FastifyInstance;
  store: Store;
  view: RevocationView;
  sync: RevocationSync;
  keys: KeyRing;
  activity: LastActivity;
  ctx: ServiceContext;
  /** Sends the webhook outbox; undefined when GATEHOUSE_WEBHOOK_URL is not set. */
  webhooks?: WebhookDeliverer;
  /** Deletes sessions and history past their retention and stale sign-in failure counters now (it also runs every hour). */
  purge(): Promise<number>;
  /** Closes the app, writes pending activity, then closes the database. */
  close(): Promise<void>;
}

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

/** Revocations are kept this much longer than a token lives, for requests already in flight. */
const REVOCATION_MARGIN_MS = 60 * SECOND;
const PRUNE_INTERVAL_MS = 60 * SECOND;
/** How often each node reads revocations other nodes committed. */
const CATCH_UP_INTERVAL_MS = 1 * SECOND;
const ACTIVITY_FLUSH_MS = 10 * SECOND;
const PURGE_INTERVAL_MS = 3600 * SECOND;
/** How late a session's expiry may appear in its history. */
const EXPIRY_SWEEP_INTERVAL_MS = 60 * SECOND;
const FIRST_PURGE_DELAY_MS = 60 * SECOND;

/**
 * Puts a node together: database → signing keys → revocation view (loaded from the database)
 * → use-case context → HTTP app, plus the timers that keep it tidy. The same wiring serves
 * `npm start` and the tests.
 */
export async function createGatehouse(config: Readonly<Config>, overrides: GatehouseOverrides = {}): Promise<Gatehouse> {
  const clock = overrides.clock ?? systemClock;
  let app: FastifyInstance | undefined;
  // Before the database, so a wrong GATEHOUSE_GEOIP_DATABASE stops the start having created
  // and migrated nothing, like any other configuration mistake.
  const locator = await openLocator(config.geoipDatabase, (error) =>
    app?.log.warn({ err: error }, 'location lookup failed; such sign-ins get no location (logged once)'),
  ).catch(async (error: unknown) => {
    await overrides.store?.close();
    throw error;
  });
  const store = overrides.store ?? (await openStore(config.database));
  try {
    const keys = await KeyRing.open(store, clock, config.secret);
    const revocationHorizonMs = (config.accessTokenTtlSeconds + config.clockToleranceSeconds) * SECOND + REVOCATION_MARGIN_MS;
    const view = new RevocationView(clock, revocationHorizonMs);
    const loaded = { at: clock.now(), monotonic: clock.monotonic() };
    view.revoked(await store.listRevokedSince(view.horizon()));
    const sync = new RevocationSync(store, view, clock, { intervalMs: CATCH_UP_INTERVAL_MS, maxStalenessMs: config.revocationMaxStalenessSeconds * SECOND }, loaded);

    const ctx: ServiceContext = {
      store,
      clock,
      hasher: overrides.hasher ?? argon2Hasher(),
      keys,
      revocations: overrides.onRevoked ? relayingSink(view, overrides.onRevoked) : view,
      log: (event: SecurityEvent) => app?.log.info(event, event.event),
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
      signInLimits: {
        maxConsecutiveFailures: config.signInMaxConsecutiveFailures,
        maxFailuresPerHour: config.signInMaxFailuresPerHour,
        ipMaxFailures: config.signInIpMaxFailures,
      },
      locator,
      webhooks: config.webhookUrl !== undefined,
      notMeLinks:
        config.webhookSecret === undefined
          ? undefined
          : { key: notMeKey(config.webhookSecret), ttlSeconds: config.notMeLinkTtlSeconds, publicUrl: config.publicUrl },
    };
    const activity = new LastActivity(store, clock, ctx.sessions);
    const built = await buildApp({
      ctx,
      store,
      keys,
      view,
      activity,
      sync,
      trustProxy: config.trustProxy,
      serviceKeys: config.serviceKeys,
      publicUrl: config.publicUrl,
      logger: overrides.logger ?? { level: config.logLevel },
    });
    app = built;
    const purge = async () => {
      const sessions = await purgeEndedSessions(ctx, { retentionSeconds: config.sessionRetentionSeconds, revocationHorizonMs });
      await purgeSignInFailures(ctx);
      await purgeSettledDeliveries(ctx);
      await purgeEvents(ctx, config.eventRetentionSeconds);
      return sessions;
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
        ? new PostgresListener(config.database.url, () => sync.catchUp().catch(catchUpFailed), (error) => built.log.warn({ err: error }, 'revocation listener disconnected'))
        : undefined;
    await listener?.start();
    const webhooks =
      config.webhookUrl === undefined || config.webhookSecret === undefined
        ? undefined
        : new WebhookDeliverer({ url: config.webhookUrl, secret: config.webhookSecret, notMeLinks: ctx.notMeLinks, store, clock, log: built.log.child({ component: 'webhooks' }) });
    webhooks?.start();
    const timers = [
      every(PRUNE_INTERVAL_MS, 'revocation view pruning', () => view.prune()),
      every(ACTIVITY_FLUSH_MS, 'last-activity write', () => activity.flush()),
      every(PURGE_INTERVAL_MS, 'session purge', purge),
      every(EXPIRY_SWEEP_INTERVAL_MS, 'session expiry history', () => recordSessionExpiries(ctx)),
    ];
    const firstPurge = setTimeout(() => purge().catch((error: unknown) => built.log.error({ err: error }, 'session purge failed')), FIRST_PURGE_DELAY_MS).unref();

    built.addHook('onClose', async () => {
      for (const timer of timers) clearInterval(timer);
      sync.stop();
      await listener?.stop();
      clearTimeout(firstPurge);
      // Activity seen before the shutdown is written, not lost: batch after batch until none is
      // left, giving up only when the database refuses (a few tries for a passing hiccup).
      for (let failures = 0; activity.backlog > 0 && failures < 3; ) {
        await activity.flush().catch((error: unknown) => {
          failures++;
          built.log.error({ err: error }, 'last-activity write failed');
        });
      }
      // Attempts in flight finish (or are handed back) while the database is still there.
      await webhooks?.close();
      await store.close();
    });
    return { app: built, store, view, sync, keys, activity, ctx, ...(webhooks ? { webhooks } : {}), purge, close: () => built.close() };
  } catch (error) {
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
