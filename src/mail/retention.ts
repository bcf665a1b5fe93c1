import { SECOND, type Clock } from '../core/clock.js';
import { batchTarget, inBatches } from '../service/batches.js';
import type { AccountTokenStore } from '../storage/ports/account-tokens.js';
import type { StoreConnection } from '../storage/ports/connection.js';
import type { MailOutboxStore } from '../storage/ports/mail-outbox.js';

/**
 * Sent and given-up messages are kept a week, for an operator asking "did the reset mail go
 * out?" (`last_error`, `attempts`), then deleted; pending ones stay until sent or given up.
 * Emailed links are kept a day past their expiry (a person who comes back to one is told it
 * expired rather than that it never existed), then deleted.
 */
export const SETTLED_MAIL_RETENTION_MS = 7 * 86_400 * SECOND;
export const EXPIRED_LINK_RETENTION_MS = 86_400 * SECOND;

type Housekeeping<P> = { store: P & Pick<StoreConnection, 'onTheEventLoop'>; clock: Clock };

export async function purgeSettledMail(ctx: Housekeeping<Pick<MailOutboxStore, 'purgeSettledMail'>>): Promise<number> {
  const before = ctx.clock.now() - SETTLED_MAIL_RETENTION_MS;
  return inBatches((limit) => ctx.store.purgeSettledMail(before, limit), ctx.clock, batchTarget(ctx.store));
}

export async function purgeExpiredLinks(ctx: Housekeeping<Pick<AccountTokenStore, 'purgeAccountTokens'>>): Promise<number> {
  const before = ctx.clock.now() - EXPIRED_LINK_RETENTION_MS;
  return inBatches((limit) => ctx.store.purgeAccountTokens(before, limit), ctx.clock, batchTarget(ctx.store));
}
