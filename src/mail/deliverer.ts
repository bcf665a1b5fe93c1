import { SECOND, type Clock } from '../core/clock.js';
import { isAlert, type OutgoingMail } from '../core/mail.js';
import { nextAttemptAt } from '../outbox/backoff.js';
import { OutboxPump } from '../outbox/pump.js';
import type { MailOutboxStore } from '../storage/ports/mail-outbox.js';
import { composeMail, type MailSettings } from './compose.js';
import type { MailTransport } from './transport.js';

/** What the deliverer logs through (pino's shape). Never a message body: a reset link in one opens the account. */
export interface MailLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface MailCounts {
  sent: number;
  failed: number;
}

export interface MailDelivererOptions {
  transport: MailTransport;
  settings: MailSettings;
  store: Pick<MailOutboxStore, 'claimMail' | 'markMailSent' | 'markMailFailed'>;
  clock: Clock;
  log: MailLog;
  /** Told of each attempt's outcome, for /metrics. */
  onAttempt?: (outcome: 'sent' | 'retried' | 'failed') => void;
  intervalMs?: number;
  maxInFlight?: number;
  /** How long one message may take, the SMTP conversation included. */
  timeoutMs?: number;
  leaseMs?: number;
  closeGraceMs?: number;
  random?: () => number;
}

/**
 * Sends the mail outbox, as the webhook deliverer sends its own (webhooks/deliverer.ts): claims
 * due messages under a lease, so nodes sharing the database never send one message at the same
 * time and a node that dies lets its claims go; hands each to the transport; an accepted
 * message is settled, a failure retried by the backoff (outbox/backoff.ts) for 3 days. Every
 * attempt carries the same Message-ID, so the rare repeat (a node dying between the server's
 * acceptance and recording it) is one a mail system can recognise.
 */
export class MailDeliverer {
  readonly #options: Required<Omit<MailDelivererOptions, 'onAttempt'>> & Pick<MailDelivererOptions, 'onAttempt'>;
  readonly #pump: OutboxPump<MailCounts>;

