import { SECOND } from './clock.js';

/**
 * Limits on what one client address may do, whatever the account: creating accounts today.
 * Registration costs an argon2 hash before it can learn that the email is taken (the duplicate
 * answer must take as long as a success), so without a limit one client can keep every core
 * hashing (threat-model.md). Every attempt that gets past validation counts, successful or
 * not, in a fixed window that opens at the first attempt after the previous window ended; the
 * attempts past the limit are refused until it ends, and counting them does not extend it.
 * Addresses are counted by `addressKey` (sign-in-limits.ts): an IPv6 client by its /64.
 */

/**
 * What an address may do per window; the actions are the store's `countAddressAttempt` keys.
 * `mail` counts differently: its key is a recipient's email key, not a client address, and it
 * counts the messages a stranger can make Gatehouse send there (resets, verifications).
 */
export type AddressAction = 'register' | 'password-reset' | 'email-verification' | 'mail';

export const ADDRESS_WINDOW_MS = 900 * SECOND;

/** Each action's window: a client address's for 15 minutes, a recipient's for an hour. */
export const ACTION_WINDOW_MS: Readonly<Record<AddressAction, number>> = {
  register: ADDRESS_WINDOW_MS,
  'password-reset': ADDRESS_WINDOW_MS,
  'email-verification': ADDRESS_WINDOW_MS,
  mail: 3600 * SECOND,
};

/** The longest window: a counter opened before it limits nothing any more. */
export const LONGEST_WINDOW_MS = Math.max(...Object.values(ACTION_WINDOW_MS));

/** An address's window for one action, as the store counted it, with the attempt just made. */
export interface AddressWindow {
  windowStart: number;
  count: number;
}

export type AddressVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Whether the attempt counted in `counted` may go on; `max` 0 means no limit. */
export function addressVerdict(max: number, counted: AddressWindow, now: number, windowMs = ADDRESS_WINDOW_MS): AddressVerdict {
  if (max === 0 || counted.count <= max) return { allowed: true };
  // Whole seconds, rounded up (RFC 9110 10.2.3): a client that waits that long is let in.
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((counted.windowStart + windowMs - now) / SECOND)) };
}
