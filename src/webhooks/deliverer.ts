import { SECOND, type Clock } from '../core/clock.js';
import type { NotMeLinks } from '../core/not-me-link.js';
import type { OutboxStore, WebhookDelivery } from '../storage/ports/outbox.js';
import { OutboxPump } from '../outbox/pump.js';
import { nextAttemptAt } from '../outbox/backoff.js';
import { webhookPayload } from './payload.js';
import { webhookHeaders, webhookKey } from './signature.js';

/** What the deliverer logs through (pino's shape). It never logs a body: a not-me link in one works. */
export interface WebhookLog {
  debug(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface WebhookDelivererOptions {
  /** GATEHOUSE_WEBHOOK_URL. Never logged: such URLs often carry a token of their own. */
  url: string;
  /** GATEHOUSE_WEBHOOK_SECRET. */
  secret: string;
  notMeLinks: NotMeLinks | undefined;
  store: Pick<OutboxStore, 'claimWebhookDeliveries' | 'markWebhookDelivered' | 'markWebhookFailed'>;
  clock: Clock;
  log: WebhookLog;
  /** How often the outbox is checked for due deliveries. */
  intervalMs?: number;
  /** The most deliveries in flight at once (per node). */
  maxInFlight?: number;
  /** How long one attempt may take, answer included. */
  timeoutMs?: number;
  /** How long a claimed delivery is this node's; must be well above `timeoutMs`. */
  leaseMs?: number;
  /** How long `close()` lets attempts in flight finish before it cuts them off. */
  closeGraceMs?: number;
  /** In [0, 1): the backoff's jitter. */
  random?: () => number;
}

export interface DeliveryPass {
  delivered: number;
  failed: number;
}

/**
 * Sends the outbox (`webhook_deliveries`) to the receiver: claims due deliveries with a lease,
 * so nodes sharing the database never send one delivery at the same time and a node that dies
 * lets its claims go; POSTs each, signed; a 2xx settles it, anything else is retried by the
 * backoff schedule (backoff.ts) until it is given up. Delivery is at least once: a receiver
 * that answers after the timeout, or a node that dies between the answer and recording it,
 * gets the same `webhook-id` again, which is why receivers deduplicate on it.
 */
export class WebhookDeliverer {
  readonly #options: Required<Omit<WebhookDelivererOptions, 'notMeLinks' | 'secret'>> & Pick<WebhookDelivererOptions, 'notMeLinks'>;
  readonly #key: Buffer;
  readonly #pump: OutboxPump<DeliveryPass>;

  constructor(options: WebhookDelivererOptions) {
    const timeoutMs = options.timeoutMs ?? 10 * SECOND;
    this.#options = {
      intervalMs: SECOND,
      maxInFlight: 16,
      leaseMs: timeoutMs + 50 * SECOND,
      closeGraceMs: 3 * SECOND,
      random: Math.random,
      ...options,
      timeoutMs,
    };
    this.#key = webhookKey(options.secret);
    this.#pump = new OutboxPump(() => this.#pass(), {
      intervalMs: this.#options.intervalMs,
      closeGraceMs: this.#options.closeGraceMs,
      onError: (error) => this.#options.log.error({ err: error }, 'webhook outbox could not be read; trying again'),
    });
  }

  /** Checks the outbox every `intervalMs` from now on, starting at once. */
  start(): void {
    this.#pump.start();
  }

  /** Checks the outbox now (say, right after a notifying event was written) instead of at the next tick. */
  kick(): void {
    this.#pump.kick();
  }

  /**
   * One pass: claims and sends due deliveries, batch after batch, until none is due; resolves
   * with what became of them. Rejects only when the store does (claiming); the timer's passes
   * log that instead.
   */
  deliverDue(): Promise<DeliveryPass> {
    return this.#pump.runNow();
  }

  /**
   * Stops: no new claims; attempts in flight get `closeGraceMs` to finish, then are cut off
   * and handed back for an immediate retry by whichever node runs next. Call before the store closes.
   */
  close(): Promise<void> {
    return this.#pump.close();
  }

  async #pass(): Promise<DeliveryPass> {
    const { store, clock, maxInFlight, leaseMs } = this.#options;
    const result: DeliveryPass = { delivered: 0, failed: 0 };
    while (!this.#pump.closing) {
      const batch = await store.claimWebhookDeliveries(clock.now(), maxInFlight, leaseMs);
      const outcomes = await Promise.all(batch.map((delivery) => this.#deliver(delivery)));
      for (const delivered of outcomes) result[delivered ? 'delivered' : 'failed']++;
      if (batch.length < maxInFlight) break;
    }
    return result;
  }

  /** One attempt; true when the receiver acknowledged it. Never rejects. */
  async #deliver(delivery: WebhookDelivery): Promise<boolean> {
    const { url, clock, timeoutMs, notMeLinks } = this.#options;
    const id = delivery.event.id;
    let error: string;
    try {
      const body = JSON.stringify(webhookPayload(delivery, notMeLinks));
      // A fresh timestamp and signature per attempt, as receivers refuse old timestamps.
      const headers = webhookHeaders(this.#key, id, Math.floor(clock.now() / SECOND), body);
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        // A redirect is a misconfiguration to fix, not an address to send account news to.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#pump.cutOff.signal]),
      });
      await response.body?.cancel().catch(() => {});
      if (response.status >= 200 && response.status < 300) return await this.#settled(delivery);
      error = `HTTP ${response.status}`;
    } catch (thrown) {
      error = this.#pump.cutOff.signal.aborted ? 'interrupted by shutdown' : describe(thrown, timeoutMs);
    }
    await this.#failed(delivery, error);
    return false;
  }

  async #settled(delivery: WebhookDelivery): Promise<true> {
    const { store, clock, log } = this.#options;
    try {
      await store.markWebhookDelivered(delivery.event.id, clock.now());
      log.debug({ webhook_id: delivery.event.id, webhook_type: delivery.type, attempts: delivery.attempts + 1 }, 'webhook delivered');
    } catch (error) {
      // The receiver has it; when the lease ends it gets it again, and deduplicates it.
      log.error({ err: error, webhook_id: delivery.event.id }, 'webhook delivered but not recorded; it will be sent again');
    }
    return true;
  }

  async #failed(delivery: WebhookDelivery, error: string): Promise<void> {
    const { store, clock, log, random } = this.#options;
    const now = clock.now();
    const attempts = delivery.attempts + 1;
    // Cut off by a shutdown: due at once, for the next node (or this one after its restart).
    const next = this.#pump.cutOff.signal.aborted ? now : nextAttemptAt(attempts, delivery.event.at, now, random);
    const about = { webhook_id: delivery.event.id, webhook_type: delivery.type, attempts, error };
    try {
      await store.markWebhookFailed(delivery.event.id, { at: now, error, nextAttemptAt: next, claimedUntil: delivery.claimedUntil });
    } catch (thrown) {
      // Still claimed: it is tried again when the lease ends.
      log.error({ err: thrown, ...about }, 'webhook delivery failed and could not be rescheduled');
      return;
    }
    if (next === null) log.error(about, 'webhook delivery given up: the receiver has failed it for 3 days');
    else log.warn({ ...about, next_attempt_at: new Date(next).toISOString() }, 'webhook delivery failed; will retry');
  }
}

/** Why an attempt failed, in words that never contain the URL (which may carry a token). */
function describe(thrown: unknown, timeoutMs: number): string {
  if (thrown instanceof Error && thrown.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = thrown instanceof Error ? (thrown.cause as { code?: unknown; name?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.name === 'string') return cause.name;
  return thrown instanceof Error ? thrown.name : 'unknown error';
}
