import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Refresh tokens are `<session id>.<secret>`. The id finds the row without a scan; the secret is
 * base64url of `version ‖ generation ‖ 32 random bytes ‖ MAC`:
 *
 * - Only SHA-256(secret) of the current token is stored, so a leaked database cannot be replayed;
 *   a fast hash is enough because the secret carries 256 random bits (nothing to brute-force).
 * - The generation counts rotations. With the MAC (HMAC-SHA256 under a per-session key, cut to
 *   128 bits) it lets Gatehouse recognise a token it issued earlier in the chain without keeping
 *   every spent hash: that is what makes reuse of *any* spent token detectable (theft), while a
 *   guessed token for a known session id is just invalid and cannot sign anyone out.
 */
export interface ParsedRefreshToken {
  sessionId: string;
  secret: string;
  generation: number;
}

export interface IssuedRefreshToken {
  token: string;
  hash: string;
}

const VERSION = 1;
const RANDOM_BYTES = 32;
const MAC_BYTES = 16;
const SECRET_BYTES = 1 + 4 + RANDOM_BYTES + MAC_BYTES;
const ID_PART = /^[A-Za-z0-9_-]{22}$/;
const SECRET_PART = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((SECRET_BYTES * 4) / 3)}}$`);
/** The longest refresh token Gatehouse issues; anything longer is refused unread. */
export const REFRESH_TOKEN_LENGTH = 22 + 1 + Math.ceil((SECRET_BYTES * 4) / 3);

/** A new per-session MAC key (stored with the session; see the file comment). */
export function newRefreshKey(): string {
  return randomBytes(32).toString('base64url');
}

export function issueRefreshToken(sessionId: string, generation: number, refreshKey: string): IssuedRefreshToken {
  const head = Buffer.alloc(5);
  head.writeUInt8(VERSION, 0);
  head.writeUInt32BE(generation, 1);
  const body = Buffer.concat([head, randomBytes(RANDOM_BYTES)]);
  const secret = Buffer.concat([body, mac(refreshKey, sessionId, body)]).toString('base64url');
  return { token: `${sessionId}.${secret}`, hash: hashSecret(secret) };
}

/** Splits a presented token; undefined for anything not shaped like one Gatehouse issues. */
export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  if (token.length !== REFRESH_TOKEN_LENGTH || token[22] !== '.') return undefined;
  const sessionId = token.slice(0, 22);
  const secret = token.slice(23);
  if (!ID_PART.test(sessionId) || !SECRET_PART.test(secret)) return undefined;
  const bytes = Buffer.from(secret, 'base64url');
  if (bytes.length !== SECRET_BYTES || bytes.readUInt8(0) !== VERSION) return undefined;
  return { sessionId, secret, generation: bytes.readUInt32BE(1) };
}

/** True when the token was issued by Gatehouse for this session, at its generation. */
export function isGenuine(parsed: ParsedRefreshToken, refreshKey: string): boolean {
  const bytes = Buffer.from(parsed.secret, 'base64url');
  const body = bytes.subarray(0, SECRET_BYTES - MAC_BYTES);
  return timingSafeEqual(bytes.subarray(SECRET_BYTES - MAC_BYTES), mac(refreshKey, parsed.sessionId, body));
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/**
 * The successor of a token, sealed (AES-256-GCM) under a key derived from that token's own
 * secret. Stored with the session, it lets a request that lost the race to rotate a token — a
 * second tab, a retry after a lost response — receive the very token the winner received,
 * so one chain stays live; yet the database alone cannot open it, since only the hash of the
 * spent secret is stored.
 */
export function sealSuccessor(successorToken: string, spentSecret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', successorKey(spentSecret), iv);
  const body = Buffer.concat([cipher.update(successorToken, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

export function openSuccessor(sealed: string, spentSecret: string): string | undefined {
  const [iv = '', tag = '', body = ''] = sealed.split('.');
  try {
    // A fixed 16-byte tag: GCM would otherwise accept a truncated one.
    const decipher = createDecipheriv('aes-256-gcm', successorKey(spentSecret), Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function mac(refreshKey: string, sessionId: string, body: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(refreshKey, 'base64url')).update(sessionId).update(body).digest().subarray(0, MAC_BYTES);
}

function successorKey(spentSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', spentSecret, 'gatehouse', 'refresh-token-successor', 32));
}
