import { decodeProtectedHeader } from 'jose';
import { MAX_ACCESS_TOKEN_LENGTH, verifyAccessToken, type AccessClaims, type AccessTokenSettings } from './access-token.js';
import { GatehouseError } from './errors.js';
import { VerifiedTokenCache } from './verified-token-cache.js';
import { bearerToken } from './bearer.js';
import { resolveOptions, type VerifierOptions } from './options.js';
import { RemoteKeys } from './remote-keys.js';
import { RevocationFeed, type FeedStatus } from './revocation-feed.js';

export type VerifierStatus = FeedStatus;

export interface Verifier {
  /**
   * The claims of a valid access token of a session that has not been signed out. Throws a
   * GatehouseError: `token_invalid`, `token_expired`, `session_revoked`, or `unavailable` when
   * sign-outs cannot be confirmed right now.
   */
  verify(token: string): Promise<AccessClaims>;
  /** `verify` on the token of an Authorization header, parsed exactly as Gatehouse parses it. */
  authenticate(authorization: string | undefined): Promise<AccessClaims>;
  /** Resolves once the feed's first snapshot has arrived; rejects if Gatehouse refuses the service key. */
  ready(): Promise<void>;
  status(): VerifierStatus;
  /** Ends the feed and any fetch in flight; afterwards every verification answers `unavailable`. */
  close(): Promise<void>;
}

/**
 * Gatehouse's longest possible token lifetime (GATEHOUSE_ACCESS_TOKEN_TTL is at most a day).
 * Before the first snapshot says the real one, it only tells a bad token (401) from a good one,
 * which is then refused with 503 anyway.
 */
const LONGEST_TTL_SECONDS = 86_400;
/** Gatehouse's default GATEHOUSE_CLOCK_TOLERANCE, until the feed says the configured one. */
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/**
 * A verifier of Gatehouse access tokens for another service: the signature and claims are
 * checked locally against Gatehouse's JWKS, and the session against a view of sign-outs kept
 * from Gatehouse's revocation feed. No request costs a call to Gatehouse.
 *
 * It fails closed: while the feed has not confirmed the view within `maxStalenessSeconds`, a
 * valid token is answered `unavailable` (503), because the session may have been signed out.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const resolved = resolveOptions(options);
  const closing = new AbortController();
  const keys = new RemoteKeys({
    url: resolved.jwksUrl,
    cooldownMs: resolved.jwksCooldownMs,
    maxAgeMs: resolved.jwksMaxAgeMs,
    fetch: resolved.fetch,
    signal: closing.signal,
    monotonic: resolved.clock.monotonic,
  });
  const feed = new RevocationFeed({
    url: resolved.feedUrl,
    serviceKey: resolved.serviceKey,
    maxStalenessMs: resolved.maxStalenessMs,
    fetch: resolved.fetch,
    signal: closing.signal,
    clock: resolved.clock,
  });
  // A client sends the same token for its whole lifetime: checking its signature once is enough.
  const cache = new VerifiedTokenCache(resolved.cacheSize);
  keys.warmUp();

  function settings(): AccessTokenSettings {
    const fromFeed = feed.tokenSettings();
    return {
      issuer: resolved.issuer,
      audience: resolved.audience,
      ttlSeconds: fromFeed?.accessTokenTtlSeconds ?? LONGEST_TTL_SECONDS,
      clockToleranceSeconds: resolved.clockToleranceSeconds ?? fromFeed?.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    };
  }

  async function verify(token: string): Promise<AccessClaims> {
    if (typeof token !== 'string' || token.length > MAX_ACCESS_TOKEN_LENGTH) throw new GatehouseError('token_invalid', 'The access token is not valid.');
    const kid = cache.get(token)?.kid ?? kidOf(token);
    if (kid !== undefined) await keys.prepare(kid);
    const claims = await verifyAccessToken(token, keys, settings(), resolved.clock.now(), cache);
    if (feed.isRevoked(claims.sessionId)) throw new GatehouseError('session_revoked', 'This session has been signed out.');
    // The view may be missing a sign-out: never accept a session that may have ended.
    if (!feed.isFresh()) throw new GatehouseError('unavailable', 'Sign-outs cannot be confirmed right now; try again shortly.');
    return claims;
  }

  return {
    verify,
    authenticate: async (authorization) => verify(bearerToken(authorization)),
    ready: () => feed.ready(),
    status: () => feed.status(),
    close: async () => {
      closing.abort();
      await feed.closed();
    },
  };
}

/** The `kid` a token names, or undefined when it is not a JWS at all (verification then refuses it). */
function kidOf(token: string): string | undefined {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}
