import { ConfigError, loadConfig } from './config.js';
import { createGatehouse } from './gatehouse.js';

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const gatehouse = await createGatehouse(config);
  const { app } = gatehouse;
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    gatehouse.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  // One clear line, not a stack, for the mistakes an operator makes (design §7).
  const message = error instanceof ConfigError ? `gatehouse: configuration error: ${error.message}` : `gatehouse: cannot start: ${error instanceof Error ? error.message : String(error)}`;
  console.error(message);
  process.exit(1);
});
