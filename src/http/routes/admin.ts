import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireAdmin, requireRecentSignIn, type AdminActor } from '../../service/admin.js';
import { activityOf, revokeAllSessionsOf, revokeSessionOf, sessionsOf } from '../../service/admin-sessions.js';
import { disableUser, enableUser, findUsers, getUser, sendPasswordReset } from '../../service/admin-users.js';
import { callerOf } from '../plugins/authenticate.js';
import { presentAdminUser, presentEvent, presentSession } from '../present.js';
import {
  ActivityQuery,
  ActivityResponse,
  AdminActionBody,
  AdminSessionParams,
  AdminUserParams,
  AdminUserResponse,
  AdminUsersQuery,
  AdminUsersResponse,
  RevokedResponse,
  SessionsResponse,
} from '../schemas.js';
import { eventTypes } from './activity.js';
import { ADMIN_DOCS } from './admin-docs.js';
import type { RouteOptions } from './route-options.js';

/**
 * /v1/admin/…: finding accounts and acting on them, for users whose role is `admin` (anyone
 * else signed in gets 403 `forbidden`). Disabling, signing out all sessions and sending a reset
 * link also need a recent sign-in (`requireRecentSignIn`). Role changes and account creation are
 * not here, only in the CLI on the server (service/admin-users.ts says why); nor is setting
 * someone's password: an administrator can only mail them a reset link.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  app.addHook('onRequest', authenticate);
  // Before the request is parsed or validated: someone who is not an administrator learns
  // nothing of what these routes accept, only that they are not for them.
  app.addHook('onRequest', async (request) => {
    await requireAdmin(ctx, callerOf(request));
  });
  const actor = (request: FastifyRequest): AdminActor => ({ kind: 'admin', userId: callerOf(request).userId, ip: request.ip });

  app.get(
    '/v1/admin/users',
    { config: { docs: ADMIN_DOCS.findUsers }, schema: { querystring: AdminUsersQuery, response: { 200: AdminUsersResponse } } },
    async (request) => {
      const { email, limit = '20', cursor } = request.query;
      const page = await findUsers(ctx, { email, limit: Number(limit), cursor });
      return { users: page.users.map(presentAdminUser), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/users/:id',
    { config: { docs: ADMIN_DOCS.getUser }, schema: { params: AdminUserParams, response: { 200: AdminUserResponse } } },
    async (request) => ({ user: presentAdminUser(await getUser(ctx, request.params.id)) }),
  );

  app.get(
    '/v1/admin/users/:id/sessions',
    { config: { docs: ADMIN_DOCS.listSessions }, schema: { params: AdminUserParams, response: { 200: SessionsResponse } } },
    async (request) => {
      const sessions = await sessionsOf(ctx, request.params.id);
      return { sessions: sessions.map((s) => presentSession(s, callerOf(request).sessionId)) };
    },
  );

  app.get(
    '/v1/admin/users/:id/activity',
    { config: { docs: ADMIN_DOCS.activity }, schema: { params: AdminUserParams, querystring: ActivityQuery, response: { 200: ActivityResponse } } },
    async (request) => {
      const { limit = '20', cursor, type } = request.query;
      const page = await activityOf(ctx, request.params.id, { limit: Number(limit), cursor, types: type === undefined ? undefined : eventTypes(type) });
      return { events: page.events.map((e) => presentEvent(e, callerOf(request).sessionId)), next_cursor: page.nextCursor };
    },
  );

  app.delete(
    '/v1/admin/users/:id/sessions/:session_id',
    { config: { docs: ADMIN_DOCS.revokeSession }, schema: { params: AdminSessionParams } },
    async (request, reply) => {
      await revokeSessionOf(ctx, actor(request), request.params.id, request.params.session_id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/admin/users/:id/sessions',
    { config: { docs: ADMIN_DOCS.revokeAllSessions }, schema: { params: AdminUserParams, response: { 200: RevokedResponse } } },
    async (request) => {
      await requireRecentSignIn(ctx, callerOf(request));
      return { revoked: await revokeAllSessionsOf(ctx, actor(request), request.params.id) };
    },
  );

  app.post(
    '/v1/admin/users/:id/disable',
    { config: { docs: ADMIN_DOCS.disable }, schema: { params: AdminUserParams, body: AdminActionBody, response: { 200: AdminUserResponse } } },
    async (request) => {
      await requireRecentSignIn(ctx, callerOf(request));
      return { user: presentAdminUser((await disableUser(ctx, actor(request), request.params.id)).user) };
    },
  );

  app.post(
    '/v1/admin/users/:id/enable',
    { config: { docs: ADMIN_DOCS.enable }, schema: { params: AdminUserParams, body: AdminActionBody, response: { 200: AdminUserResponse } } },
    async (request) => ({ user: presentAdminUser((await enableUser(ctx, actor(request), request.params.id)).user) }),
  );

  // Like the public reset routes, only with mail on: otherwise the path answers 404.
  if (ctx.mail !== undefined) {
    app.post(
      '/v1/admin/users/:id/password-reset',
      { config: { docs: ADMIN_DOCS.sendPasswordReset }, schema: { params: AdminUserParams, body: AdminActionBody, response: { 202: AdminUserResponse } } },
      async (request, reply) => {
        // It acts on someone else's account (mails them, voids the link they may be using): as for
        // disabling, a stolen token or an unattended laptop alone must not be enough.
        await requireRecentSignIn(ctx, callerOf(request));
        const user = await sendPasswordReset(ctx, actor(request), request.params.id);
        return reply.code(202).send({ user: presentAdminUser(user) });
      },
    );
  }
};
