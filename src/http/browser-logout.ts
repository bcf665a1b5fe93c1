import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { isGatehouseError } from '../core/errors.js';
import { parseRefreshToken } from '../core/refresh-token.js';
import type { ServiceContext } from '../service/context.js';
import { hasRefreshTokenEnded, signOutWithRefreshToken } from '../service/refresh.js';
import { signOut } from '../service/sessions.js';
import { readBearer } from './bearer.js';
import { assertSameOrigin, clearRefreshCookie, readRefreshCookie } from './browser-cookie.js';
import { clientInfo } from './client-info.js';
import { callerOf, type Authenticate } from './plugins/authenticate.js';
import { statusOf } from './problem.js';

/**
 * `POST /v1/auth/logout` in browser mode. The tabs of a browser share one refresh cookie but
 * each holds its own access token: once Ann has signed in in one tab and Bob in another, the
 * cookie is Bob's while Ann's tab still holds Ann's token. So a Bearer token, when there is one,
 * says which session ends, and the cookie is never used to end any other:
 *
 * - no Bearer: the cookie's session ends and the cookie is cleared (the page lost its token);
 * - an accepted Bearer: its session ends; the cookie is cleared if it is that session's or can
 *   never work again (malformed, revoked, expired); a live cookie of another session stays;
 * - a refused Bearer (expired, invalid, its session over) that names the cookie's session: as
 *   without a Bearer;
 * - any other refused Bearer: the answer it gets without browser mode (a session already over
 *   is `401 session_revoked`), and the cookie is cleared only if it can never work again.
 *
 * Resolves once the sign-out is done; the route answers 204.
 */
export function browserLogout(ctx: ServiceContext, authenticate: Authenticate, publicUrl: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // First: nothing below may run, or even read the cookie, for a request another site made.
    assertSameOrigin(request, publicUrl);
    const cookie = readRefreshCookie(request, publicUrl);
    const authorization = request.headers.authorization;
    const clear = () => clearRefreshCookie(reply, request, publicUrl);
    if (authorization === undefined) return signOutWithCookie(ctx, request, cookie, clear);

    try {
      await authenticate(request, reply);
    } catch (refusal) {
      if (!isGatehouseError(refusal) || statusOf(refusal.code) !== 401 || cookie === undefined) throw refusal;
      // A token refused but naming the cookie's own session is the old answer's case: a laptop
      // that slept past the token's lifetime, a key retired early, a session already signed out
      // elsewhere (204, as before: the browser ends up signed out). Read unverified, the token's
      // claim only picks that session; forged, it could only make a cookie end its own session,
      // as a cookie alone may.
      const named = claimedSessionId(authorization);
      if (named !== undefined && named === parseRefreshToken(cookie)?.sessionId) return signOutWithCookie(ctx, request, cookie, clear);
      // Answered as without browser mode. A dead cookie goes, as at refresh; a live one is
      // another tab's sign-in, not this token's to end.
      if (await hasRefreshTokenEnded(ctx, cookie)) clear();
      throw refusal;
    }

    const caller = callerOf(request);
    // The cookie goes with its own session, or when it is dead anyway. A live cookie of another
    // session is another tab's sign-in: ending or dropping it would sign that tab out unasked.
    const dropCookie = cookie !== undefined && (parseRefreshToken(cookie)?.sessionId === caller.sessionId || (await hasRefreshTokenEnded(ctx, cookie)));
    await signOut(ctx, caller, clientInfo(request, ctx.locator));
    if (dropCookie) clear();
  };
}

/** Without a usable Bearer: the cookie names the browser's own session (its access token may be gone). */
async function signOutWithCookie(ctx: ServiceContext, request: FastifyRequest, cookie: string | undefined, clear: () => void): Promise<void> {
  // Signed out is where the browser ends up, whatever happens to the session below.
  clear();
  if (cookie === undefined) return;
  await signOutWithRefreshToken(ctx, cookie, () => clientInfo(request, ctx.locator)).catch((error: unknown) => {
    // Already signed out or expired: what the browser asked for is so.
    if (!isGatehouseError(error) || statusOf(error.code) !== 401) throw error;
  });
}

/** The `sid` an access token claims, unverified (see its one use); undefined if it has none. */
function claimedSessionId(authorization: string): string | undefined {
  const token = readBearer(authorization);
  if (typeof token !== 'string') return undefined;
  try {
    const { sid } = decodeJwt(token);
    return typeof sid === 'string' ? sid : undefined;
  } catch {
    return undefined;
  }
}
