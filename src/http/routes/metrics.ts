import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../../core/errors.js';
import type { GatehouseMetrics } from '../../metrics/gatehouse-metrics.js';
import { EXPOSITION_CONTENT_TYPE } from '../../metrics/registry.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics: Prometheus's text format. With GATEHOUSE_METRICS_TOKEN set, only for
 * `Authorization: Bearer <token>`; without, for whoever can reach it (README, "Monitoring").
 */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: GatehouseMetrics; token: string | undefined }> = async (app, { metrics, token }) => {
  const onRequest = token === undefined ? [] : [requireToken(token)];
  app.get(
    '/metrics',
    {
      onRequest,
      schema: { response: { 200: Type.String({ contentMediaType: EXPOSITION_CONTENT_TYPE }) } },
      config: {
        docs: {
          summary: 'Prometheus metrics (text exposition format 0.0.4)',
          description:
            'Request counts and latencies by route pattern and status, sign-ins by outcome, active sessions, revocations by reason, ' +
            'revocation propagation lag and view staleness, webhook backlog, process memory, CPU and event-loop delay. ' +
            'Requires `Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>` when that is set.',
          tags: ['operations'],
          // The document describes this server: the token is asked for only where it is set.
          ...(token === undefined ? {} : { auth: 'metrics' as const }),
          responses: { 200: { description: 'The metrics.' } },
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.exposition();
      return reply.type(EXPOSITION_CONTENT_TYPE).header('cache-control', 'no-store').send(text);
    },
  );
};

/**
 * Both sides are hashed to SHA-256 before timingSafeEqual, so the comparison takes the same
 * time whatever the presented token's length or how much of it is right.
 */
function requireToken(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization;
    if (!header || !/^bearer(\s|$)/i.test(header)) throw new GatehouseError('token_missing', 'Send the metrics token as Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>.');
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) throw new GatehouseError('token_invalid', 'The metrics token is not valid.');
  };
}
