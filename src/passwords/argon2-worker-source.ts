/**
 * What each argon2 worker thread runs. Kept as source text (a worker started with `eval`) so the
 * same pool works from the TypeScript sources under vitest and from dist/, with no separate
 * worker file to build and find. Only dynamic `import()`, which works whether the text is run as
 * CommonJS or, when the process was started with `--input-type=module`, as a module.
 * `workerData` carries the URL of @node-rs/argon2 (resolved by the pool, so it does not depend
 * on the working directory), the URL of @node-rs/bcrypt (loaded at the first bcrypt job only:
 * imported hashes are a migration's leftovers, most processes never see one) and the nice value.
 */
export const ARGON2_WORKER_SOURCE = `
import('node:worker_threads').then(async ({ parentPort, workerData }) => {
  const { setPriority } = await import('node:os');
  const loaded = await import(workerData.argon2Url);
  const argon2 = loaded.hashSync ? loaded : loaded.default;
  // Linux keeps a nice value per thread, so this lowers this thread only: the event loop of the
  // process keeps its priority and wins the CPU whenever it has work; hashing gets what is left.
  // Where the call is refused, hashing runs at normal priority.
  try {
    setPriority(workerData.nice);
  } catch {}
  let bcrypt;
  parentPort.on('message', async ({ id, op, args }) => {
    try {
      let value;
      if (op === 'bcrypt-verify') {
        if (!bcrypt) {
          const loadedBcrypt = await import(workerData.bcryptUrl);
          bcrypt = loadedBcrypt.verifySync ? loadedBcrypt : loadedBcrypt.default;
        }
        // (password, hash): bcrypt's argument order is the other way round from argon2's.
        value = bcrypt.verifySync(args[1], args[0]);
      } else {
        value = op === 'hash' ? argon2.hashSync(args[0], args[1]) : argon2.verifySync(args[0], args[1]);
      }
      parentPort.postMessage({ id, value });
    } catch (error) {
      parentPort.postMessage({ id, error: String((error && error.message) || error) });
    }
  });
});
`;
