import { resourceServerTests } from './resource-servers.js';

/**
 * gatehouse/verify in a Fastify and an Express service against a real Gatehouse process:
 * sign-outs reach them within the bound, their answers are Gatehouse's own, a rotated key is
 * fetched. Gatehouse stopped and killed under them runs in the slow suite
 * (test/hostile/outage/resource-servers.process.test.ts).
 */
resourceServerTests('flows');
