import type { StoredEvent, WebhookType } from '../../core/activity.js';

/** A notification due for delivery, with what its payload is made of. */
export interface WebhookDelivery {
  type: WebhookType;
  event: StoredEvent;
  /** The account as it is at delivery (its email may have changed since the event); null if deleted. */
  user: { id: string; email: string; name: string | null } | null;
  /** Attempts made before this one. */
  attempts: number;
  /** Until when this claim holds it (the lease it was claimed under). */
  claimedUntil: number;
}

/**
 * The webhook outbox: notifications written with their events, claimed and sent by any node.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface OutboxStore {
  /**
   * Takes up to `limit` notifications due at `now`, oldest first, and holds them for `leaseMs`
   * so no other node sends them meanwhile; a node that dies lets them go when the lease ends.
   */
  claimWebhookDeliveries(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]>;
  /** The receiver acknowledged it: it is never sent again. */
  markWebhookDelivered(eventId: string, at: number): Promise<void>;
  /**
   * It failed: tried again at `nextAttemptAt`, or never again when that is null (given up).
   * With `claimedUntil`, only while that claim still holds it: a node that stalled past its
   * lease must not reschedule a delivery another node has claimed since.
   */
  markWebhookFailed(eventId: string, failure: { at: number; error: string; nextAttemptAt: number | null; claimedUntil?: number }): Promise<void>;
  /** Notifications not yet delivered nor given up, and when the oldest of them was created. */
  webhookBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }>;
  /** Deletes up to `limit` outbox rows delivered or given up before `before`. */
  purgeWebhookDeliveries(before: number, limit: number): Promise<number>;
}
