import { defineConfig } from 'vitest/config';

export default defineConfig({
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
    // Two at a time even on 2 cores (vitest would run one): most files spend their time waiting
    // on child processes, PostgreSQL and Chromium, and one at a time would take CI past 15 minutes.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
