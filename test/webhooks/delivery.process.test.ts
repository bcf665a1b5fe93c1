import { webhookDeliveryTests } from './delivery-end-to-end.js';

/**
 * Issue 5, item 4, end to end on SQLite: every webhook arrives exactly once, though the
 * receiver is down at first and Gatehouse restarts. PostgreSQL runs in the slow suite
 * (test/hostile/webhooks/delivery.process.test.ts).
 */
webhookDeliveryTests(['sqlite']);
