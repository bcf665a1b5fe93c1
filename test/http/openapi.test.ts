import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import Fastify from 'fastify';
import { collectRoutes } from '../../src/http/openapi/collect-routes.js';
import { openApiRoutes } from '../../src/http/routes/openapi.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Check, Errors } from 'typebox/schema';
import { ERROR_CODES } from '../../src/core/errors.js';
import { buildOpenApiDocument } from '../../src/http/openapi/document.js';
import { SchemaRefs } from '../../src/http/openapi/schema-refs.js';
import { statusOf } from '../../src/http/problem.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/security-headers.js';
import { startTestGatehouse, type TestGatehouse } from '../helpers/app.js';
import { instantHasher } from '../helpers/hashers.js';

const SERVICE_KEY = 'service-key-' + 's'.repeat(32);
const METRICS_TOKEN = 'metrics-token-' + 'm'.repeat(32);

interface Media {
  schema: object;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  operationId: string;
  security: Record<string, unknown>[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, unknown> };
}

/**
 * The names of the shared schemas, as clients' generated code knows them (`components/schemas`):
 * part of the contract, so they come from each schema's `$id`, never from a variable's name.
 */
const COMPONENT_NAMES = [
  'Accepted',
  'ActivityEvent',
  'ActivityResponse',
  'AdminUser',
  'AdminUserResponse',
  'AdminUsersResponse',
  'EmailChangeBody',
  'EmailVerificationBody',
  'IntrospectionResponse',
  'LinkTokenBody',
  'LoginBody',
  'OAuthTokenBody',
  'PasswordChangeBody',
  'PasswordResetAccepted',
  'PasswordResetBody',
  'PasswordResetConfirmBody',
  'ReauthBody',
  'RegisterBody',
  'Revocation',
  'RevocationFeedResponse',
  'RevokedResponse',
  'Session',
  'SessionsResponse',
  'TokenResponse',
  'User',
  'UserResponse',
  'Problem',
];

/** Every operation of a document, as `METHOD /path/{param}`. */
function operationsOf(doc: Doc): { key: string; method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op })),
  );
}

