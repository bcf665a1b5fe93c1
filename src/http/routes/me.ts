import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../core/errors.js';
import { changePassword } from '../../service/change-password.js';
import { clientInfo } from '../client-info.js';
import { callerOf } from '../plugins/authenticate.js';
import { presentUser } from '../present.js';
import { PasswordChangeBody, UserResponse } from '../schemas.js';
import type { RouteOptions } from './route-options.js';
import type { RouteDocs } from '../openapi/route-docs.js';

/** /v1/me: the signed-in user's own account. */
export const meRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  app.addHook('onRequest', authenticate);

  const meDocs: RouteDocs = { summary: 'The signed-in user', tags: ['account'], auth: 'bearer', responses: { 200: { description: 'The account.' } } };
  app.get('/v1/me', { schema: { response: { 200: UserResponse } }, config: { docs: meDocs } }, async (request) => {
    const user = await ctx.store.findUserById(callerOf(request).userId);
    // The session was valid a moment ago; its user can only be gone if deleted in between.
    if (!user) throw new GatehouseError('session_revoked', 'This session has ended.');
    return { user: presentUser(user) };
  });

  const passwordDocs: RouteDocs = {
    summary: 'Change the password',
    description:
      'Needs the current password (limited as sign-in is: `rate_limited`), and signs out every other session: a password change is what people do when they fear someone else is in their account.',
    tags: ['account'],
    auth: 'bearer',
    errors: ['weak_password', 'invalid_credentials', 'rate_limited'],
    responses: { 204: { description: 'Changed; every other session has ended.' } },
  };
  app.post('/v1/me/password', { schema: { body: PasswordChangeBody }, config: { docs: passwordDocs } }, async (request, reply) => {
    const { current_password: currentPassword, new_password: newPassword } = request.body;
    await changePassword(ctx, callerOf(request), { currentPassword, newPassword }, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });
};
