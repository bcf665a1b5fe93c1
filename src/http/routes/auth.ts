import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError, isGatehouseError } from '../../core/errors.js';
import { sessionEndsAt } from '../../core/session-policy.js';
import type { SignedIn } from '../../service/sign-in.js';
import { assertSameOrigin, clearRefreshCookie, readRefreshCookie, setRefreshCookie, wantsBrowserMode } from '../browser-cookie.js';
import { hasTokenInQuery } from '../bearer.js';
import { browserLogout } from '../browser-logout.js';
import { statusOf } from '../problem.js';
import { register } from '../../service/register.js';
import { refresh, signOutWithRefreshToken } from '../../service/refresh.js';
import { signOut } from '../../service/sessions.js';
import { reauthenticate, signIn } from '../../service/sign-in.js';
import { clientInfo } from '../client-info.js';
import { presentSignIn, presentUser } from '../present.js';
import { LoginBody, LogoutBody, ReauthBody, RefreshBody, RegisterBody, TokenResponse, UserResponse } from '../schemas.js';
import type { RouteOptions } from './route-options.js';
import { callerOf } from '../plugins/authenticate.js';
import type { RouteDocs } from '../openapi/route-docs.js';

const BROWSER_MODE: RouteDocs['headers'] = {
  'Gatehouse-Refresh-Token': {
    description:
      "`cookie`: browser mode. The refresh token travels in an HttpOnly cookie, never in a body; the request must come from Gatehouse's own origin (`Sec-Fetch-Site` or `Origin`), else `forbidden`.",
    schema: Type.Literal('cookie'),
  },
};
const SET_COOKIE = { 'Set-Cookie': 'Browser mode only: the refresh token, HttpOnly, SameSite=Lax, for as long as the session can live.' };

/**
 * /v1/auth: becoming a user, signing in and out, proving the password again. Login, refresh and
 * logout also speak browser mode (browser-cookie.ts): the refresh token in an HttpOnly cookie.
 */
