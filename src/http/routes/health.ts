import type { FastifyPluginAsync } from 'fastify';
import { GatehouseError } from '../../core/errors.js';
import type { Store } from '../../storage/store.js';

/** Liveness (the process answers) and readiness (it can serve: the database answers). */
export const healthRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request) => {
    try {
      await store.ping();
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: database unreachable');
      throw new GatehouseError('unavailable', 'The database is not reachable.');
    }
    return { status: 'ready' };
  });
};
