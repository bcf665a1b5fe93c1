import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listSessions, revokeAllSessions, revokeOwnSession } from '../../service/sessions.js';
import { clientInfo } from '../client-info.js';
import { callerOf } from '../plugins/authenticate.js';
import { presentSession } from '../present.js';
import { RevokedResponse, RevokeSessionsQuery, SessionParams, SessionsResponse } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

/** /v1/me/sessions: where the account is signed in, and signing out any of it. */
export const sessionRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  app.addHook('onRequest', authenticate);

  app.get('/v1/me/sessions', { schema: { response: { 200: SessionsResponse } } }, async (request) => {
    const caller = callerOf(request);
    const sessions = await listSessions(ctx, caller);
    return { sessions: sessions.map((s) => presentSession(s, caller.sessionId)) };
  });

  app.delete('/v1/me/sessions/:id', { schema: { params: SessionParams } }, async (request, reply) => {
    await revokeOwnSession(ctx, callerOf(request), request.params.id, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });

  app.delete('/v1/me/sessions', { schema: { querystring: RevokeSessionsQuery, response: { 200: RevokedResponse } } }, async (request) => {
    return { revoked: await revokeAllSessions(ctx, callerOf(request), request.query.scope, clientInfo(request, ctx.locator)) };
  });
};
