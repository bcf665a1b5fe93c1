// Talking to Gatehouse. The refresh token lives in an HttpOnly cookie this script never sees
// ("browser mode": the Gatehouse-Refresh-Token header); the short-lived access token lives in
// this module's memory only, never in localStorage or sessionStorage, so it goes with the tab.

const BROWSER_MODE = { 'gatehouse-refresh-token': 'cookie' };
/** A 401 with one of these on a Bearer call: the access token may be renewed, once. */
const RENEWABLE = new Set(['session_revoked', 'token_invalid', 'token_expired', 'token_missing']);

export class ApiError extends Error {
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

let accessToken = null;
let signedIn = null; // { user, sessionId } while signed in
let renewTimer = null;
let refreshing = null;
/** Goes up each time this page forgets its session: a renewal sent before then must not revive it. */
let epoch = 0;
const endListeners = [];

export const currentUser = () => signedIn?.user ?? null;
export const currentSessionId = () => signedIn?.sessionId ?? null;
export const isSignedIn = () => signedIn !== null;

/** `listener(code)` runs once when the session ends by itself (revoked, expired), not on "Sign out". */
export function onSessionEnded(listener) {
  endListeners.push(listener);
}

async function send(method, path, { body, bearer = false, cookie = false } = {}) {
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
  if (!response.ok) throw new ApiError(response.status, json, response.headers.get('retry-after'));
  return json;
}

function start(tokens) {
  accessToken = tokens.access_token;
  signedIn = { user: tokens.user, sessionId: tokens.session?.id ?? null };
  clearTimeout(renewTimer);
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
  clearTimeout(renewTimer);
  renewTimer = null;
  refreshing = null;
}

/** Worth trying again soon: offline, a passing 5xx, or rate limited. Anything else will not cure itself. */
const isPassing = (error) => error instanceof ApiError && (error.status === 0 || error.status === 429 || error.status >= 500);

async function renew() {
  try {
    await refresh();
  } catch (error) {
    if (error instanceof SessionEnded) return; // signed out meanwhile
    if (isPassing(error)) {
      const wait = error.status === 429 && error.retryAfter > 15 ? error.retryAfter : 15;
      renewTimer = setTimeout(renew, wait * 1000);
    } else {
      // 401 (signed out, expired), 403 (refused) or another answer that retrying would only repeat.
      end(error instanceof ApiError ? error.code : 'unknown');
    }
  }
}

/** One refresh at a time: two calls that both find the token stale share the renewal. */
function refresh() {
  if (refreshing) return refreshing;
  const sentAt = epoch;
  const pending = send('POST', '/v1/auth/refresh', { cookie: true })
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

async function leaveForOtherAccount() {
  const own = accessToken;
  end('other_account');
  // Best effort: at worst the session ends at its idle timeout, and its owner can end it from
  // another device. Bearer only, no cookie: the cookie is the other account's.
  await fetch('/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${own}` }, credentials: 'omit', cache: 'no-store' }).catch(() => {});
  throw new SessionEnded();
}

function end(code) {
  if (!signedIn) return;
  stop();
  for (const listener of endListeners) listener(code);
}

/**
 * On page load: is this browser signed in? Resolves to the TokenResponse, or null when it is
 * not (`reason` then says why: the cookie's session was signed out, expired, …; or nothing).
 */
export async function restore() {
  try {
    return { tokens: await refresh(), reason: null };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return { tokens: null, reason: error.code === 'invalid_refresh_token' ? null : error.code };
    throw error;
  }
}

export async function signIn(email, password) {
  return start(await send('POST', '/v1/auth/login', { body: { email, password }, cookie: true }));
}

export async function register(email, password, name) {
  const body = name ? { email, password, name } : { email, password };
  return send('POST', '/v1/auth/register', { body });
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

/**
 * A Bearer call. A 401 that a fresh access token could cure gets one renewal and one retry; if
 * the renewal is refused too, the session is over: listeners hear why, and SessionEnded is thrown.
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