/** Fails with the validator's own words when `value` does not fit `schema`. */
function expectFits(schema: object, value: unknown, where: string): void {
  if (Check(schema, value)) return;
  const [, errors] = Errors(schema, value);
  expect.fail(`${where}: ${JSON.stringify(value).slice(0, 300)} does not fit: ${errors.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
}

/** The routes in Fastify's own listing (`printRoutes`), HEAD left out, as `METHOD /path/:param`. */
function registeredRoutes(tree: string): string[] {
  const routes: string[] = [];
  const parents: { depth: number; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│├└─\s]*)(\S+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length;
    while (parents.length > 0 && parents.at(-1)!.depth >= depth) parents.pop();
    const path = (parents.at(-1)?.path ?? '') + match[2];
    parents.push({ depth, path });
    for (const method of match[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes;
}

describe('the OpenAPI document', () => {
  let t: TestGatehouse;
  let doc: Doc;
  let resolved: Doc;
  beforeAll(async () => {
    t = await startTestGatehouse('sqlite', { serviceKeys: [SERVICE_KEY], metricsToken: METRICS_TOKEN }, { hasher: instantHasher() });
    const response = await t.app.inject({ url: '/openapi.json' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    doc = response.json();
    resolved = await dereference(structuredClone(doc) as never);
  });
  afterAll(() => t.close());

  it('can be built from the routes as registered: every route has its docs', () => {
    // Throws naming each gap (a route without config.docs, a body without an example, …).
    expect(() => buildOpenApiDocument(t.app.collectedRoutes, { publicUrl: t.config.publicUrl, version: '0' })).not.toThrow();
  });

  it('names its shared schemas as it always has, whatever the variables holding them are called', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(COMPONENT_NAMES);
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) expect(COMPONENT_NAMES, name).toContain(name);
    expect(text).not.toContain('"$id"'); // the name is the component's key, not a property of it
    expect(doc.paths['/v1/auth/login']!.post!.responses['200']!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/TokenResponse' });
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('documents every route the server answers, and no route it does not', () => {
    const registered = registeredRoutes(t.app.printRoutes({ commonPrefix: false }));
    const documented = operationsOf(doc).map(({ method, path }) => `${method} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
    expect(registered.length).toBeGreaterThan(25);
    expect([...documented].sort()).toEqual([...registered].sort());
    for (const route of documented) {
      const [method, url] = route.split(' ') as [string, string];
      expect(t.app.hasRoute({ method: method as 'GET', url }), route).toBe(true);
    }
  });

  it('lists under each error status only codes Gatehouse answers with that status, each with its example', () => {
    for (const { key, op } of operationsOf(doc)) {
      const statuses = Object.keys(op.responses).map(Number);
      expect(statuses, `${key} answers 500 internal`).toContain(500);
      for (const status of statuses.filter((s) => s >= 400)) {
        const problem = op.responses[status]!.content?.['application/problem+json'];
        if (!problem) {
          expect(op.responses[status]!.content?.['text/html'], `${key} ${status} has a body`).toBeDefined();
          continue;
        }
        const codes = (problem.schema as { properties: { code: { enum: string[] } } }).properties.code.enum;
        expect(codes.length, `${key} ${status}`).toBeGreaterThan(0);
        for (const code of codes) {
          expect(ERROR_CODES, `${key}: ${code}`).toContain(code);
          expect(statusOf(code as never), `${key}: ${code}`).toBe(status);
        }
        expect(Object.keys(problem.examples ?? {}), `${key} ${status}`).toEqual(codes);
        for (const [code, example] of Object.entries(problem.examples ?? {})) {
          expect(example.value).toMatchObject({ type: `urn:gatehouse:error:${code}`, status, code });
        }
      }
    }
  });

  it('gives the codes that follow from how a route is built', () => {
    const codes = (key: string) => {
      const op = operationsOf(doc).find((o) => o.key === key)!.op;
      return Object.values(op.responses).flatMap(
        (r) => (r.content?.['application/problem+json']?.schema as { properties?: { code: { enum: string[] } } } | undefined)?.properties?.code.enum ?? [],
      );
    };
    expect(codes('GET /v1/me').sort()).toEqual(['internal', 'session_revoked', 'token_expired', 'token_invalid', 'token_missing', 'unavailable']);
    expect(codes('POST /v1/auth/register').sort()).toEqual([
      'email_taken',
      'internal',
      'invalid_json',
      'payload_too_large',
      'rate_limited',
      'unavailable',
      'unsupported_media_type',
      'validation_failed',
      'weak_password',
    ]);
    expect(codes('POST /v1/auth/login')).toEqual(expect.arrayContaining(['invalid_credentials', 'rate_limited', 'forbidden']));
    expect(codes('DELETE /v1/me/sessions')).toContain('reauth_required');
    expect(codes('GET /healthz')).toEqual(['internal']);
  });

  it('has an example for every JSON body, and every example fits its schema', () => {
    let checked = 0;
    for (const { key, op } of operationsOf(resolved)) {
      const bodies = [
        ...Object.entries(op.requestBody?.content ?? {}).map(([type, media]) => ({ where: `${key} request (${type})`, type, media })),
        ...Object.entries(op.responses).flatMap(([status, response]) =>
          Object.entries(response.content ?? {}).map(([type, media]) => ({ where: `${key} ${status} (${type})`, type, media })),
        ),
      ];
      for (const { where, type, media } of bodies) {
        const examples = [...(media.example === undefined ? [] : [media.example]), ...Object.values(media.examples ?? {}).map((e) => e.value)];
        if (type.includes('json')) expect(examples.length, `${where} has an example`).toBeGreaterThan(0);
        for (const example of examples) {
          expectFits(media.schema, example, where);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('says which credentials each operation needs, as the server enforces them', async () => {
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearer', 'metricsToken', 'serviceKey']);
    for (const { key, method, path, op } of operationsOf(doc)) {
      const optional = op.security.some((requirement) => Object.keys(requirement).length === 0);
      if (optional) continue;
      // Path parameters get a value their patterns accept; no credentials are sent.
      const response = await t.app.inject({ method: method as 'GET', url: path.replace(/\{[^}]+\}/g, 'x') });
      const refused = response.statusCode === 401 && response.json().code === 'token_missing';
      expect(refused, `${key}: ${response.statusCode} ${response.body.slice(0, 120)}`).toBe(op.security.length > 0);
    }
  });

  it('is a page at /docs, with every operation, no script and the strict CSP', async () => {
    const response = await t.app.inject({ url: '/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
    expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(response.headers['x-frame-options']).toBe('DENY');
    const page = response.body;
    expect(page).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    for (const link of page.matchAll(/\s(?:href|src)="([^"]*)"/g)) expect(link[1], 'links stay on this server').toMatch(/^[#/][^/]/);
    for (const { key, op } of operationsOf(doc)) expect(page, key).toContain(`<article id="${op.operationId}">`);
    expect(page).toContain('<a href="#schema-TokenResponse">');

    const style = await t.app.inject({ url: '/docs/style.css' });
    expect(style.statusCode).toBe(200);
    expect(style.headers['content-type']).toMatch(/^text\/css/);
    expect(page).toContain('<link rel="stylesheet" href="/docs/style.css">');
  });
});

describe('the OpenAPI document at start', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('is built when the app becomes ready: a route without docs stops the start, naming the route', async () => {
    // An app put together as buildApp does it, with one route more that has no docs.
    const app = Fastify({ logger: false });
    const routes = collectRoutes(app);
    app.get('/v1/undocumented/:id', async () => ({ ok: true }));
    await app.register(openApiRoutes, { routes, publicUrl: 'http://localhost:3000' });
    await expect(app.ready()).rejects.toThrow(/The OpenAPI document is incomplete:\n- GET \/v1\/undocumented\/:id has no config\.docs/);
  });

  it('is ready before the first request, and the same for every request', async () => {
    t = await startTestGatehouse('sqlite', {}, { hasher: instantHasher() });
    await t.app.ready();
    const first = await t.app.inject({ url: '/openapi.json' });
    const second = await t.app.inject({ url: '/openapi.json' });
    expect(first.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
  });
});

describe('the components of the document', () => {
  it("are named by a schema's $id, which is left out of the component itself", () => {
    const refs = new SchemaRefs();
    const Thing = { $id: 'Thing', type: 'object', properties: { id: { type: 'string' } } };
    const Things = { type: 'object', properties: { things: { type: 'array', items: Thing } } };
    expect(refs.toJson(Things)).toEqual({ type: 'object', properties: { things: { type: 'array', items: { $ref: '#/components/schemas/Thing' } } } });
    expect(refs.components).toEqual({ Thing: { type: 'object', properties: { id: { type: 'string' } } } });
    expect(refs.inline(Thing)).toEqual({ type: 'object', properties: { id: { type: 'string' } } });
  });

  it('refuse two different schemas under one name, and a name a $ref cannot carry', () => {
    const refs = new SchemaRefs();
    refs.toJson({ $id: 'Thing', type: 'string' });
    expect(() => refs.toJson({ $id: 'Thing', type: 'integer' })).toThrow(/Two different schemas have the \$id "Thing"/);
    expect(() => refs.toJson({ $id: 'urn:gatehouse:Thing', type: 'string' })).toThrow(/cannot name an OpenAPI component/);
  });
});
