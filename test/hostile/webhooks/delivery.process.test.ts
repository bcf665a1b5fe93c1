import { webhookDeliveryTests } from '../../webhooks/delivery-end-to-end.js';

/**
 * Issue 5, item 4, end to end on PostgreSQL: every webhook arrives exactly once, though the
 * receiver is down at first and Gatehouse restarts. `npm test` runs it on SQLite
 * (test/webhooks/delivery.process.test.ts).
 */
webhookDeliveryTests(['postgres']);
