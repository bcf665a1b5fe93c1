import type { FastifyPluginAsync } from 'fastify';
import type { KeyRing } from '../../keys/key-ring.js';

/** The public keys that verify access tokens, for resource servers (RFC 7517). */
export const jwksRoutes: FastifyPluginAsync<{ keys: KeyRing }> = async (app, { keys }) => {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Short enough that a rotated-in key is picked up quickly; verifiers refetch on unknown kid.
    reply.header('cache-control', 'public, max-age=300');
    return keys.jwks();
  });
};
