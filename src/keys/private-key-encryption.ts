import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Private signing keys are sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
 * GATEHOUSE_SECRET, so a copy of the database alone cannot mint tokens. Without a secret they
 * are stored as plain JWK JSON (development default); the prefix says which form a row holds.
 */
const PREFIX = 'aes256gcm:';

function derive(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'signing-key-encryption', 32));
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

export function sealPrivateKey(json: string, secret: string | undefined): string {
  if (!secret) return json;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(secret), iv);
  const body = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  return PREFIX + [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

export function openPrivateKey(stored: string, secret: string | undefined, kid: string): string {
  if (!isSealed(stored)) return stored;
  if (!secret) throw new Error(`signing key ${kid} is encrypted: set GATEHOUSE_SECRET to the secret it was stored with`);
  const [iv = '', tag = '', body = ''] = stored.slice(PREFIX.length).split('.');
  try {
    // A fixed 16-byte tag: GCM would otherwise accept a truncated one.
    const decipher = createDecipheriv('aes-256-gcm', derive(secret), Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`signing key ${kid} cannot be decrypted: GATEHOUSE_SECRET is not the secret it was stored with`);
  }
}
