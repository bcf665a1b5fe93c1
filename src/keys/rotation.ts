import type { Clock } from '../core/clock.js';
import type { SigningKeyRecord } from '../core/records.js';
import type { SigningKeyStore } from '../storage/ports/signing-keys.js';
import { expiredKeys, PUBLICATION_DELAY_MS, retireRisk, rotationDue, type TokenLifetime } from './key-schedule.js';
import { newSigningKey } from './new-key.js';
import { isSealed, sealPrivateKey } from './private-key-encryption.js';
import { checkSecretFits } from './secret-check.js';

const DAY_MS = 86_400_000;

/**
 * Adds a key that every node starts signing with once it has been published for
 * PUBLICATION_DELAY_MS (`gatehouse keys rotate`). The keys before it keep verifying.
 */
export async function rotateSigningKey(store: SigningKeyStore, clock: Clock, secret: string | undefined): Promise<SigningKeyRecord> {
  const now = clock.now();
  const keys = await store.listSigningKeys();
  checkSecretFits(keys, secret);
  // A database no server has started on has no key: the first has no verifier to wait for.
  const first = !keys.some((k) => k.retiredAt === null);
  const key = await newSigningKey({ createdAt: now, activatesAt: first ? now : now + PUBLICATION_DELAY_MS }, secret);
  await store.addSigningKey(key);
  return key;
}

/**
 * GATEHOUSE_KEY_ROTATION_DAYS: rotates when the newest key is `days` old, once however many
 * nodes notice it at the same moment (the store adds a key only if none is newer than the
 * schedule asks), then retires every key whose tokens have all expired.
 */
export async function rotateOnSchedule(
  store: SigningKeyStore,
  clock: Clock,
  options: { secret: string | undefined; days: number; lifetime: TokenLifetime },
): Promise<{ added: SigningKeyRecord | undefined; retired: SigningKeyRecord[] }> {
  const now = clock.now();
  let added: SigningKeyRecord | undefined;
  const keys = await store.listSigningKeys();
  if (rotationDue(keys, now, options.days)) {
    checkSecretFits(keys, options.secret);
    const key = await newSigningKey({ createdAt: now, activatesAt: now + PUBLICATION_DELAY_MS }, options.secret);
    if (await store.addSigningKeyIfNoneSince(key, now - options.days * DAY_MS)) added = key;
  }
  return { added, retired: await retireExpiredKeys(store, clock, options.lifetime) };
}

/** Retires every key that has stopped signing and whose tokens have all expired (`keys retire --expired`). */
export async function retireExpiredKeys(store: SigningKeyStore, clock: Clock, lifetime: TokenLifetime): Promise<SigningKeyRecord[]> {
  const now = clock.now();
  const retired: SigningKeyRecord[] = [];
  for (const key of expiredKeys(await store.listSigningKeys(), now, lifetime)) {
    if (await store.retireSigningKey(key.kid, now)) retired.push(key);
  }
  return retired;
}

export type RetireOutcome =
  | { outcome: 'retired'; key: SigningKeyRecord /** What --force overrode, if anything. */; forced?: string }
  | { outcome: 'already-retired'; key: SigningKeyRecord }
  | { outcome: 'unknown' }
  | { outcome: 'refused'; key: SigningKeyRecord; reason: string /** Whether --force would do it. */; forceable: boolean };

/**
 * Retires one key (`keys retire --kid`), unless that could sign someone out: it is the signer,
 * or tokens it signed may be alive. `force` retires it anyway (a leaked key must stop verifying
 * now, whatever it costs), except the last key, without which no node could sign at all.
 */
export async function retireSigningKey(
  store: SigningKeyStore,
  clock: Clock,
  kid: string,
  options: { lifetime: TokenLifetime; force: boolean },
): Promise<RetireOutcome> {
  const now = clock.now();
  const keys = await store.listSigningKeys();
  const key = keys.find((k) => k.kid === kid);
  if (!key) return { outcome: 'unknown' };
  if (key.retiredAt !== null) return { outcome: 'already-retired', key };
  const lastKey = { outcome: 'refused', key, reason: 'it is the only key left; rotate first (gatehouse keys rotate)', forceable: false } as const;
  if (keys.every((k) => k.kid === kid || k.retiredAt !== null)) return lastKey;
  const risk = retireRisk(key, keys, now, options.lifetime);
  if (risk !== undefined && !options.force) return { outcome: 'refused', key, reason: risk, forceable: true };
  if (await store.retireSigningKey(kid, now)) return { outcome: 'retired', key, ...(risk === undefined ? {} : { forced: risk }) };
  // Another retire got there first: this one, or the other keys (so this is the last one now).
  const current = (await store.listSigningKeys()).find((k) => k.kid === kid);
  return current && current.retiredAt !== null ? { outcome: 'already-retired', key: current } : lastKey;
}

/**
 * Seals private keys stored in plain text (made before GATEHOUSE_SECRET was set), so setting
 * the secret protects every key, not only the ones made after. A compare-and-swap per key:
 * nodes starting together seal each key once. Returns how many this call sealed. Refuses a
 * secret that does not open the keys sealed already: what it sealed, no node could open.
 */
export async function sealPlainKeys(store: SigningKeyStore, secret: string): Promise<number> {
  const keys = await store.listSigningKeys();
  checkSecretFits(keys, secret);
  let sealed = 0;
  for (const key of keys) {
    if (isSealed(key.privateJwk)) continue;
    if (await store.sealSigningKey(key.kid, key.privateJwk, sealPrivateKey(key.privateJwk, secret))) sealed++;
  }
  return sealed;
}
