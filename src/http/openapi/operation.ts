import type { CollectedRoute } from './collect-routes.js';
import { SCHEMA_EXAMPLES } from './examples.js';
import { problemResponses } from './problem-responses.js';
import type { RouteAuth, RouteDocs } from './route-docs.js';
import { schemaName, type SchemaRefs } from './schema-refs.js';

const SECURITY: Readonly<Record<RouteAuth, readonly Record<string, []>[]>> = {
  bearer: [{ bearer: [] }],
  service: [{ serviceKey: [] }],
  metrics: [{ metricsToken: [] }],
  // `{}`: no credentials at all is also a way in (OpenAPI 3.1 §4.8.30).
  'optional-bearer': [{ bearer: [] }, {}],
};

/** `/v1/me/sessions/:id` → `/v1/me/sessions/{id}`; undefined for forms OpenAPI cannot express. */
export function openApiPath(url: string): string | undefined {
  if (url.includes('*') || url.includes('(')) return undefined;
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** `DELETE /v1/me/sessions/:id` → `deleteV1MeSessionsById`. */
function operationId(method: string, url: string): string {
  const words = url
    .split(/[^A-Za-z0-9:]+/)
    .filter(Boolean)
    .map((word) => (word.startsWith(':') ? `by-${word.slice(1)}` : word));
  return [method.toLowerCase(), ...words.flatMap((word) => word.split('-'))]
    .map((word, i) => (i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1)))
    .join('');
}

/**
 * One operation of the document, from the route's own schemas and its `config.docs`. What the
 * route cannot be documented with is added to `gaps`, so the caller can refuse the document.
 */
export function operation(route: CollectedRoute, docs: RouteDocs, refs: SchemaRefs, gaps: string[]): Record<string, unknown> {
  const where = `${route.method} ${route.url}`;
  const body = requestBody(route, docs, refs, where, gaps);
  return {
    operationId: operationId(route.method, route.url),
    tags: docs.tags,
    summary: docs.summary,
    ...(docs.description ? { description: docs.description } : {}),
    security: docs.auth ? SECURITY[docs.auth] : [],
    parameters: parameters(route, docs, refs),
    ...(body ? { requestBody: body } : {}),
    responses: { ...successResponses(route, docs, refs, where, gaps), ...problemResponses(route) },
  };
}

function parameters(route: CollectedRoute, docs: RouteDocs, refs: SchemaRefs): unknown[] {
  const { schema } = route;
  const declared = new Set(Object.keys(properties(schema?.params)));
  const undeclaredPath = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string).filter((name) => !declared.has(name));
  return [
    ...fromObject(schema?.params, 'path', refs),
    ...undeclaredPath.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...fromObject(schema?.querystring, 'query', refs),
    ...fromObject(schema?.headers, 'header', refs),
    ...Object.entries(docs.headers ?? {}).map(([name, header]) => ({
      name,
      in: 'header',
      required: false,
      description: header.description,
      schema: refs.toJson(header.schema),
    })),
  ];
}

/** Each property of an object schema as one parameter. */
function fromObject(schema: unknown, where: 'path' | 'query' | 'header', refs: SchemaRefs): unknown[] {
  const required = new Set(((schema as { required?: string[] } | undefined)?.required ?? []) as string[]);
  return Object.entries(properties(schema)).map(([name, property]) => {
    const { description, ...rest } = refs.inline(property) as { description?: string };
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

function properties(schema: unknown): Record<string, unknown> {
  return ((schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}) as Record<string, unknown>;
}

function requestBody(route: CollectedRoute, docs: RouteDocs, refs: SchemaRefs, where: string, gaps: string[]): unknown {
  const types = docs.consumes ?? ['application/json'];
  const schema = route.schema?.body;
  if (schema === undefined) {
    if (!docs.consumes) return undefined;
    // Accepted (so a plain HTML form can post) but not read.
    return { required: false, description: 'Ignored.', content: Object.fromEntries(types.map((type) => [type, { schema: { type: 'object' } }])) };
  }
  // A union with null is a body that may be left out (logout with a Bearer token sends none).
  const branches = (schema as { anyOf?: { type?: unknown }[] }).anyOf;
  const present = branches?.filter((branch) => branch.type !== 'null');
  const optional = branches !== undefined && present !== undefined && present.length < branches.length;
  const documented = optional ? (present.length === 1 ? refs.toJson(present[0]) : { anyOf: present.map((b) => refs.toJson(b)) }) : refs.toJson(schema);
  const example = docs.requestExample ?? SCHEMA_EXAMPLES[schemaName(schema) ?? ''];
  if (example === undefined) gaps.push(`${where}: the request body has no example`);
  return {
    required: !optional,
    content: Object.fromEntries(types.map((type) => [type, { schema: documented, ...(example === undefined ? {} : { example }) }])),
  };
}

function successResponses(route: CollectedRoute, docs: RouteDocs, refs: SchemaRefs, where: string, gaps: string[]): Record<string, unknown> {
  const declared = (route.schema?.response ?? {}) as Record<string, unknown>;
  const statuses = [...new Set([...Object.keys(declared), ...Object.keys(docs.responses)])].sort();
  const responses: Record<string, unknown> = {};
  for (const status of statuses) {
    const doc = docs.responses[Number(status)];
    if (!/^[1-3][0-9][0-9]$/.test(status) || !doc) {
      gaps.push(`${where}: response ${status} needs a description in config.docs.responses (success statuses only)`);
      continue;
    }
    const content: Record<string, unknown> = {};
    const schema = declared[status] as { type?: unknown; contentMediaType?: unknown } | undefined;
    if (typeof schema?.contentMediaType === 'string') {
      // A text body (Prometheus's format): its schema says which media type it is.
      content[schema.contentMediaType] = { schema: refs.toJson(schema) };
    } else if (schema !== undefined && schema.type !== 'null') {
      const example = doc.example ?? SCHEMA_EXAMPLES[schemaName(schema) ?? ''];
      if (example === undefined) gaps.push(`${where}: response ${status} has no example`);
      content['application/json'] = { schema: refs.toJson(schema), ...(example === undefined ? {} : { example }) };
    } else if (doc.example !== undefined) {
      gaps.push(`${where}: response ${status} has an example but declares no JSON body`);
    }
    for (const [type, media] of Object.entries(doc.content ?? {})) {
      if (type.includes('json') && media.example === undefined) gaps.push(`${where}: response ${status} (${type}) has no example`);
      content[type] = { schema: refs.toJson(media.schema), ...(media.example === undefined ? {} : { example: media.example }) };
    }
    const headers = Object.entries(doc.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' } }]);
    responses[status] = {
      description: doc.description,
      ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}),
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  }
  return responses;
}
