import { GatehouseError } from './errors.js';

/**
 * Emails are kept as typed (trimmed) for display and compared through a key: NFC-normalised and
 * lower-cased, so `Ann@Example.com` and ` ann@example.com ` are one account. Lower-casing the local
 * part is technically stricter than RFC 5321, but every mailbox provider people use treats it
 * case-insensitively, and two accounts differing only in case invite account-takeover confusion.
 */
export interface Email {
  address: string;
  key: string;
}

const MAX_LENGTH = 254; // RFC 5321 path limit
const MAX_LOCAL = 64;
// Printable, no spaces, no angle brackets or quotes: what a sign-up form should accept.
const LOCAL = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+$/u;
const DOMAIN = /^(?=.{1,253}$)(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}\p{N}-]{2,63}$/u;

export function emailKey(input: string): string {
  return input.trim().normalize('NFC').toLowerCase();
}

export function parseEmail(input: string, pointer = '/email'): Email {
  const address = input.trim().normalize('NFC');
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const valid =
    address.length <= MAX_LENGTH &&
    at > 0 &&
    local.length <= MAX_LOCAL &&
    LOCAL.test(local) &&
    !local.startsWith('.') &&
    !local.endsWith('.') &&
    !local.includes('..') &&
    DOMAIN.test(domain);
  if (!valid) {
    throw new GatehouseError('validation_failed', 'The email address is not valid.', [
      { pointer, detail: 'must be an email address such as ann@example.com' },
    ]);
  }
  return { address, key: address.toLowerCase() };
}
