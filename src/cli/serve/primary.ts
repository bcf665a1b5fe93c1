import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config.js';
import { relayBetweenWorkers } from '../../revocation/cluster-relay.js';
import { migrateDatabase } from '../../storage/migrate.js';
import { primaryLog, type PrimaryLog } from './primary-log.js';

/** More unexpected deaths than this within the window, with no worker left serving: give up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** The pause before a restart, doubled for each restart already in the window, so a crash loop does not spin. */
const FIRST_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 5_000;
/** Workers get their own shutdown timeout and this much more before they are killed outright. */
const STOP_MARGIN_MS = 2_000;

/**
 * `gatehouse serve --workers N`: this process serves no requests. It migrates the database,
 * forks N workers that each run a whole node on the shared port, relays their sign-outs to each
 * other, restarts one that dies, and stops them all on SIGTERM or SIGINT. Resolves with the
 * exit code once every worker has exited: 0 when all stopped cleanly.
 */
export async function servePrimary(config: Readonly<Config>, count: number): Promise<number> {
  // Once, before any worker exists: workers starting together would race through the
  // migrations, and on SQLite the loser fails with SQLITE_BUSY (Kysely's lock is per process).
  await migrateDatabase(config.database);
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker.js', import.meta.url)), args: [] });
  const stopRelay = relayBetweenWorkers(cluster);
  const code = await supervise(count, primaryLog(config.logLevel), config.shutdownTimeoutSeconds * 1000 + STOP_MARGIN_MS);
  stopRelay();
  return code;
}

function supervise(count: number, log: PrimaryLog, stopTimeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const live = new Set<Worker>();
    const listening = new Set<number>();
    /** Workers listening right now: while any is, the service is up and restarts go on. */
    const serving = new Set<number>();
    /** When each recent restart happened, oldest first. */
    const restarts: number[] = [];
    const pendingRestarts = new Set<NodeJS.Timeout>();
    let started = false;
    let stopping = false;
    let failed = false;

    const fork = () => live.add(cluster.fork());

    const onListening = (worker: Worker, address: { address: string; port: number }) => {
      serving.add(worker.id);
      // A restarted worker's own "Server listening" line says enough.
      if (started || stopping) return;
      listening.add(worker.id);
      while (live.size < count) fork();
      if (listening.size < count) return;
      started = true;
      log.info({ workers: count, host: address.address, port: address.port }, `serving with ${count} worker${count === 1 ? '' : 's'} on port ${address.port}`);
    };

    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      live.delete(worker);
      serving.delete(worker.id);
      const died = { worker_pid: worker.process.pid, code, signal };
      if (stopping) {
        if (code !== 0) failed = true;
        if (live.size === 0) finish();
      } else if (!started) {
        // At start, a worker that cannot start means the others will not either (port taken,
        // database unreachable): stop now with its own error line on stderr, not after retries.
        log.fatal(died, 'a worker could not start; stopping');
        failed = true;
        stop('SIGTERM');
      } else {
        restart(died);
      }
    };

    const restart = (died: object) => {
      const now = Date.now();
      while (restarts.length > 0 && now - (restarts[0] as number) > RESTART_WINDOW_MS) restarts.shift();
      // Give up only when nothing serves any more: a worker that cannot start while the
      // database is down must not take its healthy siblings with it; it is retried every 5 s.
      if (restarts.length >= MAX_RESTARTS && serving.size === 0) {
        log.fatal(died, `workers died ${MAX_RESTARTS + 1} times within ${RESTART_WINDOW_MS / 1000} s; stopping`);
        failed = true;
        stop('SIGTERM');
        return;
      }
      const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** restarts.length, MAX_RESTART_DELAY_MS);
      restarts.push(now);
      log.error({ ...died, restart_in_ms: delay }, 'worker died; restarting it');
      const timer = setTimeout(() => {
        pendingRestarts.delete(timer);
        fork();
      }, delay);
      pendingRestarts.add(timer);
    };

    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      for (const timer of pendingRestarts) clearTimeout(timer);
      log.info({ signal, workers: live.size }, 'shutting down');
      // Each worker stops as `gatehouse serve` alone would (one-process.ts): it refuses new
      // connections, answers the requests it has read, writes last activity, hands back its
      // webhook deliveries and closes its database connection. Once every worker has closed
      // its listener, node:cluster closes the shared port.
      for (const worker of live) worker.process.kill(signal);
      if (live.size === 0) return finish();
      setTimeout(() => {
        log.error({ workers: live.size }, 'workers took too long to stop; killing them');
        failed = true;
        for (const worker of live) worker.process.kill('SIGKILL');
      }, stopTimeoutMs).unref();
    };

    const onSigterm = () => stop('SIGTERM');
    const onSigint = () => stop('SIGINT');
    const finish = () => {
      process.off('SIGTERM', onSigterm);
      process.off('SIGINT', onSigint);
      cluster.off('listening', onListening);
      cluster.off('exit', onExit);
      resolve(failed ? 1 : 0);
    };

    process.on('SIGTERM', onSigterm);
    process.on('SIGINT', onSigint);
    cluster.on('listening', onListening);
    cluster.on('exit', onExit);
    // The first worker starts alone, the rest once it listens: a mistake every worker would
    // make (port taken, database refusing) is then reported once, not once per worker.
    fork();
  });
}