export const authRoutes: FastifyPluginAsyncTypebox<RouteOptions & { publicUrl: string }> = async (app, { ctx, authenticate, publicUrl }) => {
  const client = (request: FastifyRequest) => clientInfo(request, ctx.locator);

  /** The sign-in as browser mode answers it: the refresh token goes into the cookie, never the body. */
  const inCookie = (request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn) => {
    const { refresh_token: _kept, ...response } = presentSignIn(signedIn);
    setRefreshCookie(reply, request, publicUrl, signedIn.refreshToken, (sessionEndsAt(signedIn.session) - ctx.clock.now()) / 1000);
    return response;
  };

  const registerDocs: RouteDocs = {
    summary: 'Create an account',
    description:
      'The password must be long enough (`GATEHOUSE_PASSWORD_MIN_LENGTH`, 8 by default) and not on the blocklist of common passwords, nor made of runs, repeats or keyboard walks (`123456789012`, `aaaaaaaaaaaa`). Sign in next. Registrations are limited per client address (`GATEHOUSE_REGISTER_IP_MAX` per 15 minutes: `rate_limited`, with `Retry-After`).',
    tags: ['auth'],
    errors: ['email_taken', 'weak_password', 'rate_limited', 'unavailable'],
    responses: { 201: { description: 'The account was created.' } },
  };
  app.post('/v1/auth/register', { schema: { body: RegisterBody, response: { 201: UserResponse } }, config: { docs: registerDocs } }, async (request, reply) => {
    const user = await register(ctx, request.body, clientInfo(request, ctx.locator));
    return reply.code(201).send({ user: presentUser(user) });
  });

  const loginDocs: RouteDocs = {
    summary: 'Sign in',
    description:
      'Starts a session on this device. Wrong passwords are limited per account and per address (`rate_limited`, with `Retry-After`); an unknown email, a wrong password and a disabled account get the same `invalid_credentials`.',
    tags: ['auth'],
    headers: BROWSER_MODE,
    errors: ['invalid_credentials', 'forbidden', 'rate_limited', 'unavailable'],
    responses: { 200: { description: 'Signed in: an access token, a refresh token (not in browser mode), the session and the user.', headers: SET_COOKIE } },
  };
  app.post('/v1/auth/login', { schema: { body: LoginBody, response: { 200: TokenResponse } }, config: { docs: loginDocs } }, async (request, reply) => {
    if (!wantsBrowserMode(request)) return presentSignIn(await signIn(ctx, request.body, client(request)));
    // Login CSRF too: another site must not sign the browser in to an account of its choosing.
    assertSameOrigin(request, publicUrl);
    return inCookie(request, reply, await signIn(ctx, request.body, client(request)));
  });

  const refreshDocs: RouteDocs = {
    summary: 'Exchange a refresh token for new tokens',
    description:
      'Spends the refresh token and returns the next one with a new access token. A token spent once already ends the session (`refresh_token_reused`): two parties hold it. In browser mode the body must be empty and the token comes from the cookie.',
    tags: ['auth'],
    headers: BROWSER_MODE,
    errors: ['invalid_refresh_token', 'refresh_token_reused', 'session_revoked', 'session_expired', 'forbidden', 'unavailable'],
    responses: {
      200: { description: 'New tokens for the same session.', headers: SET_COOKIE },
      204: { description: 'Browser mode, and the browser holds no refresh cookie: it is not signed in.' },
    },
  };
  app.post(
    '/v1/auth/refresh',
    { schema: { body: RefreshBody, response: { 200: TokenResponse, 204: Type.Null() } }, config: { docs: refreshDocs } },
    async (request, reply) => {
      // The client is only described (user agent parsed, address located) if an event needs it.
      const describe = () => client(request);
      if (!wantsBrowserMode(request)) {
        if (!request.body)
          throw new GatehouseError('validation_failed', 'Send {"refresh_token": …}.', [{ pointer: '/body/refresh_token', detail: 'is required' }]);
        return presentSignIn(await refresh(ctx, request.body.refresh_token, describe));
      }
      assertSameOrigin(request, publicUrl);
      if (request.body)
        throw new GatehouseError('validation_failed', 'In browser mode the refresh token comes from the cookie; send no body.', [
          { pointer: '/body', detail: 'must be empty' },
        ]);
      const token = readRefreshCookie(request, publicUrl);
      // No cookie: this browser is not signed in, which is how every visit of a signed-out page
      // starts, not an error (a 401 would be one in every visitor's console).
      if (!token) return reply.code(204).send(null);
      try {
        return inCookie(request, reply, await refresh(ctx, token, describe));
      } catch (error) {
        // A cookie that can never work again (signed out, expired, reused) goes, so the page
        // shows its sign-in form instead of retrying it; a passing 503 leaves it alone. So does
        // `invalid_refresh_token`: it is also what a tab gets whose request left with a cookie that
        // other tabs have since rotated twice (docs/session-model.md), and by the time it arrives
        // the browser holds their newer cookie — clearing it would sign every tab out.
        if (isGatehouseError(error) && statusOf(error.code) === 401 && error.code !== 'invalid_refresh_token') clearRefreshCookie(reply, request, publicUrl);
        throw error;
      }
    },
  );

  // With a Bearer token, ends that session; without one, the refresh token in the body says
  // which (clients whose access token has expired can still sign out).
  const logoutInBrowser = browserLogout(ctx, authenticate, publicUrl);
  const logoutDocs: RouteDocs = {
    summary: 'Sign out',
    description:
      'Ends the session of the access token, or, without one, of the refresh token in the body (or, in browser mode, in the cookie). Its access tokens are refused from the next request on. ' +
      "In browser mode an access token, when sent, decides which session ends, and the cookie never ends another: the cookie is cleared when it belongs to that session or can no longer be used (malformed, or its session revoked or expired); a live cookie of another session (another tab's sign-in) is left alone. " +
      "An access token that is refused (expired, invalid, its session already over) but names the cookie's session signs out through the cookie; any other refused one gets the answer it gets outside browser mode.",
    tags: ['auth'],
    auth: 'optional-bearer',
    headers: BROWSER_MODE,
    errors: ['invalid_refresh_token', 'refresh_token_reused', 'session_revoked', 'forbidden', 'unavailable'],
    responses: {
      204: {
        description: 'Signed out.',
        headers: { 'Set-Cookie': 'Browser mode only: clears the refresh cookie, unless it is a live one of another session.' },
      },
    },
  };
  app.post('/v1/auth/logout', { schema: { body: LogoutBody }, config: { docs: logoutDocs } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (wantsBrowserMode(request)) {
      // Which session the cookie may end when a Bearer is there too: browser-logout.ts.
      await logoutInBrowser(request, reply);
      return reply.code(204).send();
    }
    if (request.headers.authorization !== undefined || hasTokenInQuery(query)) {
      await authenticate(request, reply);
      await signOut(ctx, callerOf(request), clientInfo(request, ctx.locator));
    } else if (request.body?.refresh_token !== undefined) {
      await signOutWithRefreshToken(ctx, request.body.refresh_token, () => clientInfo(request, ctx.locator));
    } else {
      throw new GatehouseError('token_missing', 'Send an access token in an Authorization: Bearer header, or {"refresh_token": …}.');
    }
    return reply.code(204).send();
  });

  const reauthDocs: RouteDocs = {
    summary: 'Prove the password again',
    description: 'Marks the session as freshly authenticated, which signing out every other session requires (`reauth_required`).',
    tags: ['auth'],
    auth: 'bearer',
    errors: ['invalid_credentials', 'rate_limited'],
    responses: { 204: { description: 'The session is freshly authenticated.' } },
  };
  app.post('/v1/auth/reauth', { onRequest: authenticate, schema: { body: ReauthBody }, config: { docs: reauthDocs } }, async (request, reply) => {
    await reauthenticate(ctx, callerOf(request), request.body.password, clientInfo(request, ctx.locator));
    return reply.code(204).send();
  });
};
