import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:hostile`: the slow attack and reliability suite (issue 8) under test/hostile/,
 * with the same global setup (a build of dist/, one PostgreSQL server) as `npm test`.
 */
// Spread, not mergeConfig: mergeConfig concatenates arrays, which would keep the base's
// exclusion of test/hostile/** and so find no test at all.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/hostile/**/*.test.ts'], exclude: ['**/node_modules/**'], testTimeout: 120_000, isolate: true },
});
