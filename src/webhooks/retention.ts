import { SECOND, type Clock } from '../core/clock.js';
import { batchTarget, inBatches } from '../service/batches.js';
import type { StoreConnection } from '../storage/ports/connection.js';
import type { OutboxStore } from '../storage/ports/outbox.js';

/**
 * Delivered and given-up outbox rows are kept a week, for an operator asking "did that alert
 * go out?" (`last_error`, `attempts`), then deleted. Pending rows are never purged here: they
 * go only with their event, at the end of the history's retention.
 */
export const SETTLED_DELIVERY_RETENTION_MS = 7 * 86_400 * SECOND;

export async function purgeSettledDeliveries(ctx: {
  store: Pick<OutboxStore, 'purgeWebhookDeliveries'> & Pick<StoreConnection, 'onTheEventLoop'>;
  clock: Clock;
}): Promise<number> {
  const before = ctx.clock.now() - SETTLED_DELIVERY_RETENTION_MS;
  return inBatches((limit) => ctx.store.purgeWebhookDeliveries(before, limit), ctx.clock, batchTarget(ctx.store));
}
