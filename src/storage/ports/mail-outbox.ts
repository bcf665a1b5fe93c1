import type { NewMail, OutgoingMail } from '../../core/mail.js';

/**
 * The mail outbox: messages written with what caused them, claimed and sent by any node, as
 * the webhook outbox (outbox.ts) is. One port of the store (src/storage/store.ts).
 */
export interface MailOutboxStore {
  /** Queues messages on their own (a test message); messages with a cause are queued in its transaction. */
  queueMail(mail: NewMail[]): Promise<void>;
  /**
   * Takes up to `limit` messages due at `now`, oldest first, and holds them for `leaseMs` so no
   * other node sends them meanwhile. A message for an account's address whose account is gone
   * is dropped, not handed out.
   */
  claimMail(now: number, limit: number, leaseMs: number): Promise<OutgoingMail[]>;
  /** The SMTP server accepted it: it is never sent again. */
  markMailSent(id: string, at: number): Promise<void>;
  /**
   * It failed: tried again at `nextAttemptAt`, or never again when that is null (given up); only
   * while `claimedUntil` still holds it, when given.
   */
  markMailFailed(id: string, failure: { at: number; error: string; nextAttemptAt: number | null; claimedUntil?: number }): Promise<void>;
  /** Messages neither sent nor given up, and when the oldest of them was queued. */
  mailBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }>;
  /** Deletes up to `limit` messages sent or given up before `before`. */
  purgeSettledMail(before: number, limit: number): Promise<number>;
}
