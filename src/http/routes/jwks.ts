import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { RouteDocs } from '../openapi/route-docs.js';
import type { KeyRing } from '../../keys/key-ring.js';

/** The public keys that verify access tokens, for resource servers (RFC 7517). */
export const jwksRoutes: FastifyPluginAsync<{ keys: KeyRing }> = async (app, { keys }) => {
  app.get('/.well-known/jwks.json', { config: { docs: DOCS } }, async (_request, reply) => {
    // Short enough that a rotated-in key is picked up quickly; verifiers refetch on unknown kid.
    reply.header('cache-control', 'public, max-age=300');
    return keys.jwks();
  });
};

// Documented rather than declared as `schema.response`: that would serialise the keys through
// it and drop any JWK member not listed here; the keys are jose's to shape.
const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.String(),
      x: Type.String(),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.Literal('sig'),
    }),
  ),
});

const DOCS: RouteDocs = {
  summary: 'The keys that verify access tokens',
  description:
    'A JSON Web Key Set (RFC 7517): the active signing key and any key whose tokens may still be alive. A verifier that meets an unknown `kid` fetches it again.',
  tags: ['services'],
  responses: {
    200: {
      description: 'The public keys.',
      headers: { 'Cache-Control': '`public, max-age=300`.' },
      content: {
        'application/json': {
          schema: Jwks,
          example: {
            keys: [
              {
                kty: 'OKP',
                crv: 'Ed25519',
                x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
                kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
                alg: 'EdDSA',
                use: 'sig',
              },
            ],
          },
        },
      },
    },
  },
};
