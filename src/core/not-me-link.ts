import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The one-click "this wasn't me" link of a new-device notification (webhook or mail): `<event
 * id>.<expiry in epoch seconds>.<HMAC-SHA256 of both>`, under a key derived (HKDF, so it never
 * coincides with another key) from the webhook secret where one is set, so links already sent
 * keep working, else from the key secret (GATEHOUSE_SECRET or the local secret). Nothing about it is stored: the
 * database cannot leak working links, and the outbox holds only the event. Expiry is in the
 * link (an old link cannot be made young), and single use is enforced by the store
 * (`sign_in_reports`), so the link needs no state until it is used.
 */
export interface NotMeLinks {
  key: Buffer;
  ttlSeconds: number;
  /** Gatehouse's public address, without a trailing slash. */
  publicUrl: string;
}

export const NOT_ME_PATH = '/v1/not-me';

export function notMeKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'not-me-link/v1', 32));
}

/** The link for the sign-in event `eventId` that happened at `at`; the same every time it is built. */
export function notMeLink(links: NotMeLinks, eventId: string, at: number): { url: string; expiresAt: number } {
  const expiresAt = Math.floor(at / 1000) + links.ttlSeconds;
  const token = `${eventId}.${expiresAt}.${sign(links.key, eventId, String(expiresAt))}`;
  return { url: `${links.publicUrl}${NOT_ME_PATH}/${token}`, expiresAt: expiresAt * 1000 };
}

export type NotMeToken = { valid: true; eventId: string; expired: boolean } | { valid: false };

/** Reads a link's token; forged or malformed: not valid. The signature is checked before the expiry. */
export function readNotMeToken(key: Buffer, token: string, now: number): NotMeToken {
  // The expiry as the builder writes a number: no leading zero, so `0123` is not a second
  // spelling of `123`; the signature covers that text itself, not the number it reads as.
  const match = /^([A-Za-z0-9_-]{1,64})\.([1-9]\d{0,11})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { valid: false };
  const [, eventId, expiry, signature] = match as unknown as [string, string, string, string];
  // Compared as text, not decoded bytes: base64url's last character has spare bits, and a link
  // should have exactly one spelling.
  const expected = Buffer.from(sign(key, eventId, expiry));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false };
  return { valid: true, eventId, expired: now >= Number(expiry) * 1000 };
}

function sign(key: Buffer, eventId: string, expiresAt: string): string {
  return createHmac('sha256', key).update(`${eventId}.${expiresAt}`).digest('base64url');
}
