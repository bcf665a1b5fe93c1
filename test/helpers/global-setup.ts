import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from './embedded-postgres.js';

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
  const server = await startEmbeddedPostgres({ name: 'gatehouse-pg', persistent: false });
  project.provide('postgresUrl', server.url('postgres'));
  return () => server.remove();
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
