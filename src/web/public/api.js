// @ts-check
// Talking to Gatehouse. The refresh token lives in an HttpOnly cookie this script never sees
// ("browser mode": the Gatehouse-Refresh-Token header); the short-lived access token lives in
// this module's memory only, never in localStorage or sessionStorage, so it goes with the tab.

// The API's JSON as the page receives it: the response schemas of src/http/schemas.ts, which the
// server serialises every answer through. Timestamps are ISO 8601 strings.

/**
 * `email_verified`: the address was proved with a link mailed to it (a password reset proves it too).
 * @typedef {{ id: string, email: string, name: string | null, email_verified: boolean, created_at: string }} User
 */
/** @typedef {{ browser: string | null, os: string | null, type: string, label: string }} Device */
/**
 * One signed-in device (`GET /v1/me/sessions`); `current` marks the session of the caller.
 * @typedef {{ id: string, current: boolean, created_at: string, last_active_at: string, expires_at: string, ip: string, location: string | null, user_agent: string, device: Device }} Session
 */
/**
 * A sign-in or renewal. In browser mode `refresh_token` is absent: it is in the HttpOnly cookie.
 * @typedef {{ access_token: string, token_type: 'Bearer', expires_in: number, refresh_token?: string, session: Session, user: User }} TokenResponse
 */
/**
 * One entry of the login history; `detail` depends on `type`, which may be one this page does not know.
 * @typedef {{ id: string, type: string, at: string, session_id: string | null, current: boolean, ip: string | null, location: string | null, user_agent: string | null, device: Device | null, actor: string | null, detail: Record<string, unknown> }} ActivityEvent
 */
/** @typedef {{ events: ActivityEvent[], next_cursor: string | null }} ActivityPage */
/** @typedef {{ sessions: Session[] }} SessionsResponse */
/** @typedef {{ revoked: number }} RevokedResponse */
/** @typedef {{ user: User }} UserResponse */
/** @typedef {{ detail: string }} PasswordResetAccepted */
/** A request taken on (202); `detail` says what happens next, in words for the person. */
/** @typedef {{ detail: string }} Accepted */
/**
 * An error answer, `application/problem+json` (RFC 9457); `code` is Gatehouse's error code.
 * @typedef {{ type: string, title: string, status: number, code: string, detail?: string, errors?: { pointer: string, detail: string }[] }} Problem
 */
/** @typedef {'GET' | 'POST' | 'DELETE'} Method */

const BROWSER_MODE = { 'gatehouse-refresh-token': 'cookie' };
/** A 401 with one of these on a Bearer call: the access token may be renewed, once. */
const RENEWABLE = new Set(['session_revoked', 'token_invalid', 'token_expired', 'token_missing']);

export class ApiError extends Error {
  /**
   * @param {number} status The HTTP status; 0 when Gatehouse could not be reached.
   * @param {Partial<Problem> | null} [problem] The answer's problem+json, as far as there is one.
   * @param {string | null} [retryAfter] The `Retry-After` header, in seconds.
   */
  constructor(status, problem, retryAfter) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? (status === 0 ? 'network' : 'unknown');
    this.title = problem?.title;
    this.detail = problem?.detail;
    this.retryAfter = retryAfter ? Number(retryAfter) : undefined;
  }
}

/** Thrown by calls that found the session over; the page has already gone to the sign-in form. */
export class SessionEnded extends Error {}

/** @type {string | null} */
let accessToken = null;
/** @type {{ user: User, sessionId: string | null } | null} */
let signedIn = null; // { user, sessionId } while signed in
/** @type {number | null} */
let renewTimer = null;
/** @type {Promise<TokenResponse> | null} */
let refreshing = null;
/** Goes up each time this page forgets its session: a renewal sent before then must not revive it. */
let epoch = 0;
/** @type {((code: string) => void)[]} */
const endListeners = [];

/** @returns {User | null} */
export const currentUser = () => signedIn?.user ?? null;
/** @returns {string | null} */
export const currentSessionId = () => signedIn?.sessionId ?? null;
/** @returns {boolean} */
export const isSignedIn = () => signedIn !== null;

/**
 * `listener(code)` runs once when the session ends by itself (revoked, expired), not on "Sign out".
 * @param {(code: string) => void} listener
 */
export function onSessionEnded(listener) {
  endListeners.push(listener);
}

/**
 * One request; resolves to the answer's JSON (null for 204 or an answer that is not JSON).
 * @param {Method} method
 * @param {string} path
 * @param {{ body?: unknown, bearer?: boolean, cookie?: boolean }} [options]
 * @returns {Promise<unknown>}
 */
async function send(method, path, { body, bearer = false, cookie = false } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (bearer && accessToken) headers.authorization = `Bearer ${accessToken}`;
  if (cookie) Object.assign(headers, BROWSER_MODE);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { title: 'Gatehouse could not be reached. Check your connection and try again.' });
  }
  if (response.status === 204) return null;
  const json = (response.headers.get('content-type') ?? '').includes('json') ? await response.json().catch(() => null) : null;
  // An error answer in JSON is problem+json, or something in between (a proxy) that ApiError reads as far as it can.
  if (!response.ok) throw new ApiError(response.status, /** @type {Partial<Problem> | null} */ (json), response.headers.get('retry-after'));
  return json;
}

