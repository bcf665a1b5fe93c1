import type { ErrorCode } from '../../core/errors.js';

/** A JSON Schema: a TypeBox schema or a plain object (TypeBox's types have no index signature). */
export type JsonSchema = object;

/**
 * Who may call a route: a user's access token, a service key, the metrics token. `optional-bearer`:
 * an access token is one way in, not the only one (logout also takes a refresh token).
 */
export type RouteAuth = 'bearer' | 'service' | 'metrics' | 'optional-bearer';

export interface MediaDoc {
  schema: JsonSchema;
  example?: unknown;
}

export interface ResponseDoc {
  description: string;
  /** The example of the JSON body that `schema.response` declares for this status. */
  example?: unknown;
  /**
   * Bodies that `schema.response` does not declare, by media type: HTML, event streams, and JSON
   * whose shape is better left unenforced (see `RouteDocs`).
   */
  content?: Readonly<Record<string, MediaDoc>>;
  /** Response headers worth a client's attention, name → description. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * What the OpenAPI document says of a route beyond its schemas, kept in the route's
 * `config.docs` beside the route itself. Request schemas come from the route's `schema`;
 * success bodies from `schema.response` where the route declares one.
 *
 * Why not always `schema.response`: Fastify serialises with it and silently drops fields it
 * does not list. Where a body is not ours to fix (the JWKS keys of jose, the text of an HTML
 * page, an event stream), declaring it there would change what is sent; `content` documents
 * such a body without driving serialisation, and the contract test (test/http/openapi.test.ts)
 * checks real answers against it instead.
 */
export interface RouteDocs {
  summary: string;
  description?: string;
  tags: readonly string[];
  auth?: RouteAuth;
  /**
   * Codes the route answers as problem+json beyond those its schemas and `auth` imply (bad
   * input, a missing or bad token: see error-codes.ts, which also adds `internal` everywhere).
   */
  errors?: readonly ErrorCode[];
  /** Codes the route answers with an HTML page instead (links opened from a mail). */
  pages?: readonly ErrorCode[];
  /** Request headers the route reads that no schema declares, name → what they do. */
  headers?: Readonly<Record<string, { description: string; schema: JsonSchema }>>;
  /** Media types of the body, when not only `application/json`. */
  consumes?: readonly string[];
  requestExample?: unknown;
  /** Every success status: from `schema.response` and any that only `content` describes. */
  responses: Readonly<Record<number, ResponseDoc>>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    docs?: RouteDocs;
  }
}
