import type { Config } from './config.js';
import { SECOND, type Clock } from './core/clock.js';
import { purgeExpiredLinks, purgeSettledMail } from './mail/retention.js';
import { purgeAddressAttempts, purgeEndedSessions, purgeEvents, purgeSignInFailures } from './service/housekeeping.js';
import type { Store } from './storage/store.js';
import { purgeSettledDeliveries } from './webhooks/retention.js';

/** Revocations are kept this much longer than a token lives, for requests already in flight. */
const REVOCATION_MARGIN_MS = 60 * SECOND;

/** How long revocations are remembered: a token's life, the clock tolerance, and a margin. */
export function revocationHorizon(config: Readonly<Config>): number {
  return (config.accessTokenTtlSeconds + config.clockToleranceSeconds) * SECOND + REVOCATION_MARGIN_MS;
}

export interface PurgePhase {
  name: string;
  /** Deletes what is past its retention, in batches; resolves with how many rows went. */
  run(ctx: { store: Store; clock: Clock }): Promise<number>;
}

/** The retention purge, in order: every node runs it hourly, and `gatehouse purge` on demand. */
export function purgePhases(config: Readonly<Config>): PurgePhase[] {
  const retention = { retentionSeconds: config.sessionRetentionSeconds, revocationHorizonMs: revocationHorizon(config) };
  return [
    { name: 'ended sessions', run: (ctx) => purgeEndedSessions(ctx, retention) },
    { name: 'sign-in failure counters', run: (ctx) => purgeSignInFailures(ctx) },
    { name: 'registration counters', run: (ctx) => purgeAddressAttempts(ctx) },
    { name: 'settled webhook deliveries', run: (ctx) => purgeSettledDeliveries(ctx) },
    { name: 'sent mail', run: (ctx) => purgeSettledMail(ctx) },
    { name: 'expired email links', run: (ctx) => purgeExpiredLinks(ctx) },
    { name: 'login history events', run: (ctx) => purgeEvents(ctx, config.eventRetentionSeconds) },
  ];
}
