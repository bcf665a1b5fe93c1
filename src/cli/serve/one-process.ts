import type { Config } from '../../config.js';
import { createGatehouse, type Gatehouse, type GatehouseOverrides } from '../../gatehouse.js';

export interface OneProcessOptions {
  onRevoked?: GatehouseOverrides['onRevoked'];
  /** Runs once the node is built, before it listens (a cluster worker hooks its relay in here). */
  beforeListen?: (gatehouse: Gatehouse) => void | Promise<void>;
}

/**
 * One Gatehouse node in this process: config → createGatehouse → listen, until SIGTERM or
 * SIGINT; then it stops as `Gatehouse.close` says (new connections refused, /readyz failing,
 * every request read answered, pending activity written, webhook deliveries finished or handed
 * back, the database closed). Rejects if it cannot start; otherwise resolves with the exit code
 * once it has stopped: 0, or 1 when the stop failed. A stop that outlasts
 * GATEHOUSE_SHUTDOWN_TIMEOUT ends the process with code 1 and an error line.
 */
export async function serveOneProcess(config: Readonly<Config>, options: OneProcessOptions = {}): Promise<number> {
  let gatehouse: Gatehouse | undefined;
  // Heard from the very start, so a signal during start-up ends in a clean stop right after it
  // instead of killing the process halfway through a migration. From the first signal on, the
  // process has the shutdown timeout to stop, however far it got; a second signal changes nothing.
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    let heard = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (heard) return;
      heard = true;
      resolve(signal);
      const timeoutMs = config.shutdownTimeoutSeconds * 1000;
      setTimeout(() => {
        const message = `shutdown took longer than GATEHOUSE_SHUTDOWN_TIMEOUT (${config.shutdownTimeoutSeconds} s); exiting with requests or writes unfinished`;
        if (gatehouse) gatehouse.app.log.error({ timeout_ms: timeoutMs }, message);
        else console.error(`gatehouse: ${message}`);
        process.exit(1);
      }, timeoutMs).unref();
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
    app.log.info('stopped');
    return 0;
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    return 1;
  }
}
