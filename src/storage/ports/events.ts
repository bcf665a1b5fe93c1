import type { ActivityEvent, EventType, StoredEvent } from '../../core/activity.js';

/** Which page of a user's history: up to `limit` events older than `before` (newest first). */
export interface EventPage {
  types?: EventType[];
  before?: { at: number; id: string };
  limit: number;
}

/**
 * Each account's history (sign-ins, sign-outs, changes), newest first.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface EventStore {
  /** Appends events that go with no other change (failed sign-ins, lockouts). */
  recordEvents(events: ActivityEvent[]): Promise<void>;
  /** A page of the user's history, newest first. */
  listUserEvents(userId: string, page: EventPage): Promise<StoredEvent[]>;
  findEvent(id: string): Promise<StoredEvent | undefined>;
  /**
   * Deletes up to `limit` events older than `before`, and those without a user (failed sign-ins
   * with an unknown email) older than `userlessBefore`, with their outbox rows and reports.
   */
  purgeEvents(before: number, limit: number, userlessBefore?: number): Promise<number>;
}
