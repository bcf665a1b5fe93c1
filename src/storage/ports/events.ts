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
  /**
   * Where history is kept a month at a time (PostgreSQL), makes ready the months from the one
   * holding `now` to two after it, so every event is written into its own month. Safe on every
   * node at once; nothing to do on SQLite, where history is one table.
   */
  prepareEventMonths(now: number): Promise<void>;
  /**
   * Where history is kept a month at a time (PostgreSQL), deletes at once every month that
   * ended before `before`, with the outbox rows and reports of its events, and returns how many
   * events went; `purgeEvents` then deletes the rest, in batches. 0 on SQLite, where
   * `purgeEvents` does it all.
   */
  purgeEventMonths(before: number): Promise<number>;
}
