import { errors, jwtVerify, type CryptoKey, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { GatehouseError } from './errors.js';
import type { VerifiedTokenCache } from './verified-token-cache.js';

// The access token's rules, shared: Gatehouse's own authentication and every resource server
// run this one verification, and Gatehouse signs (its src/core/access-token.ts) with these constants.

/** Only EdDSA is ever accepted: a fixed list closes `alg: none` and HS256-with-public-key tricks. */
export const ACCESS_TOKEN_ALG = 'EdDSA';
/** RFC 9068: the `typ` that keeps any other JWT (an ID token, another app's) from passing. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Far above any real token (~500 bytes); anything larger is refused before parsing. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;
/** RFC 7515 §7.1 compact serialisation: three base64url parts, unpadded (§2), and nothing else. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** What verification needs of the keys: a resource server never signs. */
export interface VerificationKeys {
  /** The public key for `kid`, or undefined when Gatehouse never had (or has retired) it. */
  verificationKey(kid: string): Promise<CryptoKey | undefined>;
  /** Whether `kid` is trusted right now, without fetching anything: a cached token needs it. */
  hasKey(kid: string): boolean;
}

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** Allowed clock difference between nodes, applied to `exp` and `iat`. */
  clockToleranceSeconds: number;
}

export interface AccessClaims {
  userId: string;
  sessionId: string;
  tokenId: string;
  issuedAt: number;
  expiresAt: number;
  /** When the session last proved the password, epoch ms. */
  authTime: number;
  /** The `email_verified` claim: whether the account's address was proved when the token was issued (absent from tokens of older versions). */
  emailVerified?: boolean;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * Verifies signature, algorithm, type, issuer, audience and lifetime, and returns the claims.
 * Throws `token_expired` only for a genuine token past its `exp` (jose checks the signature
 * first), and `token_invalid` for everything else, without saying which check failed.
 *
 * With a cache, a token verified before skips the signature check (the costly part) as long
 * as its key is still trusted; its lifetime is checked again on every call.
 */
export async function verifyAccessToken(
  token: string,
  keys: VerificationKeys,
  settings: AccessTokenSettings,
  now: number,
  cache?: VerifiedTokenCache,
): Promise<AccessClaims> {
  const cached = cache?.get(token);
  if (cached && keys.hasKey(cached.kid)) {
    checkLifetime(cached.claims, settings, now, () => cache?.delete(token));
    return cached.claims;
  }
  if (cached) cache?.delete(token); // its key was retired: verify from scratch (and fail)
  if (token.length > MAX_ACCESS_TOKEN_LENGTH || !isCanonicalCompactJws(token)) throw new GatehouseError('token_invalid', 'The access token is not valid.');
  let payload: JWTPayload;
  let kid: string;
  try {
    let protectedHeader: JWTHeaderParameters;
    ({ payload, protectedHeader } = await jwtVerify(token, (header: JWTHeaderParameters) => keyFor(keys, header), {
      algorithms: [ACCESS_TOKEN_ALG],
      typ: ACCESS_TOKEN_TYP,
      issuer: settings.issuer,
      audience: settings.audience,
      currentDate: new Date(now),
      clockTolerance: settings.clockToleranceSeconds,
      // Never trust a token's own `exp` beyond today's lifetime: the revocation view only
      // remembers sign-outs that long, so a token minted under a longer configured lifetime
      // (before a restart, or by a differently configured node) must not outlive it.
      maxTokenAge: settings.ttlSeconds,
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp', 'auth_time'],
    }));
    kid = protectedHeader.kid as string; // keyFor refused any header without one
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new GatehouseError('token_expired', 'The access token has expired.');
    throw new GatehouseError('token_invalid', 'The access token is not valid.');
  }
  const claims = readClaims(payload, now, settings.clockToleranceSeconds);
  cache?.set(token, { claims, kid });
  return claims;
}

/**
 * The lifetime checks jose made at first verification, made again for a cached token at `now`:
 * `exp`, and the age limit (`iat` + today's lifetime), both with the clock tolerance.
 */
function checkLifetime(claims: AccessClaims, settings: AccessTokenSettings, now: number, forget: () => void): void {
  // In whole seconds, exactly as jose compares them, so a hit and a miss always agree.
  const nowS = seconds(now);
  const tolerance = settings.clockToleranceSeconds;
  const expired = seconds(claims.expiresAt) <= nowS - tolerance;
  const tooOld = nowS - seconds(claims.issuedAt) - tolerance > settings.ttlSeconds;
  if (expired || tooOld) {
    forget();
    throw new GatehouseError('token_expired', 'The access token has expired.');
  }
  // The clock stepped back since the first check: "issued in the future" again, as readClaims says.
  if (seconds(claims.issuedAt) > nowS + tolerance) {
    forget();
    throw new GatehouseError('token_invalid', 'The access token is not valid.');
  }
}

/**
 * Only the spelling Gatehouse issues. jose decodes the signature leniently (atob ignores "="
 * padding, ASCII whitespace and the unused low bits of the last character), so without this
 * check other spellings of a genuine token would pass as that token: not a forgery, but token
 * strings Gatehouse never issued, each verified and cached anew (test/hostile/tokens/ tries
 * them). The header and payload need no such check: they are signed as written, so any other
 * spelling of them fails the signature.
 */
function isCanonicalCompactJws(token: string): boolean {
  if (!COMPACT_JWS.test(token)) return false;
  const signature = token.slice(token.lastIndexOf('.') + 1);
  return Buffer.from(signature, 'base64url').toString('base64url') === signature;
}

async function keyFor(keys: VerificationKeys, header: JWTHeaderParameters): Promise<CryptoKey> {
  const key = typeof header.kid === 'string' ? await keys.verificationKey(header.kid) : undefined;
  if (!key) throw new Error('unknown key');
  return key;
}

function readClaims(payload: JWTPayload, now: number, toleranceSeconds: number): AccessClaims {
  const { sub, sid, jti, iat, exp, auth_time: authTime, email_verified: emailVerified } = payload as Record<string, unknown>;
  const valid =
    typeof sub === 'string' &&
    typeof sid === 'string' &&
    typeof jti === 'string' &&
    typeof iat === 'number' &&
    typeof exp === 'number' &&
    typeof authTime === 'number' &&
    // A token "issued in the future" was not minted by a node with a sane clock.
    iat <= seconds(now) + toleranceSeconds &&
    authTime <= iat;
  if (!valid) throw new GatehouseError('token_invalid', 'The access token is not valid.');
  const claims: AccessClaims = { userId: sub, sessionId: sid, tokenId: jti, issuedAt: iat * 1000, expiresAt: exp * 1000, authTime: authTime * 1000 };
  return typeof emailVerified === 'boolean' ? { ...claims, emailVerified } : claims;
}
