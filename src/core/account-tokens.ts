import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { SECOND } from './clock.js';

/**
 * The secrets that email links carry (a password reset, an address to confirm): `<id>.<MAC>`,
 * where the id names a row of `account_tokens` (what the link may do, for whom, until when,
 * and whether it was used) and the MAC is HMAC-SHA256 of purpose and id under a key derived
 * from the key secret (GATEHOUSE_SECRET or the local secret). The database, the mail outbox
 * and the logs hold the id alone: a copy of them opens no account, and nothing secret is
 * stored to be hashed. The purpose is under the MAC, so a verification link cannot reset a
 * password. Single use, expiry and voiding are the row's business (the store's compare-and-swap).
 */
export type AccountTokenPurpose = 'password_reset' | 'email_verification' | 'email_change' | 'email_change_cancel';

/**
 * How long each kind of link works: a reset briefly (it takes over the account), a
 * verification or a new address for a day, and the old address's "this wasn't me" for a week,
 * as long as the notice may sit unread in a mailbox the owner still reads.
 */
export const ACCOUNT_TOKEN_TTL_MS: Readonly<Record<AccountTokenPurpose, number>> = {
  password_reset: 1800 * SECOND,
  email_verification: 86_400 * SECOND,
  email_change: 86_400 * SECOND,
  email_change_cancel: 7 * 86_400 * SECOND,
};

export function accountTokenKey(keySecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', keySecret, 'gatehouse', 'account-token/v1', 32));
}

export function accountToken(key: Buffer, purpose: AccountTokenPurpose, id: string): string {
  return `${id}.${mac(key, purpose, id)}`;
}

/** The row id a token names, when its MAC is right for `purpose`; undefined for anything else. */
export function readAccountToken(key: Buffer, purpose: AccountTokenPurpose, token: string): string | undefined {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return undefined;
  const [, id, given] = match as unknown as [string, string, string];
  // Compared as text: base64url's last character has spare bits, and a link has one spelling.
  const expected = Buffer.from(mac(key, purpose, id));
  return timingSafeEqual(Buffer.from(given), expected) ? id : undefined;
}

function mac(key: Buffer, purpose: AccountTokenPurpose, id: string): string {
  return createHmac('sha256', key).update(`${purpose}.${id}`).digest('base64url');
}
