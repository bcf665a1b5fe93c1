import type { FastifyPluginAsync } from 'fastify';
import { GatehouseError } from '../../core/errors.js';
import type { RevocationSync } from '../../revocation/revocation-sync.js';
import type { Store } from '../../storage/store.js';

/**
 * Liveness (the process answers) and readiness (it can serve: the database answers and the
 * revocation view has been confirmed within the staleness bound).
 */
export const healthRoutes: FastifyPluginAsync<{ store: Store; sync: RevocationSync }> = async (app, { store, sync }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request) => {
    try {
      await store.ping();
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: database unreachable');
      throw new GatehouseError('unavailable', 'The database is not reachable.');
    }
    const revocationView = { fresh: sync.isFresh(), confirmed_ms_ago: sync.staleness() };
    if (!revocationView.fresh) throw new GatehouseError('unavailable', `The revocation view was last confirmed ${revocationView.confirmed_ms_ago} ms ago.`);
    return { status: 'ready', revocation_view: revocationView };
  });
};
