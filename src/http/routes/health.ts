import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AccessTokenKeys } from '../../core/access-token.js';
import { GatehouseError } from '../../core/errors.js';
import type { RevocationSync } from '../../revocation/revocation-sync.js';
import type { StoreConnection } from '../../storage/ports/connection.js';

/**
 * How long /readyz waits for the database. A probe must answer within its own timeout
 * (Kubernetes: 1 s by default, often raised), and a pool that cannot connect would otherwise
 * hold it for pg's 5 s connection timeout or a silent network's 30 s query timeout.
 */
export const READY_DATABASE_TIMEOUT_MS = 2000;

export interface HealthOptions {
  store: Pick<StoreConnection, 'ping'>;
  sync: Pick<RevocationSync, 'isFresh' | 'staleness'>;
  keys: Pick<AccessTokenKeys, 'signingKey' | 'hasKey'>;
  /** True once the node is shutting down: /readyz fails at once, so load balancers move on. */
  closing?: () => boolean;
}

/**
 * Liveness and readiness. /healthz answers from the event loop and touches nothing else: that
 * it answers at all is the proof the loop is not stuck, and a database outage must not get a
 * healthy process restarted. /readyz says whether this node should get traffic: the database
 * answers in time, the revocation view was confirmed within the staleness bound (else requests
 * with tokens may get 503), and a signing key is loaded and published.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { store, sync, keys, closing }) => {
  app.get(
    '/healthz',
    {
      schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
      config: {
        docs: { summary: 'Liveness: the process answers', tags: ['operations'], responses: { 200: { description: 'Alive.', example: { status: 'ok' } } } },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const Ready = Type.Object({
    status: Type.Literal('ready'),
    revocation_view: Type.Object({ fresh: Type.Boolean(), confirmed_ms_ago: Type.Integer() }),
  });
  app.get(
    '/readyz',
    {
      schema: { response: { 200: Ready } },
      config: {
        docs: {
          summary: 'Readiness: the database answers, the revocation view is fresh, a signing key is loaded',
          description: 'Answers 503 `unavailable` naming every check that failed.',
          tags: ['operations'],
          errors: ['unavailable'],
          responses: { 200: { description: 'Ready for traffic.', example: { status: 'ready', revocation_view: { fresh: true, confirmed_ms_ago: 212 } } } },
        },
      },
    },
    async (request) => {
      if (closing?.()) throw new GatehouseError('unavailable', 'Not ready: this node is shutting down.');
      const failures: string[] = [];
      try {
        await withTimeout(store.ping(), READY_DATABASE_TIMEOUT_MS);
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check: database unreachable');
        failures.push(error instanceof TimedOut ? `the database did not answer within ${READY_DATABASE_TIMEOUT_MS} ms` : 'the database is not reachable');
      }
      const revocationView = { fresh: sync.isFresh(), confirmed_ms_ago: sync.staleness() };
      if (!revocationView.fresh) failures.push(`the revocation view was last confirmed ${revocationView.confirmed_ms_ago} ms ago`);
      if (!signingKeyLoaded(keys)) failures.push('no signing key is loaded');
      if (failures.length > 0) throw new GatehouseError('unavailable', `Not ready: ${failures.join('; ')}.`);
      return { status: 'ready' as const, revocation_view: revocationView };
    },
  );
};

/** The key that signs is a private key, and its public half is in the JWKS, so what it signs verifies. */
function signingKeyLoaded(keys: HealthOptions['keys']): boolean {
  try {
    const signing = keys.signingKey();
    return signing.key.type === 'private' && keys.hasKey(signing.kid);
  } catch {
    return false;
  }
}

class TimedOut extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut()), ms).unref();
  });
  // A ping that fails after the timeout must not surface as an unhandled rejection.
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
