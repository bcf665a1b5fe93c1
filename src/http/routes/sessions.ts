import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listSessions, revokeAllSessions, revokeOwnSession } from '../../service/sessions.js';
import { clientInfo } from '../client-info.js';
import { callerOf } from '../plugins/authenticate.js';
import { presentSession } from '../present.js';
import { RevokedResponse, RevokeSessionsQuery, SessionParams, SessionsResponse } from '../schemas.js';
import type { RouteOptions } from './route-options.js';
import type { RouteDocs } from '../openapi/route-docs.js';

/** /v1/me/sessions: where the account is signed in, and signing out any of it. */
export const sessionRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  app.addHook('onRequest', authenticate);

  const listDocs: RouteDocs = {
    summary: 'Where the account is signed in',
    description: "Every active session, with its device, address and country; `current` marks the caller's own.",
    tags: ['account'],
    auth: 'bearer',
    responses: { 200: { description: 'The active sessions, most recently active first.' } },
  };
  app.get('/v1/me/sessions', { schema: { response: { 200: SessionsResponse } }, config: { docs: listDocs } }, async (request) => {
    const caller = callerOf(request);
    const sessions = await listSessions(ctx, caller);
    return { sessions: sessions.map((s) => presentSession(s, caller.sessionId)) };
  });

  const revokeOneDocs: RouteDocs = {
    summary: 'Sign out one session',
    description: "Any session of the account, the caller's own included. A session of another account is `not_found`, as an unknown id is.",
    tags: ['account'],
    auth: 'bearer',
    errors: ['not_found'],
    responses: { 204: { description: 'Signed out; its access tokens are refused from the next request on.' } },
  };
  app.delete('/v1/me/sessions/:id', { schema: { params: SessionParams }, config: { docs: revokeOneDocs } }, async (request, reply) => {
    await revokeOwnSession(ctx, callerOf(request), request.params.id, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });

  const revokeAllDocs: RouteDocs = {
    summary: 'Sign out every other session, or all',
    description: "`scope=others` keeps the caller's session, `scope=all` ends it too. Needs a recent sign-in or `POST /v1/auth/reauth` (`reauth_required`).",
    tags: ['account'],
    auth: 'bearer',
    errors: ['reauth_required'],
    responses: { 200: { description: 'How many sessions were signed out.' } },
  };
  app.delete(
    '/v1/me/sessions',
    { schema: { querystring: RevokeSessionsQuery, response: { 200: RevokedResponse } }, config: { docs: revokeAllDocs } },
    async (request) => {
      return { revoked: await revokeAllSessions(ctx, callerOf(request), request.query.scope, clientInfo(request, ctx.locator)) };
    },
  );
};
