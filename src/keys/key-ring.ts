import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { ACCESS_TOKEN_ALG, type AccessTokenKeys, type SigningKey } from '../core/access-token.js';
import type { Clock } from '../core/clock.js';
import type { SigningKeyRecord } from '../core/records.js';
import type { Store } from '../storage/store.js';
import { openPrivateKey, sealPrivateKey } from './private-key-encryption.js';

/** How often an unknown `kid` may send us back to the database for keys another node made. */
const RELOAD_INTERVAL_MS = 30_000;

interface LoadedKey {
  kid: string;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * The signing keys every node shares through the database. The first start creates one (only
 * one, even when nodes start together); the oldest active key signs, so every node agrees.
 */
export class KeyRing implements AccessTokenKeys {
  private constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly secret: string | undefined,
    private signing: SigningKey,
    private verifying: Map<string, LoadedKey>,
    private loadedAt: number,
  ) {}

  static async open(store: Store, clock: Clock, secret: string | undefined): Promise<KeyRing> {
    let records = (await store.listSigningKeys()).filter((k) => k.retiredAt === null);
    if (records.length === 0) {
      await store.addFirstSigningKey(await createKey(clock.now(), secret));
      records = (await store.listSigningKeys()).filter((k) => k.retiredAt === null);
    }
    const { signing, verifying } = await loadKeys(records, secret);
    return new KeyRing(store, clock, secret, signing, verifying, clock.now());
  }

  signingKey(): SigningKey {
    return this.signing;
  }

  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    const known = this.verifying.get(kid);
    if (known) return known.publicKey;
    // A key rotated in on another node is unknown here until we reload; forged kids would make
    // this a database query per request, so reloads are rate-limited.
    if (this.clock.now() - this.loadedAt < RELOAD_INTERVAL_MS) return undefined;
    await this.reload();
    return this.verifying.get(kid)?.publicKey;
  }

  hasKey(kid: string): boolean {
    return this.verifying.has(kid);
  }

  /** The public keys, as `/.well-known/jwks.json` publishes them. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.verifying.values()].map((k) => k.publicJwk) };
  }

  private async reload(): Promise<void> {
    this.loadedAt = this.clock.now();
    const records = (await this.store.listSigningKeys()).filter((k) => k.retiredAt === null);
    if (records.length === 0) return;
    const { signing, verifying } = await loadKeys(records, this.secret);
    this.signing = signing;
    this.verifying = verifying;
  }
}

async function createKey(now: number, secret: string | undefined): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg: ACCESS_TOKEN_ALG,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' }),
    privateJwk: sealPrivateKey(JSON.stringify(privateJwk), secret),
    createdAt: now,
    retiredAt: null,
  };
}

async function loadKeys(records: SigningKeyRecord[], secret: string | undefined) {
  const verifying = new Map<string, LoadedKey>();
  for (const record of records) {
    const publicJwk = JSON.parse(record.publicJwk) as JWK;
    verifying.set(record.kid, { kid: record.kid, publicJwk, publicKey: (await importJWK(publicJwk, record.alg)) as CryptoKey });
  }
  // Records come oldest first: the oldest active key signs (see the class comment).
  const oldest = records[0] as SigningKeyRecord;
  const privateJwk = JSON.parse(openPrivateKey(oldest.privateJwk, secret, oldest.kid)) as JWK;
  const signing: SigningKey = { kid: oldest.kid, key: (await importJWK(privateJwk, oldest.alg)) as CryptoKey };
  return { signing, verifying };
}
