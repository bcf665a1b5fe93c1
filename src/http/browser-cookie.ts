import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../core/errors.js';

/**
 * Browser mode: the devices page (and any web app on Gatehouse's origin) keeps the refresh
 * token out of JavaScript. A request with `Gatehouse-Refresh-Token: cookie` gets its refresh
 * token as an HttpOnly cookie instead of in the body (login, refresh), and refresh and logout
 * read it from there; access tokens stay short-lived and in the page's memory. So a script
 * injected into the page can use the session while the page is open, but cannot carry the
 * refresh token away. API clients, which send no such header, are unchanged.
 *
 * Cross-site request forgery: only requests in browser mode use the cookie, and each is checked
 * (`assertSameOrigin`): a browser's `Sec-Fetch-Site` must say `same-origin`, or, from a browser
 * too old to send it, `Origin` must be this server's. A request with neither is refused: every
 * browser sends one of them on a POST. SameSite=Lax keeps the cookie off cross-site POSTs as a
 * second line, and JSON-only bodies keep plain HTML forms out. Every other route takes a Bearer
 * header, which another site cannot make a browser send.
 */
export const BROWSER_MODE_HEADER = 'gatehouse-refresh-token';

/** Over HTTPS: the `__Host-` prefix makes browsers refuse the cookie unless Secure, host-only, Path=/. */
export const SECURE_COOKIE = '__Host-gatehouse_refresh';
/** Over plain HTTP (development): browsers drop Secure cookies there, so neither Secure nor the prefix. */
export const PLAIN_COOKIE = 'gatehouse_refresh';

/** Whether the request asks for browser mode; any other value of the header is a mistake worth telling. */
export function wantsBrowserMode(request: FastifyRequest): boolean {
  const value = request.headers[BROWSER_MODE_HEADER];
  if (value === undefined) return false;
  if (value === 'cookie') return true;
  throw new GatehouseError('validation_failed', 'The Gatehouse-Refresh-Token header can only be "cookie".', [
    { pointer: '/headers/gatehouse-refresh-token', detail: 'must be "cookie"' },
  ]);
}

/**
 * Refuses a browser-mode request sent from another site or origin. `publicUrl` is where people
 * reach Gatehouse (behind a proxy the Host header may differ from it); the request's own origin
 * is accepted too.
 */
export function assertSameOrigin(request: FastifyRequest, publicUrl: string): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) {
    // `none`: the user's own action (typed address, bookmark), never a script of another site.
    if (site === 'same-origin' || site === 'none') return;
    throw crossSite();
  }
  const origin = request.headers.origin;
  if (origin !== undefined && (origin === new URL(publicUrl).origin || origin === `${request.protocol}://${request.host}`)) return;
  throw crossSite();
}

const crossSite = () => new GatehouseError('forbidden', 'A request from another site cannot use the sign-in cookie.');

/** The refresh token the browser holds, if any. */
export function readRefreshCookie(request: FastifyRequest, publicUrl: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  const name = cookieName(request, publicUrl);
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

/** Hands the browser its refresh token, for as long as the session can live. */
export function setRefreshCookie(reply: FastifyReply, request: FastifyRequest, publicUrl: string, token: string, maxAgeSeconds: number): void {
  reply.header('set-cookie', cookie(request, publicUrl, token, Math.max(0, Math.floor(maxAgeSeconds))));
}

export function clearRefreshCookie(reply: FastifyReply, request: FastifyRequest, publicUrl: string): void {
  reply.header('set-cookie', cookie(request, publicUrl, '', 0));
}

/**
 * HTTPS when people reach Gatehouse over HTTPS (GATEHOUSE_PUBLIC_URL), whatever this hop says:
 * behind a TLS proxy that is not named in GATEHOUSE_TRUST_PROXY every request looks like plain
 * HTTP, and the cookie must not lose Secure (sent over any http:// hop) and its __Host- prefix
 * (which stops a sibling subdomain from planting its own cookie) for that.
 */
function overHttps(request: FastifyRequest, publicUrl: string): boolean {
  return request.protocol === 'https' || publicUrl.startsWith('https:');
}

function cookieName(request: FastifyRequest, publicUrl: string): string {
  return overHttps(request, publicUrl) ? SECURE_COOKIE : PLAIN_COOKIE;
}

function cookie(request: FastifyRequest, publicUrl: string, value: string, maxAgeSeconds: number): string {
  // Refresh tokens are `<id>.<secret>` in base64url: nothing in them needs quoting.
  const secure = overHttps(request, publicUrl) ? '; Secure' : '';
  return `${cookieName(request, publicUrl)}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
}
