import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Options } from '@node-rs/argon2';
import { GatehouseError } from '../core/errors.js';
import type { PasswordWork } from '../core/password-hasher.js';
import type { Job, JobAnswer, WorkerSettings } from './argon2-worker.js';

/**
 * The workers' module, compiled beside this one. Run from the TypeScript sources (vitest does),
 * this module is a .ts file, and Node 20 cannot start a worker from TypeScript: the build's copy
 * in dist/ is used then, which the tests' set-up builds before any test runs.
 */
export const WORKER_FILE = fileURLToPath(
  import.meta.url.endsWith('.ts') ? new URL('../../dist/passwords/argon2-worker.js', import.meta.url) : new URL('./argon2-worker.js', import.meta.url),
);

/**
 * The process's Node options, as workers get by default, but `--input-type`: Node refuses to
 * start a worker from a file under it, and a script run with `node --input-type=module -e` must
 * still hash.
 */
const WORKER_EXEC_ARGV = process.execArgv.filter((arg, i, all) => !arg.startsWith('--input-type') && all[i - 1] !== '--input-type');

interface Pending {
  id: number;
  job: Job;
  resolve(value: unknown): void;
  reject(error: Error): void;
}
interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

export interface Argon2PoolOptions {
  /** Worker threads, each hashing one password at a time: one per core uses every core. */
  size?: number;
  /** Jobs of each kind of work that may wait for a worker; more are refused with `unavailable`. */
  maxWaiting?: number;
  /** Nice value of the workers' threads (19: the lowest priority). */
  nice?: number;
}

/**
 * argon2 in a few worker threads of low priority, instead of libuv's thread pool. On libuv's
 * pool (4 threads, whatever the core count) a flood of sign-ins keeps more threads hashing
 * than there are cores, at the event loop's priority: every other request then waits for CPU
 * behind the hashes. Here at most one hash runs per core, at the lowest priority, so requests
 * that need a little CPU get it at once and hashing still takes all the CPU left over.
 *
 * Each kind of work (`PasswordWork`) waits in a queue of its own, with its own bound, and a
 * free worker takes the next job from the queues in turn. A flood of registrations fills only
 * its own queue (the overflow is refused there), and a sign-in that arrives meanwhile waits for
 * the next free worker, not behind the flood: sign-in always keeps at least its share.
 */
export class Argon2Pool {
  readonly size: number;
  readonly maxWaiting: number;
  private readonly nice: number;
  private readonly slots: Slot[] = [];
  private readonly queues: Record<PasswordWork, Pending[]> = { 'sign-in': [], account: [], registration: [] };
  /** The kinds of work in the order the next free worker looks at them (turned after each job). */
  private turn: PasswordWork[] = ['sign-in', 'account', 'registration'];
  private nextId = 0;
  private closed = false;

  constructor(options: Argon2PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? os.availableParallelism());
    // Under a flood the queue would otherwise grow without end, and every sign-in in it would
    // wait for all before it, long after its client gave up: past this bound a sign-in is
    // refused at once (503, try again) instead of being answered when no one is listening.
    this.maxWaiting = options.maxWaiting ?? 64 * this.size;
    this.nice = options.nice ?? 19;
    // Said plainly at once: a worker whose file is missing would fail each job with a module error.
    if (!existsSync(WORKER_FILE)) throw new Error(`The argon2 worker is missing (${WORKER_FILE}): run npm run build.`);
  }

  hash(password: string, options: Options, work: PasswordWork): Promise<string> {
    return this.run({ op: 'hash', args: [password, options] }, work) as Promise<string>;
  }

  verify(hash: string, password: string, work: PasswordWork): Promise<boolean> {
    return this.run({ op: 'verify', args: [hash, password] }, work) as Promise<boolean>;
  }

  /**
   * Checks a password against a bcrypt hash (`$2a$`, `$2b$`, `$2y$`), imported from another
   * system: in the same workers and queue as argon2, so it too stays off the event loop and
   * counts against the same bound under a flood.
   */
  verifyBcrypt(hash: string, password: string, work: PasswordWork): Promise<boolean> {
    return this.run({ op: 'bcrypt-verify', args: [hash, password] }, work) as Promise<boolean>;
  }

  /** Jobs running, and waiting per kind of work: what a flood has piled up. */
  get load(): { running: number; waiting: Record<PasswordWork, number> } {
    const waiting = { 'sign-in': this.queues['sign-in'].length, account: this.queues.account.length, registration: this.queues.registration.length };
    return { running: this.slots.filter((s) => s.busy).length, waiting };
  }

  /** True when a job of `work` would be refused now: its queue is full. */
  full(work: PasswordWork): boolean {
    return this.queues[work].length >= this.maxWaiting;
  }

  /** Ends every worker; jobs not yet finished are rejected, never left hanging. */
  async close(): Promise<void> {
    this.closed = true;
    const gone = new Error('The password hasher was closed.');
    for (const queue of Object.values(this.queues)) for (const pending of queue.splice(0)) pending.reject(gone);
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.busy?.reject(gone);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private run(job: Job, work: PasswordWork): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('The password hasher was closed.'));
    if (this.full(work)) {
      return Promise.reject(new GatehouseError('unavailable', 'Too many passwords are being checked right now; try again shortly.'));
    }
    return new Promise((resolve, reject) => {
      this.queues[work].push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  /** The next job in turn: the first kind of work in `turn` that has one, which then goes last. */
  private next(): Pending | undefined {
    const work = this.turn.find((w) => this.queues[w].length > 0);
    if (work === undefined) return undefined;
    this.turn = [...this.turn.filter((w) => w !== work), work];
    return this.queues[work].shift();
  }

  private dispatch(): void {
    while (this.turn.some((w) => this.queues[w].length > 0)) {
      const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const pending = this.next()!;
      slot.busy = pending;
      // Referenced only while it works: a pending hash keeps the process alive (a CLI command
      // awaiting it), an idle pool never does, so tests and `npm start` exit without a close().
      slot.worker.ref();
      slot.worker.postMessage({ id: pending.id, ...pending.job });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_FILE, { execArgv: WORKER_EXEC_ARGV, workerData: { nice: this.nice } satisfies WorkerSettings });
    const slot: Slot = { worker, busy: undefined };
    worker.on('message', (message: JobAnswer) => {
      const pending = slot.busy;
      if (!pending || pending.id !== message.id) return;
      slot.busy = undefined;
      worker.unref();
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.value);
      this.dispatch();
    });
    // A worker that dies (out of memory, a native crash, terminated) fails its one job rather
    // than leaving its sign-in hanging, and is replaced by a fresh one on the next job.
    const lost = (error: Error) => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return;
      this.slots.splice(at, 1);
      slot.busy?.reject(error);
      slot.busy = undefined;
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`An argon2 worker stopped (exit code ${code}).`)));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }
}
