import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { confirmPasswordReset, requestPasswordReset } from '../../service/password-reset.js';
import { clientInfo } from '../client-info.js';
import type { RouteDocs } from '../openapi/route-docs.js';
import { PASSWORD_RESET_ACCEPTED, PasswordResetAccepted, PasswordResetBody, PasswordResetConfirmBody } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

/**
 * /v1/auth/password-reset: getting back into an account by email. Registered only when mail is
 * on (GATEHOUSE_MAIL is not `off`); otherwise these paths answer 404, as the page expects.
 */
export const passwordResetRoutes: FastifyPluginAsyncTypebox<Pick<RouteOptions, 'ctx'>> = async (app, { ctx }) => {
  const requestDocs: RouteDocs = {
    summary: 'Ask for a password-reset link',
    description:
      "Mails a link to `/reset-password#token=…` on Gatehouse's page, valid 30 minutes, if the address has an account that is not disabled. The answer is the same, byte for byte, whether or not it has one: nothing here tells an account apart from none. Only the newest link works, and a sign-in or a password change voids it. " +
      'Each address gets at most 5 such messages an hour, whatever the number of requests; past that the answer stays the same and nothing is sent. Requests are limited per client address (`GATEHOUSE_PASSWORD_RESET_IP_MAX` per 15 minutes: `rate_limited`, with `Retry-After`).',
    tags: ['auth'],
    errors: ['rate_limited', 'unavailable'],
    responses: { 202: { description: 'Accepted: a link is on its way if the address has an account.' } },
  };
  app.post(
    '/v1/auth/password-reset',
    { schema: { body: PasswordResetBody, response: { 202: PasswordResetAccepted } }, config: { docs: requestDocs } },
    async (request, reply) => {
      await requestPasswordReset(ctx, request.body, clientInfo(request, ctx.locator));
      return reply.code(202).send({ detail: PASSWORD_RESET_ACCEPTED });
    },
  );

  const confirmDocs: RouteDocs = {
    summary: 'Choose a new password with a reset link',
    description:
      "Sets the new password (the same rules as at registration) with the token from the link's fragment, and ends every session of the account on every node at once (reason `password_reset`): whoever was signed in, on any device, is out. A link works once (`link_used`), for 30 minutes, and not after a newer link, a sign-in or a password change (`link_expired`). It also proves the address. Sign in with the new password next; a mail tells the account's address that the password was changed.",
    tags: ['auth'],
    errors: ['weak_password', 'link_invalid', 'link_used', 'link_expired', 'unavailable'],
    responses: { 204: { description: 'The password was changed and every session ended.' } },
  };
  app.post('/v1/auth/password-reset/confirm', { schema: { body: PasswordResetConfirmBody }, config: { docs: confirmDocs } }, async (request, reply) => {
    await confirmPasswordReset(ctx, { token: request.body.token, newPassword: request.body.new_password }, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });
};
