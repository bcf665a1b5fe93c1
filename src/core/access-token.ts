import { SignJWT, type CryptoKey } from 'jose';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP, type AccessTokenSettings, type VerificationKeys } from '@gatehouse/verify/access-token';
import { newId } from './random.js';

// How a token is verified is the verifier package's (packages/verify/src/access-token.ts): the
// one rule that Gatehouse and every resource server run. Signing is Gatehouse's alone.
export {
  ACCESS_TOKEN_ALG,
  ACCESS_TOKEN_TYP,
  MAX_ACCESS_TOKEN_LENGTH,
  verifyAccessToken,
  type AccessClaims,
  type AccessTokenSettings,
  type VerificationKeys,
} from '@gatehouse/verify/access-token';

export interface SigningKey {
  kid: string;
  key: CryptoKey;
}

export interface AccessTokenKeys extends VerificationKeys {
  signingKey(): SigningKey;
}

export interface SignedAccessToken {
  token: string;
  expiresIn: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export async function signAccessToken(
  keys: AccessTokenKeys,
  settings: AccessTokenSettings,
  subject: { userId: string; sessionId: string; authTime: number; emailVerified?: boolean },
  now: number,
): Promise<SignedAccessToken> {
  const { kid, key } = keys.signingKey();
  const iat = seconds(now);
  const claims = { sid: subject.sessionId, auth_time: seconds(subject.authTime) };
  const token = await new SignJWT(subject.emailVerified === undefined ? claims : { ...claims, email_verified: subject.emailVerified })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(subject.userId)
    .setJti(newId())
    .setIssuedAt(iat)
    .setExpirationTime(iat + settings.ttlSeconds)
    .sign(key);
  return { token, expiresIn: settings.ttlSeconds };
}
