import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../core/errors.js';
import { register } from '../../service/register.js';
import { refresh, signOutWithRefreshToken } from '../../service/refresh.js';
import { signOut } from '../../service/sessions.js';
import { reauthenticate, signIn } from '../../service/sign-in.js';
import { clientInfo } from '../client-info.js';
import { presentSignIn, presentUser } from '../present.js';
import { LoginBody, LogoutBody, ReauthBody, RefreshBody, RegisterBody, TokenResponse, UserResponse } from '../schemas.js';
import type { RouteOptions } from './route-options.js';
import { callerOf } from '../plugins/authenticate.js';

/** /v1/auth: becoming a user, signing in and out, proving the password again. */
export const authRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  app.post('/v1/auth/register', { schema: { body: RegisterBody, response: { 201: UserResponse } } }, async (request, reply) => {
    const user = await register(ctx, request.body, clientInfo(request, ctx.locator));
    return reply.code(201).send({ user: presentUser(user) });
  });

  app.post('/v1/auth/login', { schema: { body: LoginBody, response: { 200: TokenResponse } } }, async (request) => {
    return presentSignIn(await signIn(ctx, request.body, clientInfo(request, ctx.locator)));
  });

  app.post('/v1/auth/refresh', { schema: { body: RefreshBody, response: { 200: TokenResponse } } }, async (request) => {
    // The client is only described (user agent parsed, address located) if an event needs it.
    return presentSignIn(await refresh(ctx, request.body.refresh_token, () => clientInfo(request, ctx.locator)));
  });

  // With a Bearer token, ends that session; without one, the refresh token in the body says
  // which (clients whose access token has expired can still sign out).
  app.post('/v1/auth/logout', { schema: { body: LogoutBody } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (request.headers.authorization !== undefined || Object.hasOwn(query, 'access_token')) {
      await authenticate(request, reply);
      await signOut(ctx, callerOf(request), clientInfo(request, ctx.locator));
    } else if (request.body?.refresh_token !== undefined) {
      await signOutWithRefreshToken(ctx, request.body.refresh_token, () => clientInfo(request, ctx.locator));
    } else {
      throw new GatehouseError('token_missing', 'Send an access token in an Authorization: Bearer header, or {"refresh_token": …}.');
    }
    return reply.code(204).send();
  });

  app.post('/v1/auth/reauth', { onRequest: authenticate, schema: { body: ReauthBody } }, async (request, reply) => {
    await reauthenticate(ctx, callerOf(request), request.body.password, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });
};
