import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../core/errors.js';
import { changePassword } from '../../service/change-password.js';
import { clientInfo } from '../client-info.js';
import { callerOf } from '../plugins/authenticate.js';
import { presentUser } from '../present.js';
import { PasswordChangeBody, UserResponse } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

/** /v1/me: the signed-in user's own account. */
export const meRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  app.addHook('onRequest', authenticate);

  app.get('/v1/me', { schema: { response: { 200: UserResponse } } }, async (request) => {
    const user = await ctx.store.findUserById(callerOf(request).userId);
    // The session was valid a moment ago; its user can only be gone if deleted in between.
    if (!user) throw new GatehouseError('session_revoked', 'This session has ended.');
    return { user: presentUser(user) };
  });

  app.post('/v1/me/password', { schema: { body: PasswordChangeBody } }, async (request, reply) => {
    const { current_password: currentPassword, new_password: newPassword } = request.body;
    await changePassword(ctx, callerOf(request), { currentPassword, newPassword }, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });
};
