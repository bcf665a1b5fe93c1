import { GatehouseError } from './errors.js';

/**
 * Emails are kept as typed (trimmed, NFC) with the domain in its IDNA ASCII form, and compared
 * through a key: the same, lower-cased, so `Ann@Example.com`, ` ann@example.com ` and, for
 * `ann@bücher.example`, `ann@xn--bcher-kva.example` are one account. Lower-casing the local part
 * is technically stricter than RFC 5321, but every mailbox provider people use treats it
 * case-insensitively, and two accounts differing only in case invite account-takeover confusion.
 * The domain is compared as DNS resolves it (UTS #46, as a browser's URL parser maps it), so no
 * second spelling of one mail domain can hold a second account. Look-alike addresses in other
 * scripts stay allowed: they are other mailboxes, and only email verification proves ownership.
 */
export interface Email {
  address: string;
  key: string;
}

const MAX_LENGTH = 254; // RFC 5321 path limit
const MAX_LOCAL = 64;
// Printable, no spaces, no angle brackets or quotes: what a sign-up form should accept.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
const LOCAL = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+$/u;
const DOMAIN = /^(?=.{1,253}$)(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}\p{N}-]{2,63}$/u;
// Control characters (C0, C1), invisible format characters (zero-width space and joiners, bidi
// controls, soft hyphen…) and lone surrogates: they make an address look like another one, or
// vanish once stored as UTF-8, so two different inputs would display or store as one.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/u;
// What DNS can look up: ASCII labels of up to 63 characters, a top-level label with a letter
// (all digits would be an IPv4 address), at most 253 characters in all.
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const ASCII_DOMAIN = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+(?=[a-z0-9-]{2,63}$)(?=[0-9-]*[a-z])${LABEL}$`);

/**
 * The IDNA ASCII form of `domain` (`bücher.example` → `xn--bcher-kva.example`), lower case, or
 * undefined when it has none. The WHATWG URL parser does the mapping (UTS #46), as the global
 * `URL`, so core imports no module for it; it also decodes `%` escapes and takes IP addresses and
 * ports, so its answer is used only when the input was a plain domain and the output is a DNS name.
 */
export function asciiDomain(domain: string): string | undefined {
  if (!DOMAIN.test(domain)) return undefined;
  let host: string;
  try {
    const url = new URL(`http://${domain}/`);
    if (url.href !== `http://${url.hostname}/`) return undefined;
    host = url.hostname;
  } catch {
    return undefined;
  }
  return ASCII_DOMAIN.test(host) ? host : undefined;
}

/**
 * The key of whatever was typed, for looking an account up (sign-in, the CLI): for an address
 * `parseEmail` accepts, exactly its key; for anything else a key no account has.
 */
export function emailKey(input: string): string {
  const address = input.trim().normalize('NFC');
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1);
  return at < 0 ? address.toLowerCase() : `${address.slice(0, at + 1)}${asciiDomain(domain) ?? domain}`.toLowerCase();
}

export function parseEmail(input: string, pointer = '/email'): Email {
  const trimmed = input.trim().normalize('NFC');
  if (INVISIBLE.test(trimmed)) {
    throw new GatehouseError('validation_failed', 'The email address contains control or invisible characters.', [
      { pointer, detail: 'must not contain control or invisible characters, such as a zero-width space' },
    ]);
  }
  const at = trimmed.lastIndexOf('@');
  const local = trimmed.slice(0, at);
  const typedDomain = trimmed.slice(at + 1);
  const domain = at > 0 ? asciiDomain(typedDomain) : undefined;
  // The domain as typed when that is its ASCII form already, so its case is kept for display.
  const address = `${local}@${typedDomain.toLowerCase() === domain ? typedDomain : domain}`;
  const valid =
    domain !== undefined &&
    address.length <= MAX_LENGTH &&
    local.length <= MAX_LOCAL &&
    LOCAL.test(local) &&
    !local.startsWith('.') &&
    !local.endsWith('.') &&
    !local.includes('..');
  if (!valid) {
    throw new GatehouseError('validation_failed', 'The email address is not valid.', [{ pointer, detail: 'must be an email address such as ann@example.com' }]);
  }
  return { address, key: address.toLowerCase() };
}
