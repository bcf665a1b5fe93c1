import { constants, createHmac, sign, type KeyObject } from 'node:crypto';

/**
 * A small JWS forge for the hostile-token suite. jose refuses to make most of these tokens
 * (`alg: none`, HMAC with a public key, duplicate members, high-S signatures…), so they are
 * assembled here by hand: base64url of exact bytes, and signatures from node:crypto.
 */

/** base64url without padding (RFC 7515 §2) of UTF-8 text or of bytes. */
export function b64u(data: string | Uint8Array): string {
  return Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

/** A header or payload: an object (serialised by JSON.stringify), or the exact JSON text to sign (duplicate members, odd spacing). */
export type Part = Record<string, unknown> | string;

/** Makes the signature bytes of a JWS signing input (`<header>.<payload>`, ASCII). */
export type Signer = (signingInput: string) => Uint8Array;

const json = (part: Part) => (typeof part === 'string' ? part : JSON.stringify(part));

/** A compact JWS: base64url(header).base64url(payload).base64url(signature of the first two). */
export function compact(header: Part, payload: Part, signer: Signer): string {
  const input = `${b64u(json(header))}.${b64u(json(payload))}`;
  return `${input}.${b64u(signer(input))}`;
}

/** `alg: none`: an empty signature. */
export const unsigned: Signer = () => new Uint8Array(0);

export function hmac(alg: 'HS256' | 'HS384' | 'HS512', secret: string | Uint8Array): Signer {
  return (input) =>
    createHmac(`sha${alg.slice(2)}`, secret)
      .update(input)
      .digest();
}

/** EdDSA (Ed25519 or Ed448, whichever the key is). */
export function eddsa(privateKey: KeyObject): Signer {
  return (input) => sign(null, Buffer.from(input), privateKey);
}

/** ES256/384/512: the JOSE form of an ECDSA signature, r ‖ s (RFC 7518 §3.4). */
export function ecdsa(privateKey: KeyObject, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): Signer {
  return (input) => sign(hash, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
}

/** RS256 (PKCS#1 v1.5) or PS256 (PSS). */
export function rsa(privateKey: KeyObject, padding: 'pkcs1' | 'pss'): Signer {
  return (input) =>
    sign('sha256', Buffer.from(input), padding === 'pkcs1' ? privateKey : { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
}

/** The order n of P-256. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** The order L of the Ed25519 base point. */
const ED25519_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;

const bigEndian = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
const toBigEndian = (value: bigint, length: number) => Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');

/**
 * The other valid ECDSA signature of the same message: (r, n − s). One of the pair is the
 * "high-S" form that strict verifiers (Bitcoin's BIP 62, for one) refuse; plain ECDSA accepts both.
 */
export function malleateEcdsaP256(signature: Uint8Array): Buffer {
  const r = signature.subarray(0, 32);
  const s = bigEndian(signature.subarray(32));
  return Buffer.concat([r, toBigEndian(P256_ORDER - s, 32)]);
}

/** Whether an ES256 signature is in high-S form (s > n/2). */
export function isHighS(signature: Uint8Array): boolean {
  return bigEndian(signature.subarray(32)) > P256_ORDER / 2n;
}

/**
 * Ed25519's malleation: S + L instead of S (S is little-endian in the second half). RFC 8032
 * §5.1.7 requires S < L, which is what makes Ed25519 signatures non-malleable; a verifier that
 * skipped the check would accept this twin of a genuine signature.
 */
export function malleateEd25519(signature: Uint8Array): Buffer {
  const s = bigEndian(Buffer.from(signature.subarray(32)).reverse()) + ED25519_ORDER;
  return Buffer.concat([signature.subarray(0, 32), toBigEndian(s, 32).reverse()]);
}

/** The three parts of a compact JWS. */
export function partsOf(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

export function decodeJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface BitFlip {
  part: 'header' | 'payload' | 'signature';
  bit: number;
  token: string;
}

/** The token with one bit of the decoded bytes of one part flipped, for every bit of every part. */
export function* bitFlips(token: string): Generator<BitFlip> {
  const parts = partsOf(token);
  const names = ['header', 'payload', 'signature'] as const;
  for (const [index, part] of names.entries()) {
    const bytes = Buffer.from(parts[index] as string, 'base64url');
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (0x80 >> (bit & 7));
      const changed = [...parts];
      changed[index] = flipped.toString('base64url');
      yield { part, bit, token: changed.join('.') };
    }
  }
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Other spellings of the same bytes: the last character of an unpadded base64url string carries
 * bits that decode to nothing (4 of them for a 64-byte signature); lenient decoders (atob,
 * Buffer) ignore them, so each setting of those bits spells the same signature.
 */
export function nonCanonicalSpellings(part: string): string[] {
  const unusedBits = (part.length * 6) % 8;
  if (unusedBits === 0) return [];
  const last = BASE64URL.indexOf(part.at(-1) as string);
  const spellings: string[] = [];
  for (let low = 1; low < 1 << unusedBits; low++) spellings.push(part.slice(0, -1) + BASE64URL[last ^ low]);
  return spellings;
}