/**
 * @param {TokenResponse} tokens
 * @returns {TokenResponse}
 */
function start(tokens) {
  accessToken = tokens.access_token;
  signedIn = { user: tokens.user, sessionId: tokens.session?.id ?? null };
  clearTimeout(renewTimer ?? undefined);
  // Renew a minute before expiry (a quarter of the lifetime when that is short): calls never
  // need to wait for a renewal, and a missed one (a sleeping laptop) still recovers on the 401.
  const lifetime = Number(tokens.expires_in) || 600;
  const renewIn = lifetime > 120 ? lifetime - 60 : lifetime * 0.75;
  renewTimer = setTimeout(renew, renewIn * 1000);
  return tokens;
}

function stop() {
  epoch += 1;
  accessToken = null;
  signedIn = null;
  clearTimeout(renewTimer ?? undefined);
  renewTimer = null;
  refreshing = null;
}

/**
 * Worth trying again soon: offline, a passing 5xx, or rate limited. Anything else will not cure itself.
 * (A type guard one way only: false does not mean that `error` is no ApiError.)
 * @param {unknown} error
 * @returns {error is ApiError}
 */
const isPassing = (error) => error instanceof ApiError && (error.status === 0 || error.status === 429 || error.status >= 500);

async function renew() {
  try {
    await refresh();
  } catch (error) {
    if (error instanceof SessionEnded) return; // signed out meanwhile
    if (isPassing(error)) {
      const wait = error.status === 429 && error.retryAfter !== undefined && error.retryAfter > 15 ? error.retryAfter : 15;
      renewTimer = setTimeout(renew, wait * 1000);
    } else {
      // 401 (signed out, expired), 403 (refused) or another answer that retrying would only repeat.
      end(error instanceof ApiError ? error.code : 'unknown');
    }
  }
}

/**
 * One refresh at a time: two calls that both find the token stale share the renewal.
 * @returns {Promise<TokenResponse>}
 */
function refresh() {
  if (refreshing) return refreshing;
  const sentAt = epoch;
  // 200 with the tokens, or 204 (null): see below.
  const pending = /** @type {Promise<TokenResponse | null>} */ (send('POST', '/v1/auth/refresh', { cookie: true }))
    .then((tokens) => {
      // Signed out while this was on its way: its answer must not sign the page back in.
      if (sentAt !== epoch) throw new SessionEnded();
      // 204: this browser holds no sign-in cookie (not an error, so none in the console).
      if (!tokens) throw new ApiError(401, { code: 'invalid_refresh_token' });
      // The tabs share one cookie: another account signed in in another tab since this one did.
      // This tab's session can never be renewed here again, and must not turn into the other
      // person's account unasked: it is ended with its own access token while that still works,
      // so it does not live on unseen, and the page goes back to the sign-in form.
      if (signedIn && tokens.user?.id !== signedIn.user?.id) return leaveForOtherAccount();
      return start(tokens);
    })
    .finally(() => {
      if (refreshing === pending) refreshing = null;
    });
  refreshing = pending;
  return pending;
}

