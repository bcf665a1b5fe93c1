import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../core/errors.js';
import type { ServiceContext } from '../../service/context.js';
import { introspectToken, revokeToken } from '../../service/oauth-tokens.js';
import { serviceAuthenticator } from '../plugins/service-auth.js';
import { IntrospectionResponse, OAuthTokenBody } from '../schemas.js';
import { clientInfo } from '../client-info.js';
import type { RouteDocs } from '../openapi/route-docs.js';

const FORMS = ['application/x-www-form-urlencoded', 'application/json'];

const REVOKE_DOCS: RouteDocs = {
  summary: 'Revoke a token (RFC 7009)',
  description:
    'Ends the session an access or refresh token belongs to, as signing out with it would. A token that is not a live one of ours changes nothing and is answered the same, so the endpoint reveals nothing about which tokens exist.',
  tags: ['services'],
  consumes: FORMS,
  errors: ['unavailable'],
  responses: {
    200: { description: 'Done, or nothing to do.', content: { 'application/json': { schema: { type: 'object', maxProperties: 0 }, example: {} } } },
  },
};

const INTROSPECT_DOCS: RouteDocs = {
  summary: 'Introspect a token (RFC 7662)',
  description:
    'Whether an access or refresh token is live, read from the database (a sign-out counts the moment it commits), and whose it is. Revoked, expired, spent, forged and unknown tokens all give exactly `{"active": false}`. Looking at a refresh token never spends it.',
  tags: ['services'],
  auth: 'service',
  consumes: FORMS,
  errors: ['unavailable'],
  responses: { 200: { description: "The token's state." } },
};

export interface OAuthRouteOptions {
  ctx: ServiceContext;
  serviceKeys: readonly string[];
}

/**
 * RFC 7009 revocation and RFC 7662 introspection. OAuth clients send these as HTML-form
 * bodies, so this plugin (and only it: encapsulation keeps the rest of the API JSON-only)
 * also reads application/x-www-form-urlencoded. A form can be posted cross-site, which is
 * harmless here: revoking needs the token itself, and introspection a service key in a header
 * that no form can set.
 */
export const oauthRoutes: FastifyPluginAsyncTypebox<OAuthRouteOptions> = async (app, { ctx, serviceKeys }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const params = new URLSearchParams(body as string);
    const fields: Record<string, string> = {};
    for (const [name, value] of params) {
      // RFC 6749 §3.1: a parameter sent twice makes the request invalid (which one is meant?).
      if (Object.hasOwn(fields, name)) {
        const pointer = `/body/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        return done(new GatehouseError('validation_failed', `${pointer} must appear only once`, [{ pointer, detail: 'must appear only once' }]));
      }
      fields[name] = value;
    }
    return done(null, fields);
  });

  app.post('/v1/oauth/revoke', { schema: { body: OAuthTokenBody }, config: { docs: REVOKE_DOCS } }, async (request, reply) => {
    await revokeToken(ctx, request.body.token, () => clientInfo(request, ctx.locator));
    // RFC 7009 §2.2: 200 whether or not the token existed; the body is ignored by clients.
    return reply.code(200).send({});
  });

  app.post(
    '/v1/oauth/introspect',
    {
      onRequest: serviceAuthenticator(serviceKeys),
      schema: { body: OAuthTokenBody, response: { 200: IntrospectionResponse } },
      config: { docs: INTROSPECT_DOCS },
    },
    async (request) => introspectToken(ctx, request.body.token),
  );
};
