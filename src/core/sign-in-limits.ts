import { SECOND } from './clock.js';

/**
 * Brute-force limits on sign-in (NIST SP 800-63B 5.2.2, ASVS V2.2.1), as pure rules over
 * counters the store keeps. Two kinds of counter, both counting failures only:
 *
 * - per account, keyed by the email key (not the user id), so an email without an account is
 *   limited exactly like one with, and a 429 never says which emails exist. Counted across all
 *   addresses: an attacker with many IPs gets no more guesses.
 *   - consecutive failures: after `maxConsecutive` of them the account is locked for 30 s, and
 *     each further failure (one try is allowed when a lock ends) doubles the lock, up to 15 min.
 *     A success resets this counter.
 *   - failures per hour, in a fixed window that opens at the first failure after the previous
 *     window ended: at `maxPerHour` the account is locked until the window ends. A success
 *     does not reset it, so a stolen-password owner signing in between guesses cannot hide them.
 * - per client address, failures over any emails in a fixed 15-minute window (password
 *   spraying: one password tried against many accounts). Successes never count here, so an
 *   office behind one NAT address is not locked out by its own users signing in.
 *
 * A correct password during a lock is refused like a wrong one: otherwise the lock would only
 * slow the guesses down, not stop them, and the answer would reveal the right guess.
 */

export interface SignInLimitPolicy {
  /** Consecutive failures of one email key before the progressive delay starts. */
  maxConsecutiveFailures: number;
  /** Failures of one email key per hour. */
  maxFailuresPerHour: number;
  /** Failures from one address per 15 minutes; 0 turns the address limit off. */
  ipMaxFailures: number;
}

export const ACCOUNT_WINDOW_MS = 3600 * SECOND;
export const IP_WINDOW_MS = 900 * SECOND;
export const FIRST_DELAY_MS = 30 * SECOND;
export const MAX_DELAY_MS = 900 * SECOND;

/** An email key's failures as stored; absent when it has none. */
export interface AccountFailures {
  consecutive: number;
  lastFailureAt: number;
  windowStart: number;
  windowCount: number;
}

/** An address's failures as stored; absent when it has none. */
export interface AddressFailures {
  windowStart: number;
  windowCount: number;
}

export interface SignInCounters {
  account: AccountFailures | undefined;
  address: AddressFailures | undefined;
}

export type SignInVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * An attempt's place in the counters, taken before its password is verified. Allowed: the
 * attempt is already counted as a failure (`afterFailure`), in the windows that opened at
 * `accountWindowStart` and `addressWindowStart`; a success takes it back off those windows and
 * resets the consecutive count. Refused: nothing was counted.
 */
export type SignInClaim =
  | { allowed: true; accountWindowStart: number; addressWindowStart: number; account: AccountFailures }
  | { allowed: false; retryAfterSeconds: number };

/** How long the account is locked after its `consecutive`-th consecutive failure. */
export function lockDurationMs(policy: SignInLimitPolicy, consecutive: number): number {
  const beyond = consecutive - policy.maxConsecutiveFailures;
  if (beyond < 0) return 0;
  // 2^beyond overflows nothing that matters: the cap is reached after 5 doublings.
  return Math.min(FIRST_DELAY_MS * 2 ** Math.min(beyond, 30), MAX_DELAY_MS);
}

/** Whether a sign-in may be tried at `now`, checked before any password is verified. */
export function signInVerdict(policy: SignInLimitPolicy, counters: SignInCounters, now: number): SignInVerdict {
  const until = Math.max(accountLockedUntil(policy, counters.account, now), addressLockedUntil(policy, counters.address, now));
  if (until <= now) return { allowed: true };
  // Retry-After is whole seconds (RFC 9110 10.2.3), rounded up so a client that waits it is let in.
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / SECOND)) };
}

/**
 * When a claimed attempt fails, whether that failure locks the account, and until when (0: it
 * does not). Each lock has exactly one failure that starts it: the attempts after it are
 * refused before they are counted.
 */
export function lockAfterFailure(policy: SignInLimitPolicy, counted: AccountFailures, now: number): number {
  const until = accountLockedUntil(policy, counted, now);
  return until > now ? until : 0;
}

function accountLockedUntil(policy: SignInLimitPolicy, account: AccountFailures | undefined, now: number): number {
  if (!account) return 0;
  const delayed = account.lastFailureAt + lockDurationMs(policy, account.consecutive);
  const windowEnd = account.windowStart + ACCOUNT_WINDOW_MS;
  const hourly = windowEnd > now && account.windowCount >= policy.maxFailuresPerHour ? windowEnd : 0;
  return Math.max(account.consecutive >= policy.maxConsecutiveFailures ? delayed : 0, hourly);
}

function addressLockedUntil(policy: SignInLimitPolicy, address: AddressFailures | undefined, now: number): number {
  if (!address || policy.ipMaxFailures === 0) return 0;
  const windowEnd = address.windowStart + IP_WINDOW_MS;
  return windowEnd > now && address.windowCount >= policy.ipMaxFailures ? windowEnd : 0;
}

/**
 * The counters after one more failure at `now`. Every attempt that `signInVerdict` allows is
 * counted so before its password is verified (the store writes these values with a
 * compare-and-swap on the counters they were computed from, so parallel attempts each take a
 * distinct place and none is verified beyond a limit); a success takes it back afterwards.
 */
export function afterFailure(counters: SignInCounters, now: number): SignInCounters {
  const { account, address } = counters;
  const accountOpen = account !== undefined && account.windowStart > now - ACCOUNT_WINDOW_MS;
  const addressOpen = address !== undefined && address.windowStart > now - IP_WINDOW_MS;
  return {
    account: {
      consecutive: (account?.consecutive ?? 0) + 1,
      // Nodes' clocks differ a little; the lock runs from the latest failure any of them saw.
      lastFailureAt: Math.max(account?.lastFailureAt ?? now, now),
      windowStart: accountOpen ? account.windowStart : now,
      windowCount: accountOpen ? account.windowCount + 1 : 1,
    },
    address: { windowStart: addressOpen ? address.windowStart : now, windowCount: addressOpen ? address.windowCount + 1 : 1 },
  };
}

/**
 * The key an address's failures are counted under: an IPv4 address itself (/32; an IPv4-mapped
 * IPv6 address is its IPv4 address), an IPv6 address its /64 prefix, because one IPv6 client
 * is usually given a whole /64 and could otherwise take a fresh address for every guess. Any
 * `%zone` is dropped. Anything that does not parse is used as it is.
 */
export function addressKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const groups = ipv6Groups(ip.replace(/%.*$/, ''));
  if (!groups) return ip;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  let address = text.toLowerCase();
  const tail = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (tail) {
    const bytes = tail.slice(2, 6).map(Number);
    if (bytes.some((b) => b > 255)) return undefined;
    address = `${tail[1]}${((bytes[0]! << 8) | bytes[1]!).toString(16)}:${((bytes[2]! << 8) | bytes[3]!).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all.map((g) => parseInt(g, 16));
}
