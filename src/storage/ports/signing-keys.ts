import type { SigningKeyRecord } from '../../core/records.js';

/**
 * The signing keys every node shares: added, published, retired.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface SigningKeyStore {
  /** Every signing key, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Adds `key` only if there is no active key yet, atomically, so nodes racing on their first
   * start store one key between them; returns whether this one was stored.
   */
  addFirstSigningKey(key: SigningKeyRecord): Promise<boolean>;
  /**
   * Adds `key` only if no unretired key was created after `since`, atomically, so nodes racing
   * on a scheduled rotation store one key between them; returns whether this one was stored.
   */
  addSigningKeyIfNoneSince(key: SigningKeyRecord, since: number): Promise<boolean>;
  /**
   * Retires key `kid` at `at` (it leaves the JWKS), unless it is unknown, retired already, or
   * the last unretired key (nodes would have nothing to sign with); returns whether it did.
   */
  retireSigningKey(kid: string, at: number): Promise<boolean>;
  /**
   * Replaces key `kid`'s private JWK stored in plain text with its sealed form, only while it
   * is still `plain` (a compare-and-swap, so nodes sealing at once agree); returns whether it did.
   */
  sealSigningKey(kid: string, plain: string, sealed: string): Promise<boolean>;
}
