import { webhookDeliveryTests } from '../../webhooks/delivery-end-to-end.js';

/**
 * Issue 5, item 4, end to end: every webhook arrives exactly once, though the receiver is down
 * at first and Gatehouse restarts, on both databases. `npm test` keeps one notification
 * retried once (test/webhooks/delivery.process.test.ts).
 */
webhookDeliveryTests(['sqlite', 'postgres']);
