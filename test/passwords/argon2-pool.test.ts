import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../src/core/errors.js';
import { Argon2Pool, WORKER_FILE } from '../../src/passwords/argon2-pool.js';

// Cheap parameters: these tests are about the pool, not the cost (argon2-hasher.test.ts checks that).
const CHEAP = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 };
const pools: Argon2Pool[] = [];
const newPool = (options: ConstructorParameters<typeof Argon2Pool>[0]) => {
  const pool = new Argon2Pool(options);
  pools.push(pool);
  return pool;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

/** Nice value of every thread of this process (Linux: the 17th field after the name in stat). */
function niceByThread(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    nices.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return nices;
}

describe('the argon2 worker pool', () => {
  it('hashes in its workers, and verifies the right password only', async () => {
    const pool = newPool({ size: 2 });
    const stored = await pool.hash('correct horse battery staple', CHEAP, 'account');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    const answers = await Promise.all([
      pool.verify(stored, 'correct horse battery staple', 'sign-in'),
      pool.verify(stored, 'correct horse battery stapler', 'sign-in'),
    ]);
    expect(answers).toEqual([true, false]);
  });

  it('rejects a malformed hash instead of hanging', async () => {
    await expect(newPool({ size: 1 }).verify('not a hash', 'password', 'sign-in')).rejects.toThrow();
  });

  it.runIf(process.platform === 'linux')('runs its workers at the lowest priority while the event loop keeps its own', async () => {
    const pool = newPool({ size: 2 });
    const before = niceByThread();
    const stored = await pool.hash('correct horse battery staple', CHEAP, 'account');
    await Promise.all([pool.verify(stored, 'a', 'sign-in'), pool.verify(stored, 'b', 'sign-in')]);
    const added = [...niceByThread()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
    expect(added.filter((nice) => nice === 19)).toHaveLength(2);
    expect(niceByThread().get(process.pid)).toBe(before.get(process.pid));
  });

  it('refuses work past its queue bound with `unavailable`, and finishes what it accepted', async () => {
    const pool = newPool({ size: 1, maxWaiting: 2 });
    const stored = await pool.hash('correct horse battery staple', CHEAP, 'account');
    // One runs at once, two wait, the fourth is refused.
    const accepted = [1, 2, 3].map(() => pool.verify(stored, 'correct horse battery staple', 'sign-in'));
    const refused = await pool.verify(stored, 'correct horse battery staple', 'sign-in').catch((error: unknown) => error);
    expect(isGatehouseError(refused, 'unavailable')).toBe(true);
    expect(await Promise.all(accepted)).toEqual([true, true, true]);
  });

  it('keeps a queue per kind of work: a full one refuses its own work only, and sign-in gets the next free worker', async () => {
    const pool = newPool({ size: 1, maxWaiting: 3 });
    const stored = await pool.hash('correct horse battery staple', CHEAP, 'account');
    const finished: string[] = [];
    const track = (name: string, job: Promise<unknown>) => job.then(() => finished.push(name));
    // One registration runs, three wait: their queue is full, and a fifth is refused.
    const registrations = [1, 2, 3, 4].map((i) => track(`registration ${i}`, pool.hash(`password ${i}`, CHEAP, 'account')));
    const refused = await pool.hash('password 5', CHEAP, 'account').catch((error: unknown) => error);
    expect(isGatehouseError(refused, 'unavailable')).toBe(true);
    expect(pool.full('account')).toBe(true);
    // A sign-in is still taken, and runs as soon as the registration running now is done.
    expect(pool.full('sign-in')).toBe(false);
    const signIn = track('sign-in', pool.verify(stored, 'correct horse battery staple', 'sign-in'));
    await Promise.all([...registrations, signIn]);
    expect(finished).toEqual(['registration 1', 'sign-in', 'registration 2', 'registration 3', 'registration 4']);
  });

  it('fails the job of a worker that dies, and serves the next job with a new worker', async () => {
    const pool = newPool({ size: 1 });
    const stored = await pool.hash('correct horse battery staple', CHEAP, 'account');
    const job = pool.verify(stored, 'correct horse battery staple', 'sign-in');
    // The pool's own worker, reached past `private`: a crash cannot be caused from outside.
    const [slot] = (pool as unknown as { slots: { worker: Worker }[] }).slots;
    await slot!.worker.terminate();
    await expect(job).rejects.toThrow(/worker/);
    expect(await pool.verify(stored, 'correct horse battery staple', 'sign-in')).toBe(true);
  });

  it('rejects waiting jobs when closed, and refuses new ones', async () => {
    const pool = newPool({ size: 1 });
    const jobs = [1, 2, 3].map((i) => pool.hash(`password ${i}`, CHEAP, 'account').catch((error: unknown) => error));
    await pool.close();
    for (const outcome of await Promise.all(jobs)) expect(String(outcome)).toMatch(/closed/);
    await expect(pool.hash('password', CHEAP, 'account')).rejects.toThrow(/closed/);
  });

  it("starts its workers from the compiled worker module, the build's when run from the TypeScript sources", () => {
    // Node 20 cannot start a worker from a .ts file: under vitest the pool uses dist/'s copy.
    expect(WORKER_FILE).toBe(resolve('dist/passwords/argon2-worker.js'));
  });

  it('keeps a process alive while a hash is pending, and lets it exit when idle, without a close()', async () => {
    // The built hasher in a process of its own: it must print the answer (alive while working)
    // and then exit by itself (idle workers do not hold the process).
    const script = `import { argon2Hasher } from ${JSON.stringify(resolve('dist/passwords/argon2-hasher.js'))};
      const hasher = argon2Hasher();
      console.log(await hasher.verify(await hasher.hash('correct horse battery staple', 'account'), 'correct horse battery staple', 'sign-in'));`;
    // --input-type is refused for a worker started from a file: the pool must not pass it on.
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim()).toBe('true');
  });
});
