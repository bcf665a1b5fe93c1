import type { FastifyInstance, FastifySchema, HTTPMethods } from 'fastify';
import type { RouteDocs } from './route-docs.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route but HEAD, as registered: what the OpenAPI document is made from. */
    collectedRoutes: readonly CollectedRoute[];
  }
}

export interface CollectedRoute {
  method: string;
  /** Fastify's form: `/v1/me/sessions/:id`. */
  url: string;
  schema: FastifySchema | undefined;
  docs: RouteDocs | undefined;
}

/**
 * Records every route as Fastify registers it, so the document is made from what the server
 * really answers: a route added without docs shows up as a gap (the app refuses to become
 * ready, naming it: routes/openapi.ts) instead of being left out unnoticed. Must run before
 * any route is registered; hooks added to the root reach every plugin registered after.
 *
 * HEAD is left out: Fastify answers it for every GET route, as the GET without its body.
 * The list is also `app.collectedRoutes`, for tests to build the document and see its gaps.
 */
export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.decorate('collectedRoutes', routes);
  app.addHook('onRoute', (route) => {
    const methods: readonly HTTPMethods[] = Array.isArray(route.method) ? route.method : [route.method as HTTPMethods];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: route.url, schema: route.schema, docs: route.config?.docs });
    }
  });
  return routes;
}
