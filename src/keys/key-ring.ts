import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { AccessTokenKeys, SigningKey } from '../core/access-token.js';
import type { Clock } from '../core/clock.js';
import type { SigningKeyRecord } from '../core/records.js';
import type { SigningKeyStore } from '../storage/ports/signing-keys.js';
import { KEY_RELOAD_INTERVAL_MS, signerAt, type KeyTimes } from './key-schedule.js';
import { newSigningKey } from './new-key.js';
import { openPrivateKey } from './private-key-encryption.js';
import { sealPlainKeys } from './rotation.js';
import { checkSecretFits } from './secret-check.js';

interface LoadedKey extends KeyTimes {
  publicKey: CryptoKey;
  publicJwk: JWK;
  privateKey: CryptoKey;
  /** The stored private JWK this was opened from: a key sealed since is not opened again. */
  stored: string;
}

/**
 * The signing keys every node shares through the database. The first start creates one (only
 * one, even when nodes start together).
 *
 * Rotation without anyone noticing (key-schedule.ts has the rules): every unretired key is
 * published (JWKS) and verifies, including a key rotated in that does not sign yet; which key
 * signs is decided at each signature from the stored times (`signerAt`), so nodes switch to a
 * new key at the same moment without telling each other. What each node must do is know the
 * key well before that moment: it reloads the keys every KEY_RELOAD_INTERVAL_MS (gatehouse.ts
 * runs `reload`), far inside the publication delay, and a retired key leaves its JWKS with the
 * next reload. A token with an unknown `kid` also prompts a reload, at most as often.
 */
export class KeyRing implements AccessTokenKeys {
  private constructor(
    private readonly store: SigningKeyStore,
    private readonly clock: Clock,
    private readonly secret: string | undefined,
    private keys: LoadedKey[],
    private loadedAt: number,
    /** Keys this start found stored in plain text and sealed: a copy of the database made before may hold them. */
    readonly sealedAtOpen: number,
  ) {}

  /**
   * Loads the keys, creating the first one if there is none and sealing keys stored in plain
   * text when there is a secret. Throws (the start stops) when a key cannot be decrypted.
   */
  static async open(store: SigningKeyStore, clock: Clock, secret: string | undefined): Promise<KeyRing> {
    let records = await store.listSigningKeys();
    if (!records.some((k) => k.retiredAt === null)) {
      checkSecretFits(records, secret);
      const now = clock.now();
      // The first key signs at once: no verifier can be missing it, as there is no token yet.
      await store.addFirstSigningKey(await newSigningKey({ createdAt: now, activatesAt: now }, secret));
      records = await store.listSigningKeys();
    }
    // Every key is opened before any is sealed: a node started with a wrong secret must stop
    // here, not seal the plain keys with it first, which the nodes with the right one could
    // then no longer open.
    let keys = await loadKeys(records, secret, []);
    const sealed = secret === undefined ? 0 : await sealPlainKeys(store, secret);
    if (sealed > 0) keys = await loadKeys(await store.listSigningKeys(), secret, keys);
    return new KeyRing(store, clock, secret, keys, clock.now(), sealed);
  }

  signingKey(): SigningKey {
    // Never undefined: a ring holds at least one key (reload keeps the last set otherwise).
    const signer = signerAt(this.keys, this.clock.now()) as LoadedKey;
    return { kid: signer.kid, key: signer.privateKey };
  }

  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    const known = this.find(kid);
    if (known) return known.publicKey;
    // Forged kids would make this a database query per request, so reloads are rate-limited;
    // rotated-in keys are known long before they sign anyway (the timer's reloads).
    if (this.clock.now() - this.loadedAt < KEY_RELOAD_INTERVAL_MS) return undefined;
    await this.reload();
    return this.find(kid)?.publicKey;
  }

  hasKey(kid: string): boolean {
    return this.find(kid) !== undefined;
  }

  /** The public keys, as `/.well-known/jwks.json` publishes them: every key not retired. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /**
   * Reads the keys from the database again: keys rotated in or retired by another node or the
   * CLI. All or nothing: if a new key cannot be decrypted (a rotation made with another
   * GATEHOUSE_SECRET), this throws and the ring keeps the keys it had, as every node with the
   * same secret does, so they still agree on the signer.
   */
  async reload(): Promise<void> {
    this.loadedAt = this.clock.now();
    const records = await this.store.listSigningKeys();
    if (!records.some((k) => k.retiredAt === null)) return;
    this.keys = await loadKeys(records, this.secret, this.keys);
  }

  private find(kid: string): LoadedKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }
}

/** Imports every unretired key; keys already `loaded` from the same stored form are reused. */
async function loadKeys(records: SigningKeyRecord[], secret: string | undefined, loaded: LoadedKey[]): Promise<LoadedKey[]> {
  const keys: LoadedKey[] = [];
  for (const record of records) {
    if (record.retiredAt !== null) continue;
    const times = { kid: record.kid, createdAt: record.createdAt, activatesAt: record.activatesAt, retiredAt: null };
    const known = loaded.find((k) => k.kid === record.kid && k.stored === record.privateJwk);
    if (known) {
      keys.push({ ...known, ...times });
      continue;
    }
    const publicJwk = JSON.parse(record.publicJwk) as JWK;
    // Every key is opened now, not when it starts signing: a wrong secret stops the start
    // instead of surfacing at the next rotation.
    const privateJwk = JSON.parse(openPrivateKey(record.privateJwk, secret, record.kid)) as JWK;
    keys.push({
      ...times,
      publicJwk,
      publicKey: (await importJWK(publicJwk, record.alg)) as CryptoKey,
      privateKey: (await importJWK(privateJwk, record.alg)) as CryptoKey,
      stored: record.privateJwk,
    });
  }
  return keys;
}