/** @returns {Promise<never>} */
async function leaveForOtherAccount() {
  const own = accessToken;
  end('other_account');
  // Best effort: at worst the session ends at its idle timeout, and its owner can end it from
  // another device. Bearer only, no cookie: the cookie is the other account's.
  await fetch('/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${own}` }, credentials: 'omit', cache: 'no-store' }).catch(() => {});
  throw new SessionEnded();
}

/** @param {string} code */
function end(code) {
  if (!signedIn) return;
  stop();
  for (const listener of endListeners) listener(code);
}

/**
 * On page load: is this browser signed in? Resolves to the TokenResponse, or null when it is
 * not (`reason` then says why: the cookie's session was signed out, expired, …; or nothing).
 * @returns {Promise<{ tokens: TokenResponse | null, reason: string | null }>}
 */
export async function restore() {
  try {
    return { tokens: await refresh(), reason: null };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return { tokens: null, reason: error.code === 'invalid_refresh_token' ? null : error.code };
    throw error;
  }
}

/**
 * @param {string} email
 * @param {string} password
 * @returns {Promise<TokenResponse>}
 */
export async function signIn(email, password) {
  return start(/** @type {TokenResponse} */ (await send('POST', '/v1/auth/login', { body: { email, password }, cookie: true })));
}

/**
 * @param {string} email
 * @param {string} password
 * @param {string} [name]
 * @returns {Promise<UserResponse>}
 */
export async function register(email, password, name) {
  const body = name ? { email, password, name } : { email, password };
  return /** @type {Promise<UserResponse>} */ (send('POST', '/v1/auth/register', { body }));
}

/**
 * Asks for a password-reset link by email. The answer is the same whether or not the address
 * has an account. Neither reset call is in browser mode: no session is involved.
 * @param {string} email
 * @returns {Promise<PasswordResetAccepted>}
 */
export async function requestPasswordReset(email) {
  return /** @type {Promise<PasswordResetAccepted>} */ (send('POST', '/v1/auth/password-reset', { body: { email } }));
}

/**
 * Sets a new password with a reset link's token; the server then ends every session of the account.
 * @param {string} token
 * @param {string} newPassword
 * @returns {Promise<void>}
 */
export async function confirmPasswordReset(token, newPassword) {
  await send('POST', '/v1/auth/password-reset/confirm', { body: { token, new_password: newPassword } });
}

/**
 * Asks for a new verification link for `email`, as the sign-in form does after
 * `email_not_verified`. The answer is the same whatever the address.
 * @param {string} email
 * @returns {Promise<Accepted>}
 */
export async function requestEmailVerification(email) {
  return /** @type {Promise<Accepted>} */ (send('POST', '/v1/auth/email-verification', { body: { email } }));
}

// The links mailed about the address. Like the reset calls, none is in browser mode: the link,
// not a session of this browser, is the proof, and its holder need not be signed in here.

/**
 * Proves the address with a verification link's token.
 * @param {string} token
 * @returns {Promise<void>}
 */
export async function confirmEmailVerification(token) {
  await send('POST', '/v1/auth/email-verification/confirm', { body: { token } });
}

/**
 * Makes the new address the account's, with the token of the link mailed to it.
 * @param {string} token
 * @returns {Promise<void>}
 */
export async function confirmEmailChange(token) {
  await send('POST', '/v1/auth/email-change/confirm', { body: { token } });
}

/**
 * Cancels (or undoes) an email change with the token mailed to the old address; the server then
 * ends every session of the account.
 * @param {string} token
 * @returns {Promise<void>}
 */
export async function cancelEmailChange(token) {
  await send('POST', '/v1/auth/email-change/cancel', { body: { token } });
}

/**
 * "Sign out" on this device. The page forgets its session only once the server has ended it (or
 * says it was over already, 401); if the request failed (offline, a 5xx) it throws and the page
 * stays signed in and usable, since the cookie's session would otherwise live on unseen.
 */
export async function signOut() {
  try {
    await send('POST', '/v1/auth/logout', { bearer: true, cookie: true });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error; // already over: fine
  }
  stop();
}

// `call`'s answer for each request the page makes (null: 204, no content). The server's schemas
// decide these, not the checker: a request added to the page needs its line here.
/**
 * @overload
 * @param {'GET'} method
 * @param {'/v1/me/sessions'} path
 * @returns {Promise<SessionsResponse>}
 */
/**
 * @overload
 * @param {'GET'} method
 * @param {`/v1/me/activity?${string}`} path
 * @returns {Promise<ActivityPage>}
 */
/**
 * @overload
 * @param {'DELETE'} method
 * @param {'/v1/me/sessions?scope=others'} path
 * @returns {Promise<RevokedResponse>}
 */
/**
 * @overload
 * @param {'DELETE'} method
 * @param {`/v1/me/sessions/${string}`} path
 * @returns {Promise<null>}
 */
/**
 * @overload
 * @param {'POST'} method
 * @param {'/v1/auth/reauth'} path
 * @param {{ password: string }} body
 * @returns {Promise<null>}
 */
/**
 * @overload
 * @param {'POST'} method
 * @param {'/v1/me/password'} path
 * @param {{ current_password: string, new_password: string }} body
 * @returns {Promise<null>}
 */
/**
 * @overload
 * @param {'POST'} method
 * @param {'/v1/me/email-verification'} path
 * @returns {Promise<Accepted>}
 */
/**
 * @overload
 * @param {'POST'} method
 * @param {'/v1/me/email'} path
 * @param {{ email: string, password: string }} body
 * @returns {Promise<Accepted>}
 */
/**
 * A Bearer call. A 401 that a fresh access token could cure gets one renewal and one retry; if
 * the renewal is refused too, the session is over: listeners hear why, and SessionEnded is thrown.
 * @param {Method} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<unknown>}
 */
export async function call(method, path, body) {
  if (!signedIn) throw new SessionEnded();
  try {
    return await send(method, path, { body, bearer: true });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || !RENEWABLE.has(error.code)) throw error;
    try {
      await refresh();
    } catch (refreshError) {
      // 403: the renewal itself is refused, which trying again will not change.
      if (!(refreshError instanceof ApiError) || (refreshError.status !== 401 && refreshError.status !== 403)) throw refreshError;
      // The access token's own answer says best why: a revoked session also loses its cookie.
      end(error.code === 'session_revoked' ? 'session_revoked' : refreshError.code);
      throw new SessionEnded();
    }
    return send(method, path, { body, bearer: true });
  }
}
