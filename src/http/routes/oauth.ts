import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../core/errors.js';
import type { ServiceContext } from '../../service/context.js';
import { introspectToken, revokeToken } from '../../service/oauth-tokens.js';
import { serviceAuthenticator } from '../plugins/service-auth.js';
import { IntrospectionResponse, OAuthTokenBody } from '../schemas.js';
import { clientInfo } from '../client-info.js';

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

  app.post('/v1/oauth/revoke', { schema: { body: OAuthTokenBody } }, async (request, reply) => {
    await revokeToken(ctx, request.body.token, () => clientInfo(request, ctx.locator));
    // RFC 7009 §2.2: 200 whether or not the token existed; the body is ignored by clients.
    return reply.code(200).send({});
  });

  app.post(
    '/v1/oauth/introspect',
    { onRequest: serviceAuthenticator(serviceKeys), schema: { body: OAuthTokenBody, response: { 200: IntrospectionResponse } } },
    async (request) => introspectToken(ctx, request.body.token),
  );
};
