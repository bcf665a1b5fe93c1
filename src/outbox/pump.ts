/**
 * What drives an outbox (webhook deliveries, mail): a pass every `intervalMs` and on `kick()`,
 * one pass at a time (a pass drains what is due), and a `close()` that starts no new pass, lets
 * the one in flight finish for `closeGraceMs`, then aborts `cutOff` so its attempts are handed
 * back rather than left claimed. The pass itself is the outbox's: claim, send, settle.
 */
export class OutboxPump<T> {
  /** Aborted when `close()` has waited long enough: attempts in flight stop and are handed back. */
  readonly cutOff = new AbortController();
  readonly #pass: () => Promise<T>;
  readonly #intervalMs: number;
  readonly #closeGraceMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #passes = new Set<Promise<T>>();
  #timer: NodeJS.Timeout | undefined;
  #kicked = false;
  #closing = false;

  constructor(pass: () => Promise<T>, options: { intervalMs: number; closeGraceMs: number; onError: (error: unknown) => void }) {
    this.#pass = pass;
    this.#intervalMs = options.intervalMs;
    this.#closeGraceMs = options.closeGraceMs;
    this.#onError = options.onError;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Runs a pass every `intervalMs` from now on, starting at once. */
  start(): void {
    if (this.#closing || this.#timer) return;
    this.#timer = setInterval(() => this.#run(), this.#intervalMs).unref();
    this.kick();
  }

  /** Runs a pass now (say, right after something was queued) instead of at the next tick. */
  kick(): void {
    if (this.#closing) return;
    if (this.#passes.size > 0) this.#kicked = true;
    else this.#run();
  }

  /** One pass, now, whatever else runs; rejects when the pass does. */
  runNow(): Promise<T> {
    const pass = this.#pass();
    this.#passes.add(pass);
    void pass.finally(() => this.#passes.delete(pass)).catch(() => {});
    return pass;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    const grace = setTimeout(() => this.cutOff.abort(), this.#closeGraceMs);
    await Promise.allSettled([...this.#passes]);
    clearTimeout(grace);
  }

  #run(): void {
    if (this.#closing || this.#passes.size > 0) return;
    this.#kicked = false;
    this.runNow()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        if (this.#kicked) setImmediate(() => this.kick());
      });
  }
}
