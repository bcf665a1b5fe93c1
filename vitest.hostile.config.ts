import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:hostile`: the slow attack and reliability suite (issue 8) under test/hostile/,
 * with the same global setup (a build of dist/, one PostgreSQL server) as `npm test`.
 */
export default mergeConfig(base, defineConfig({ test: { include: ['test/hostile/**/*.test.ts'], testTimeout: 120_000 } }));
