import type { AddressAction, AddressWindow } from '../../core/address-limits.js';

/**
 * Limits per client address on other actions (registration).
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface AddressCounterStore {
  /**
   * Counts one attempt of `action` from an address key at `now`, in the address's window of
   * `windowMs` (a new one when the last has ended), and returns that window with this attempt
   * in it. Atomic: of parallel attempts on any node, each gets a count of its own.
   */
  countAddressAttempt(action: AddressAction, address: string, windowMs: number, now: number): Promise<AddressWindow>;
  /** Deletes up to `limit` address counters whose window opened before `before`. */
  purgeAddressAttempts(before: number, limit: number): Promise<number>;
}