  constructor(options: MailDelivererOptions) {
    const timeoutMs = options.timeoutMs ?? 60 * SECOND;
    this.#options = {
      intervalMs: SECOND,
      maxInFlight: 4,
      leaseMs: timeoutMs + 60 * SECOND,
      closeGraceMs: 3 * SECOND,
      random: Math.random,
      ...options,
      timeoutMs,
    };
    this.#pump = new OutboxPump(() => this.#pass(), {
      intervalMs: this.#options.intervalMs,
      closeGraceMs: this.#options.closeGraceMs,
      onError: (error) => this.#options.log.error({ err: error }, 'mail outbox could not be read; trying again'),
    });
  }

  start(): void {
    this.#pump.start();
  }

  /** Checks the outbox now (right after a message was queued) instead of at the next tick. */
  kick(): void {
    this.#pump.kick();
  }

  /** One pass now: claims and sends due messages until none is due. */
  sendDue(): Promise<MailCounts> {
    return this.#pump.runNow();
  }

  /** Stops claiming; messages in flight get `closeGraceMs`, then are handed back for the next node. */
  async close(): Promise<void> {
    await this.#pump.close();
    this.#options.transport.close();
  }

  async #pass(): Promise<MailCounts> {
    const { store, clock, maxInFlight, leaseMs } = this.#options;
    const counts: MailCounts = { sent: 0, failed: 0 };
    while (!this.#pump.closing) {
      const batch = await store.claimMail(clock.now(), maxInFlight, leaseMs);
      const outcomes = await Promise.all(batch.map((mail) => this.#send(mail)));
      for (const sent of outcomes) counts[sent ? 'sent' : 'failed']++;
      if (batch.length < maxInFlight) break;
    }
    return counts;
  }

  /** One attempt; true when the server (or the file) took it. Never rejects. */
  async #send(mail: OutgoingMail): Promise<boolean> {
    const { transport, settings, timeoutMs } = this.#options;
    if (isAlert(mail) && !mail.addressProved) return this.#withheld(mail, 'not sent: alerts go only to an address the account has proved');
    // A reset asked for an account that gets no link (disabled, over its hourly limit): written
    // only so that the request took as long as one that mails (service/password-reset.ts).
    if (typeof mail.data.withheld === 'string') return this.#withheld(mail, `not sent: withheld (${mail.data.withheld})`);
    const cutOff = this.#pump.cutOff.signal;
    let error: string;
    let permanent = false;
    try {
      const message = composeMail(mail, settings);
      const where = await abortable(transport.send(message), AbortSignal.any([AbortSignal.timeout(timeoutMs), cutOff]));
      await this.#settled(mail, where);
      return true;
    } catch (thrown) {
      error = cutOff.aborted ? 'interrupted by shutdown' : describe(thrown);
      permanent = !cutOff.aborted && isPermanent(thrown);
    }
    await this.#failed(mail, error, permanent);
    return false;
  }

  async #settled(mail: OutgoingMail, where: string): Promise<void> {
    const { store, clock, log, transport } = this.#options;
    this.#options.onAttempt?.('sent');
    const about = { mail_id: mail.id, mail_kind: mail.kind, attempts: mail.attempts + 1 };
    try {
      await store.markMailSent(mail.id, clock.now());
    } catch (error) {
      // The server has it; when the lease ends it goes again, with the same Message-ID.
      log.error({ err: error, ...about }, 'mail sent but not recorded; it will be sent again');
      return;
    }
    // A file's path is for the developer to open; a server's answer is an id to trace.
    if (transport.kind === 'files') log.info({ ...about, file: where }, `mail written to ${where}`);
    else log.info({ ...about, smtp_response: where.slice(0, 200) }, 'mail sent');
  }

  /** A message that must not go out (an alert to an unproved address, a withheld reset): recorded as given up, saying why. */
  async #withheld(mail: OutgoingMail, reason: string): Promise<false> {
    const { store, clock, log } = this.#options;
    await store.markMailFailed(mail.id, { at: clock.now(), error: reason, nextAttemptAt: null, claimedUntil: mail.claimedUntil }).catch((error: unknown) => {
      log.error({ err: error, mail_id: mail.id }, 'a withheld alert could not be recorded; it will be looked at again');
    });
    return false;
  }

  async #failed(mail: OutgoingMail, error: string, permanent = false): Promise<void> {
    const { store, clock, log, random } = this.#options;
    const now = clock.now();
    const attempts = mail.attempts + 1;
    // A permanent refusal (an SMTP 5xx: no such mailbox, refused as spam) will not change in an
    // hour: given up at once. Anything else (a 4xx, no connection) is tried again.
    const next = this.#pump.cutOff.signal.aborted ? now : permanent ? null : nextAttemptAt(attempts, mail.createdAt, now, random);
    this.#options.onAttempt?.(next === null ? 'failed' : 'retried');
    const about = { mail_id: mail.id, mail_kind: mail.kind, attempts, error };
    try {
      await store.markMailFailed(mail.id, { at: now, error, nextAttemptAt: next, claimedUntil: mail.claimedUntil });
    } catch (thrown) {
      log.error({ err: thrown, ...about }, 'mail failed and could not be rescheduled');
      return;
    }
    if (next === null) log.error(about, permanent ? 'mail given up: the server refused it for good' : 'mail given up: it could not be sent for 3 days');
    else log.warn({ ...about, next_attempt_at: new Date(next).toISOString() }, 'mail could not be sent; will retry');
  }
}

/** An SMTP answer in the 5xx range: the server will refuse this message again. */
function isPermanent(thrown: unknown): boolean {
  const code = (thrown as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/** Why an attempt failed, without the credentials of the SMTP URL. */
function describe(thrown: unknown): string {
  if (thrown instanceof Error && thrown.name === 'TimeoutError') return 'no answer in time';
  if (!(thrown instanceof Error)) return 'unknown error';
  const { code, responseCode } = thrown as Error & { code?: unknown; responseCode?: unknown };
  const message = thrown.message.replace(/\/\/[^@/\s]*@/g, '//***@').slice(0, 300);
  return [typeof code === 'string' ? code : null, typeof responseCode === 'number' ? String(responseCode) : null, message].filter(Boolean).join(' ');
}
