import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { ATTACKER_CERTIFICATE, ATTACKER_PRIVATE_KEY } from './attacker-certificate.js';

/** A JWK as node:crypto exports it, with the members a JWKS adds. */
export type Jwk = Record<string, unknown> & { kty: string; kid?: string };

interface AttackerKey {
  privateKey: KeyObject;
  jwk: Jwk;
}

/** Keys the attacker holds, of every type a confused verifier might take, and their published set. */
export interface Attackers {
  ed25519: AttackerKey;
  ed448: AttackerKey;
  p256: AttackerKey;
  rsa: AttackerKey;
  certificate: { privateKey: KeyObject; pem: string; der: Buffer; jwk: Jwk };
  /** What the trap serves as a JWKS: every attacker public key. */
  jwks: { keys: Jwk[] };
}

/** RFC 7638 thumbprint, as Gatehouse names its own keys, so attacker kids look just like real ones. */
export function thumbprint(jwk: Jwk): string {
  const members = jwk.kty === 'OKP' ? ['crv', 'kty', 'x'] : jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['e', 'kty', 'n'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

function key(type: 'ed25519' | 'ed448' | 'ec' | 'rsa', alg: string): AttackerKey {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync(type as 'ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as Jwk;
  return { privateKey, jwk: { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' } };
}

export function makeAttackers(): Attackers {
  const certificate = new X509Certificate(ATTACKER_CERTIFICATE);
  const certificateJwk = certificate.publicKey.export({ format: 'jwk' }) as Jwk;
  const attackers = {
    ed25519: key('ed25519', 'EdDSA'),
    ed448: key('ed448', 'EdDSA'),
    p256: key('ec', 'ES256'),
    rsa: key('rsa', 'RS256'),
    certificate: {
      privateKey: createPrivateKey(ATTACKER_PRIVATE_KEY),
      pem: ATTACKER_CERTIFICATE,
      der: certificate.raw,
      jwk: { ...certificateJwk, kid: thumbprint(certificateJwk), alg: 'EdDSA', x5c: [certificate.raw.toString('base64')] },
    },
  };
  return {
    ...attackers,
    jwks: { keys: [attackers.ed25519.jwk, attackers.ed448.jwk, attackers.p256.jwk, attackers.rsa.jwk, attackers.certificate.jwk] },
  };
}
