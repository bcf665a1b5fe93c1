import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { hashSync, verifySync, type Options } from '@node-rs/argon2';

/**
 * What each worker thread of the argon2 pool (argon2-pool.ts) runs: one job at a time, each
 * answered with its `id`. Started by the pool only, never imported.
 */

export type Job = { op: 'hash'; args: [string, Options] } | { op: 'verify' | 'bcrypt-verify'; args: [string, string] };
export type JobMessage = Job & { id: number };
export type JobAnswer = { id: number; value: unknown; error?: undefined } | { id: number; error: string };
export interface WorkerSettings {
  /** Nice value of this thread. */
  nice: number;
}

type Bcrypt = typeof import('@node-rs/bcrypt');

const port = parentPort;
if (!port) throw new Error('argon2-worker.js runs in a worker thread of the argon2 pool only.');

// Linux keeps a nice value per thread, so this lowers this thread only: the event loop of the
// process keeps its priority and wins the CPU whenever it has work; hashing gets what is left.
// Where the call is refused, hashing runs at normal priority.
try {
  setPriority((workerData as WorkerSettings).nice);
} catch {}

// Loaded at the first bcrypt job only: imported hashes are a migration's leftovers, and most
// processes never see one.
let bcrypt: Bcrypt | undefined;

async function run(job: Job): Promise<unknown> {
  switch (job.op) {
    case 'hash':
      return hashSync(job.args[0], job.args[1]);
    case 'verify':
      return verifySync(job.args[0], job.args[1]);
    case 'bcrypt-verify':
      bcrypt ??= await import('@node-rs/bcrypt');
      // (password, hash): bcrypt's argument order is the other way round from argon2's.
      return bcrypt.verifySync(job.args[1], job.args[0]);
  }
}

port.on('message', async (message: JobMessage) => {
  let answer: JobAnswer;
  try {
    answer = { id: message.id, value: await run(message) };
  } catch (error) {
    answer = { id: message.id, error: String((error instanceof Error && error.message) || error) };
  }
  port.postMessage(answer);
});
