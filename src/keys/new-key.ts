import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { ACCESS_TOKEN_ALG } from '../core/access-token.js';
import type { SigningKeyRecord } from '../core/records.js';
import { sealPrivateKey } from './private-key-encryption.js';

/**
 * A fresh Ed25519 key pair as `signing_keys` stores it: the `kid` is the RFC 7638 thumbprint of
 * the public key, and the private key is sealed when there is a secret.
 */
export async function newSigningKey(times: { createdAt: number; activatesAt: number }, secret: string | undefined): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg: ACCESS_TOKEN_ALG,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' }),
    privateJwk: sealPrivateKey(JSON.stringify(privateJwk), secret),
    createdAt: times.createdAt,
    activatesAt: times.activatesAt,
    retiredAt: null,
  };
}
