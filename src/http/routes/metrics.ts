import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../../core/errors.js';
import type { GatehouseMetrics } from '../../metrics/gatehouse-metrics.js';
import { EXPOSITION_CONTENT_TYPE } from '../../metrics/registry.js';
import { readBearer } from '../bearer.js';
import { secretChecker } from '../secret-check.js';

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

/** The metrics token, compared in constant time (secret-check.ts). */
function requireToken(token: string): (request: FastifyRequest) => Promise<void> {
  const isMetricsToken = secretChecker([token]);
  return async (request) => {
    const presented = readBearer(request.headers.authorization);
    if (typeof presented !== 'string' && presented.problem === 'missing') {
      throw new GatehouseError('token_missing', 'Send the metrics token as Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>.');
    }
    if (typeof presented !== 'string' || !isMetricsToken(presented)) throw new GatehouseError('token_invalid', 'The metrics token is not valid.');
  };
}
