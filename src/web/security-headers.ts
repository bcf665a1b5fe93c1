import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * What `@fastify/helmet` would set for the devices page, written out so there is one less
 * dependency and every header is visible here. The page is a script that holds an access token,
 * so the policy is strict: code and styles from Gatehouse's own origin only (no inline script or
 * style, no eval), requests to Gatehouse only, no framing (clickjacking on the sign-out buttons),
 * no plugins, no <base> rewriting, forms posting nowhere else.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  // URLs of the page carry nothing secret, but other sites need not learn who uses Gatehouse.
  'referrer-policy': 'no-referrer',
  // For browsers that predate frame-ancestors.
  'x-frame-options': 'DENY',
  // A window this page opens, or that opened it, gets no handle on it (tabnabbing, XS-leaks).
  'cross-origin-opener-policy': 'same-origin',
  // No other site may load the page's scripts or styles as its own subresources.
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-permitted-cross-domain-policies': 'none',
};

/**
 * One year, as helmet sends it. Only over HTTPS: browsers ignore it over HTTP anyway (RFC 6797
 * 8.1), and sending it from a development server on localhost would be misleading.
 */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

/**
 * Sets the headers on a reply. `request.protocol` is `https` for a TLS socket, or for
 * `X-Forwarded-Proto: https` from a proxy that GATEHOUSE_TRUST_PROXY trusts, never otherwise.
 */
export function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(SECURITY_HEADERS);
  if (request.protocol === 'https') reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
}
