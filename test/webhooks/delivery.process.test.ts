import { webhookRetryTest } from './delivery-end-to-end.js';

/**
 * Issue 5, item 4, in small: a webhook from a real Gatehouse process arrives once, signed as
 * docs/webhooks.md says, after a refusal. The whole scenario (the receiver down at first, seven
 * events, Gatehouse restarted in between) runs in the slow suite on both databases
 * (test/hostile/webhooks/delivery.process.test.ts).
 */
webhookRetryTest('sqlite');
