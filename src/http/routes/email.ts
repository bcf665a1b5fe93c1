import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { cancelEmailChange, confirmEmailChange, requestEmailChange } from '../../service/email-change.js';
import { confirmVerification, requestVerification, resendVerification } from '../../service/email-verification.js';
import { clientInfo } from '../client-info.js';
import type { RouteDocs } from '../openapi/route-docs.js';
import { callerOf } from '../plugins/authenticate.js';
import { Accepted, EmailChangeBody, EmailVerificationBody, LinkTokenBody } from '../schemas.js';
import type { RouteOptions } from './route-options.js';

/** The same words for every address asked about: nothing in the answer tells an account apart from none. */
export const VERIFICATION_ACCEPTED = 'If this address belongs to an account that still has to confirm it, a new link is on its way. It works for 24 hours.';

/**
 * The account's address: proving it (verification) and changing it (with the old address's way
 * back). Registered only when mail is on; otherwise these paths answer 404.
 */
export const emailRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  const requestVerificationDocs: RouteDocs = {
    summary: 'Ask for a new verification link',
    description:
      'Mails a new link to `/verify-email#token=…` if the address has an account whose address is not yet verified; the answer is the same, byte for byte, whatever the case. What the sign-in form offers after `email_not_verified`. Limited per client address as password reset is (`GATEHOUSE_PASSWORD_RESET_IP_MAX` per 15 minutes: `rate_limited`). Each address gets at most 5 messages a stranger can cause an hour (resets and verifications together); past that nothing is sent and the answer stays the same.',
    tags: ['auth'],
    errors: ['rate_limited', 'unavailable'],
    responses: { 202: { description: 'Accepted: a link is on its way if the address needs one.' } },
  };
  app.post(
    '/v1/auth/email-verification',
    { schema: { body: EmailVerificationBody, response: { 202: Accepted } }, config: { docs: requestVerificationDocs } },
    async (request, reply) => {
      await requestVerification(ctx, request.body, clientInfo(request, ctx.locator));
      return reply.code(202).send({ detail: VERIFICATION_ACCEPTED });
    },
  );

  const confirmVerificationDocs: RouteDocs = {
    summary: 'Confirm an address with its verification link',
    description:
      "Marks the account's address verified (`email_verified` in `/v1/me`, the admin API and access tokens issued from now on) with the token from the link's fragment. A link works once, for 24 hours, only the newest works, and only while the account still has the address it went to.",
    tags: ['auth'],
    errors: ['link_invalid', 'link_used', 'link_expired', 'unavailable'],
    responses: { 204: { description: 'The address is verified.' } },
  };
  app.post('/v1/auth/email-verification/confirm', { schema: { body: LinkTokenBody }, config: { docs: confirmVerificationDocs } }, async (request, reply) => {
    await confirmVerification(ctx, request.body.token);
    return reply.code(204).send();
  });

  const resendDocs: RouteDocs = {
    summary: 'Send me a new verification link',
    description:
      "Mails a new verification link to the signed-in account's address; earlier links stop working. Limited to 5 such messages an address an hour (`rate_limited`).",
    tags: ['account'],
    auth: 'bearer',
    errors: ['rate_limited'],
    responses: { 202: { description: 'A link is on its way, or the address is verified already (the `detail` says which).' } },
  };
  app.post(
    '/v1/me/email-verification',
    { onRequest: authenticate, schema: { response: { 202: Accepted } }, config: { docs: resendDocs } },
    async (request, reply) => {
      const sent = await resendVerification(ctx, callerOf(request));
      return reply.code(202).send({ detail: sent ? 'A new link is on its way to your address. It works for 24 hours.' : 'Your address is verified already.' });
    },
  );

  const changeDocs: RouteDocs = {
    summary: 'Change my email address',
    description:
      'Needs the password (limited as sign-in is). Mails a confirmation link (`/confirm-email-change#token=…`, valid 24 hours) to the new address and a notice to the current one; the address changes only when the new one confirms. The notice carries a link (`/cancel-email-change#token=…`, valid 7 days) that cancels the change, or undoes it if it has happened, and signs out every session: what the owner does when someone else asked. `email_taken` when another account has the address.',
    tags: ['account'],
    auth: 'bearer',
    errors: ['invalid_credentials', 'email_taken', 'rate_limited'],
    responses: { 202: { description: 'The links are on their way; nothing has changed yet.' } },
  };
  app.post(
    '/v1/me/email',
    { onRequest: authenticate, schema: { body: EmailChangeBody, response: { 202: Accepted } }, config: { docs: changeDocs } },
    async (request, reply) => {
      await requestEmailChange(ctx, callerOf(request), request.body, clientInfo(request, ctx.locator));
      return reply
        .code(202)
        .send({ detail: `A link to confirm the new address is on its way to ${request.body.email.trim()}. Until it is used, your address stays as it is.` });
    },
  );

  const confirmChangeDocs: RouteDocs = {
    summary: 'Confirm a new email address',
    description:
      "With the token from the link mailed to the new address: it becomes the account's address, verified; links sent to the old one stop working. `email_taken` (nothing changes) when another account took the address meanwhile.",
    tags: ['auth'],
    errors: ['email_taken', 'link_invalid', 'link_used', 'link_expired', 'unavailable'],
    responses: { 204: { description: 'The address is changed.' } },
  };
  app.post('/v1/auth/email-change/confirm', { schema: { body: LinkTokenBody }, config: { docs: confirmChangeDocs } }, async (request, reply) => {
    await confirmEmailChange(ctx, request.body.token);
    return reply.code(204).send();
  });

  const cancelDocs: RouteDocs = {
    summary: 'Cancel an email change: "this wasn\'t me"',
    description:
      'With the token from the notice mailed to the old address: the change is cancelled, or undone if it happened (unless another account has taken the old address since), every pending link of the account stops working, and every session of the account ends on every node at once (reason `email_change_cancelled`). Choose a new password next.',
    tags: ['auth'],
    errors: ['link_invalid', 'link_used', 'link_expired', 'unavailable'],
    responses: { 204: { description: 'Cancelled; every session has ended.' } },
  };
  app.post('/v1/auth/email-change/cancel', { schema: { body: LinkTokenBody }, config: { docs: cancelDocs } }, async (request, reply) => {
    await cancelEmailChange(ctx, request.body.token, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });
};
