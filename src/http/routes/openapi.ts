import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { setSecurityHeaders } from '../../web/security-headers.js';
import type { CollectedRoute } from '../openapi/collect-routes.js';
import { docsPage } from '../openapi/docs-page.js';
import { DOCS_STYLE } from '../openapi/docs-style.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document.js';

export interface OpenApiRouteOptions {
  /** Filled as routes are registered (collect-routes.ts); complete once the app is ready. */
  routes: readonly CollectedRoute[];
  publicUrl: string;
}

// package.json is two levels above both src/http/routes/ and dist/http/routes/.
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HTML = { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } };

/**
 * `GET /openapi.json` and its page, `GET /docs`. The document is built when the app becomes
 * ready (`ready()`, `listen()`), once every route is registered, so a route it cannot describe
 * (no `config.docs`, …) stops the start, naming the route, instead of failing the first request
 * for it. The page is rendered from it at its first request: rendering cannot fail, and would
 * double what the start pays. Both are kept: routes cannot change once the app is ready. The page gets the devices page's
 * security headers: same-origin styles, no script, no framing.
 */
export const openApiRoutes: FastifyPluginAsync<OpenApiRouteOptions> = async (app, { routes, publicUrl }) => {
  let built: { document: OpenApiDocument; json: string } | undefined;
  let page: string | undefined;
  app.addHook('onReady', async () => {
    const document = buildOpenApiDocument(routes, { publicUrl, version: VERSION });
    built = { document, json: JSON.stringify(document) };
  });
  // Fastify answers no request before the app is ready: `built` is set in the handlers below.

  app.addHook('onSend', async (request, reply) => setSecurityHeaders(request, reply));

  app.get(
    '/openapi.json',
    {
      config: {
        docs: {
          summary: 'This document',
          tags: ['documentation'],
          responses: {
            200: {
              description: 'The OpenAPI 3.1 document of every route of this server.',
              content: {
                'application/json': { schema: { type: 'object' }, example: { openapi: '3.1.0', info: { title: 'Gatehouse', version: VERSION }, paths: {} } },
              },
            },
          },
        },
      },
    },
    async (_request, reply) => reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(built!.json),
  );

  app.get('/docs', { config: { docs: { summary: 'This document as a page', tags: ['documentation'], responses: { 200: HTML } } } }, async (_request, reply) => {
    page ??= docsPage(built!.document);
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page);
  });

  app.get(
    '/docs/style.css',
    {
      config: {
        docs: {
          summary: 'The stylesheet of the page',
          tags: ['documentation'],
          responses: { 200: { description: 'CSS.', content: { 'text/css': { schema: { type: 'string' } } } } },
        },
      },
    },
    async (_request, reply) => reply.header('cache-control', 'no-cache').type('text/css; charset=utf-8').send(DOCS_STYLE),
  );
};
