import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { SECOND, systemClock, type Clock } from './core/clock.js';
import type { PasswordHasher } from './core/password-hasher.js';
import { buildApp } from './http/app.js';
import { KeyRing } from './keys/key-ring.js';
import { argon2Hasher } from './passwords/argon2-hasher.js';
import { RevocationView } from './revocation/revocation-view.js';
import type { ServiceContext } from './service/context.js';
import type { SecurityEvent } from './service/security-log.js';
import { openStore } from './storage/kysely/kysely-store.js';
import type { Store } from './storage/store.js';

export interface Gatehouse {
  app: FastifyInstance;
  store: Store;
  view: RevocationView;
  keys: KeyRing;
  ctx: ServiceContext;
  /** Closes the app, then the database. */
  close(): Promise<void>;
}

export interface GatehouseOverrides {
  clock?: Clock;
  /** An open store to use instead of opening `config.database` (closed with the app). */
  store?: Store;
  hasher?: PasswordHasher;
  logger?: FastifyServerOptions['logger'];
}

/** Revocations are kept this much longer than a token lives, for requests already in flight. */
const REVOCATION_MARGIN_MS = 60 * SECOND;
const PRUNE_INTERVAL_MS = 60 * SECOND;

/**
 * Puts a node together: database → signing keys → revocation view (loaded from the database)
 * → use-case context → HTTP app. The same wiring serves `npm start` and the tests.
 */
export async function createGatehouse(config: Readonly<Config>, overrides: GatehouseOverrides = {}): Promise<Gatehouse> {
  const clock = overrides.clock ?? systemClock;
  const store = overrides.store ?? (await openStore(config.database));
  try {
    const keys = await KeyRing.open(store, clock, config.secret);
    const view = new RevocationView(clock, (config.accessTokenTtlSeconds + config.clockToleranceSeconds) * SECOND + REVOCATION_MARGIN_MS);
    view.revoked(await store.listRevokedSince(view.horizon()));

    let app: FastifyInstance | undefined;
    const ctx: ServiceContext = {
      store,
      clock,
      hasher: overrides.hasher ?? argon2Hasher(),
      keys,
      revocations: view,
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
      },
      minPasswordLength: config.minPasswordLength,
    };
    app = await buildApp({
      ctx,
      store,
      keys,
      view,
      trustProxy: config.trustProxy,
      logger: overrides.logger ?? { level: config.logLevel },
    });
    const pruning = setInterval(() => view.prune(), PRUNE_INTERVAL_MS).unref();
    app.addHook('onClose', async () => {
      clearInterval(pruning);
      await store.close();
    });
    const built = app;
    return { app: built, store, view, keys, ctx, close: () => built.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}
