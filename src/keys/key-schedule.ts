import { SECOND } from '../core/clock.js';
import type { SigningKeyRecord } from '../core/records.js';

/**
 * The rules of key rotation, pure so that every node, the CLI and the tests apply the same ones
 * to the same rows (docs/session-model.md, "Signing keys").
 *
 * A token signed with a key must verify everywhere the moment it is issued. So a new key is
 * published long before it signs: it is in the database, so in every node's JWKS and key ring
 * within one reload, and in every resource server's copy of the JWKS within its refetch age,
 * before `activatesAt`. Every node then picks the signer by the same rule from the same rows,
 * at its own clock, so they switch together (give or take the clock tolerance), and none needs
 * to hear of the switch. An old key stays published until every token it signed has expired.
 */

/** How often every node reads the keys again, and the least time between reloads for an unknown `kid`. */
export const KEY_RELOAD_INTERVAL_MS = 30 * SECOND;

/**
 * How long a rotated-in key is published before any node signs with it. It outlasts a node's
 * reload (30 s), a shared HTTP cache of the JWKS (its `max-age` is 300 s) and gatehouse/verify's
 * default refetch age (600 s) together, so every resource server with default settings has the
 * key before it meets a token signed with it, without depending on a refetch for an unknown kid.
 */
export const PUBLICATION_DELAY_MS = 20 * 60 * SECOND;

/**
 * Added to a key's last possible token: clocks of nodes a little apart (one may still sign with
 * the old key for a moment after another switched) and a reload in flight.
 */
export const RETIRE_MARGIN_MS = 60 * SECOND;

export type KeyState = 'next' | 'signing' | 'verifying-only' | 'retired';

/** What the rules read of a key. */
export type KeyTimes = Pick<SigningKeyRecord, 'kid' | 'createdAt' | 'activatesAt' | 'retiredAt'>;

/** How long tokens live, and the clock difference verifiers allow them. */
export interface TokenLifetime {
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
}

/** Orders keys by when they start signing; keys rotated in at the same moment by age, then kid. */
function compare(a: KeyTimes, b: KeyTimes): number {
  return a.activatesAt - b.activatesAt || a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);
}

function unretired<K extends KeyTimes>(keys: readonly K[]): K[] {
  return keys.filter((k) => k.retiredAt === null).sort(compare);
}

/**
 * The key every node signs with at `now`: the last unretired key to have activated. When none
 * has (the signing key was retired by force during a rotation), the first to activate signs
 * early: it is published already, and signing with a key that is merely early beats not signing.
 */
export function signerAt<K extends KeyTimes>(keys: readonly K[], now: number): K | undefined {
  const candidates = unretired(keys);
  return candidates.filter((k) => k.activatesAt <= now).at(-1) ?? candidates[0];
}

/** When `key` stops signing: when the next unretired key after it activates; undefined while none will. */
export function stopsSigningAt(key: KeyTimes, keys: readonly KeyTimes[]): number | undefined {
  return unretired(keys).find((k) => compare(k, key) > 0)?.activatesAt;
}

/**
 * From when no live token can carry `key`'s signature, so retiring it signs nobody out: it has
 * stopped signing, then the longest a token lives, the tolerance verifiers allow, and a margin.
 * Undefined while no later key is due to take over.
 */
export function retirableAt(key: KeyTimes, keys: readonly KeyTimes[], lifetime: TokenLifetime): number | undefined {
  const stops = stopsSigningAt(key, keys);
  if (stops === undefined) return undefined;
  return stops + (lifetime.accessTokenTtlSeconds + lifetime.clockToleranceSeconds) * SECOND + RETIRE_MARGIN_MS;
}

export function keyState(key: KeyTimes, keys: readonly KeyTimes[], now: number): KeyState {
  if (key.retiredAt !== null) return 'retired';
  if (signerAt(keys, now)?.kid === key.kid) return 'signing';
  return key.activatesAt > now ? 'next' : 'verifying-only';
}

/**
 * Why `key` must not be retired at `now` without force, or undefined when it is safe: it is
 * the signer, or it may have signed tokens that are still alive. A key still waiting to sign
 * (far enough from its start that no clock has reached it) never signed anything: retiring it
 * calls the rotation off.
 */
export function retireRisk(key: KeyTimes, keys: readonly KeyTimes[], now: number, lifetime: TokenLifetime): string | undefined {
  const state = keyState(key, keys, now);
  if (state === 'next') {
    return now < key.activatesAt - RETIRE_MARGIN_MS ? undefined : `nodes start signing with it at ${iso(key.activatesAt)}`;
  }
  const safeFrom = retirableAt(key, keys, lifetime);
  if (state === 'signing') {
    if (safeFrom === undefined) return 'it is the key every node signs with, and no newer key is due to take over';
    return `it is the key every node signs with until ${iso(stopsSigningAt(key, keys) as number)}, and tokens it signs may be alive until ${iso(safeFrom)}`;
  }
  if (safeFrom === undefined) return 'no later key takes over from it';
  return now < safeFrom ? `tokens it signed may be alive until ${iso(safeFrom)}` : undefined;
}

/** Keys that can be retired at `now` without signing anybody out: stopped signing, every token expired. */
export function expiredKeys<K extends KeyTimes>(keys: readonly K[], now: number, lifetime: TokenLifetime): K[] {
  return keys.filter((k) => keyState(k, keys, now) === 'verifying-only' && retireRisk(k, keys, now, lifetime) === undefined);
}

/** With scheduled rotation every `days` days: whether the newest unretired key is that old. */
export function rotationDue(keys: readonly KeyTimes[], now: number, days: number): boolean {
  if (days <= 0) return false;
  const newest = Math.max(...unretired(keys).map((k) => k.createdAt));
  return now - newest >= days * 86_400 * SECOND;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
