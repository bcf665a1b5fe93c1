import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const VERIFY_SOURCE = fileURLToPath(new URL('./packages/verify/src/', import.meta.url));

export default defineConfig({
  resolve: {
    // The verifier package from its TypeScript sources, as every other layer, rather than from
    // its build: the tests exercise what is in the tree, and server and verifier share one
    // module each (one GatehouseError class). Processes started from dist/ use the build.
    alias: [
      { find: /^@gatehouse\/verify$/, replacement: `${VERIFY_SOURCE}index.ts` },
      { find: /^@gatehouse\/verify\/([a-z-]+)$/, replacement: `${VERIFY_SOURCE}$1.ts` },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The slow attack and reliability suite runs on its own: `npm run test:hostile`.
    exclude: ['test/hostile/**', '**/node_modules/**'],
    // One PostgreSQL server for the whole run (started unless TEST_DATABASE_URL is set), a
    // migrated template database that test databases are copies of, and one build of dist/ for
    // the tests that start the real server process.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Native modules (better-sqlite3, argon2) are happiest in child processes.
    pool: 'forks',
    // A worker process runs file after file with its modules loaded once, instead of importing
    // Fastify, Kysely and the rest again for each of 118 files (about a third of the run). The
    // tests keep no state in modules: each makes its own stores, apps and servers, and spies
    // only on objects it made. The slow suite keeps isolation (vitest.hostile.config.ts).
    isolate: false,
    // Two at a time even on 2 cores (vitest would run one): most files spend their time waiting
    // on child processes, PostgreSQL and Chromium, and one at a time would take CI past 15 minutes.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
