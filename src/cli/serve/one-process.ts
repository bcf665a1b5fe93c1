import type { Config } from '../../config.js';
import { createGatehouse, type Gatehouse, type GatehouseOverrides } from '../../gatehouse.js';
import { SHUTDOWN_GRACE_MS } from './shutdown-grace.js';

export interface OneProcessOptions {
  onRevoked?: GatehouseOverrides['onRevoked'];
  /** Runs once the node is built, before it listens (a cluster worker hooks its relay in here). */
  beforeListen?: (gatehouse: Gatehouse) => void | Promise<void>;
}

/**
 * One Gatehouse node in this process: config → createGatehouse → listen, until SIGTERM or
 * SIGINT; then requests in flight finish, pending activity is written and the database closed.
 * Rejects if it cannot start; otherwise resolves with the exit code once it has stopped.
 */
export async function serveOneProcess(config: Readonly<Config>, options: OneProcessOptions = {}): Promise<number> {
  let gatehouse: Gatehouse | undefined;
  // Heard from the very start, so a signal during start-up ends in a clean stop right after it
  // instead of killing the process halfway through a migration. From the first signal on, the
  // process has SHUTDOWN_GRACE_MS to stop, however far it got; a second signal changes nothing.
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    let heard = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (heard) return;
      heard = true;
      resolve(signal);
      setTimeout(() => {
        if (gatehouse) gatehouse.app.log.error('shutdown took too long; exiting');
        else console.error('gatehouse: shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  gatehouse = await createGatehouse(config, options.onRevoked ? { onRevoked: options.onRevoked } : {});
  const { app } = gatehouse;
  try {
    await options.beforeListen?.(gatehouse);
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await gatehouse.close().catch(() => {});
    throw error;
  }

  app.log.info({ signal: await stopRequested }, 'shutting down');
  try {
    await gatehouse.close();
    return 0;
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    return 1;
  }
}
