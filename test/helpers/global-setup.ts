import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { createTemplates } from './templates.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    /** A migrated PostgreSQL database on that server, which test databases are copies of. */
    postgresTemplate: string;
    /** A migrated SQLite file, which test databases are copies of. */
    sqliteTemplate: string;
  }
}

/**
 * Runs once before all tests: builds dist/ (the process tests start the real server) and
 * provides a PostgreSQL server, a real one, so every store test runs on both databases
 * with no manual set-up: TEST_DATABASE_URL if given, else one started from embedded-postgres.
 * On it, and in a SQLite file, one migrated template database (templates.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // TEST_SKIP_BUILD=1 runs against the dist/ already there (for quick runs of in-process tests).
  // The whole build (the verifier package, tsc, the page's and the password list's data files):
  // the process tests run dist/ as `npm start` does.
  if (process.env.TEST_SKIP_BUILD !== '1') execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });

  const given = process.env.TEST_DATABASE_URL;
  const server = given ? undefined : await startTestPostgres();
  const postgresUrl = given ?? server!.url('postgres');
  try {
    const templates = await createTemplates(postgresUrl, { shared: given !== undefined });
    project.provide('postgresUrl', postgresUrl);
    project.provide('postgresTemplate', templates.postgres);
    project.provide('sqliteTemplate', templates.sqlite);
    return async () => {
      await templates.remove();
      await server?.remove();
    };
  } catch (error) {
    await server?.remove().catch(() => {});
    return stopRun(`could not make the template databases on ${given ? 'TEST_DATABASE_URL' : 'the test PostgreSQL server'}: ${messageOf(error)}`);
  }
}

async function startTestPostgres() {
  try {
    return await startEmbeddedPostgres({ name: 'gatehouse-pg' });
  } catch (error) {
    return stopRun(
      `could not start the test PostgreSQL server (embedded-postgres): ${messageOf(error)}. ` +
        'Fix that, or set TEST_DATABASE_URL=postgres://user:password@host:port/database to a server of your own (the tests create and drop databases on it).',
    );
  }
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

/**
 * Ends the run with one line that says what to do. Thrown instead, the error would come out
 * as vitest's "No test files found" and an "Unhandled Error" box; no test worker runs yet.
 */
function stopRun(message: string): never {
  process.stderr.write(`\ngatehouse tests: ${message}\n`);
  process.exit(1);
}
