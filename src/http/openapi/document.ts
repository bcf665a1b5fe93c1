import type { CollectedRoute } from './collect-routes.js';
import { openApiPath, operation } from './operation.js';
import { PROBLEM_SCHEMA } from './problem-responses.js';
import { SchemaRefs } from './schema-refs.js';

/** The tags routes may use, in the order the documentation shows them. */
export const TAGS: Readonly<Record<string, string>> = {
  auth: 'Registering, signing in and out, refreshing tokens, proving the password again.',
  account: 'The signed-in user: account, password, sessions, login history.',
  admin: 'Operators (role `admin`): finding users, ending their sessions, disabling accounts.',
  services: 'For other services: token introspection and revocation (RFC 7662, RFC 7009), the revocation feed, the signing keys.',
  'not-me': 'The "this wasn\'t me" link of new-device notifications.',
  operations: 'Health, readiness and metrics, for load balancers and monitoring.',
  web: 'The devices page: a browser application served by Gatehouse itself.',
  documentation: 'This document and its page.',
};

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: Record<string, unknown>;
}

const DESCRIPTION = `Gatehouse is a self-hosted authentication server built around login activity: sessions with devices, and signing out everywhere at once.

Errors are \`application/problem+json\` (RFC 9457) with a stable \`code\`; each operation lists the codes it can answer, by status. Request bodies are JSON unless an operation says otherwise; unknown fields are refused. Every GET also answers HEAD.`;

/**
 * The OpenAPI 3.1 document of the routes as registered (collect-routes.ts). Throws, naming
 * every gap, when a route cannot be documented fully (no `config.docs`, a status without a
 * description, a JSON body without an example, an unknown tag): an incomplete document would
 * look complete to its readers.
 */
export function buildOpenApiDocument(routes: readonly CollectedRoute[], options: { publicUrl: string; version: string }): OpenApiDocument {
  const refs = new SchemaRefs();
  const gaps: string[] = [];
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const where = `${route.method} ${route.url}`;
    const path = openApiPath(route.url);
    if (!route.docs) gaps.push(`${where} has no config.docs`);
    else if (path === undefined) gaps.push(`${where}: OpenAPI has no form for this path`);
    else {
      for (const tag of route.docs.tags) if (!(tag in TAGS)) gaps.push(`${where}: unknown tag "${tag}" (add it to TAGS in openapi/document.ts)`);
      paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, route.docs, refs, gaps) };
    }
  }
  if (gaps.length > 0) throw new Error(`The OpenAPI document is incomplete:\n- ${gaps.join('\n- ')}`);
  const used = new Set(routes.flatMap((route) => route.docs?.tags ?? []));
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse', version: options.version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    servers: [{ url: options.publicUrl }],
    tags: Object.entries(TAGS)
      .filter(([name]) => used.has(name))
      .map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: { ...sorted(refs.components), Problem: PROBLEM_SCHEMA },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An access token from `POST /v1/auth/login` or `POST /v1/auth/refresh`, in an `Authorization: Bearer` header (never in the URL).',
        },
        serviceKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'One of the keys in `GATEHOUSE_SERVICE_KEYS`, in an `Authorization: Bearer` header: for other services, not users.',
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: '`GATEHOUSE_METRICS_TOKEN`, in an `Authorization: Bearer` header, for `/metrics` when it is set.',
        },
      },
    },
  };
}

function sorted<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
