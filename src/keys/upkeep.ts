import type { Clock } from '../core/clock.js';
import type { SigningKeyStore } from '../storage/ports/signing-keys.js';
import type { KeyRing } from './key-ring.js';
import { iso, type TokenLifetime } from './key-schedule.js';
import { rotateOnSchedule } from './rotation.js';

export interface KeyUpkeepOptions {
  secret: string | undefined;
  /** GATEHOUSE_KEY_ROTATION_DAYS; 0: keys change only by `gatehouse keys`. */
  rotationDays: number;
  lifetime: TokenLifetime;
  log: { info(details: object, message: string): void };
}

/**
 * What each node does every KEY_RELOAD_INTERVAL_MS: the scheduled rotation and retirement, if
 * configured (any node may be the one that does it; the store lets only one), then a reload, so
 * this node publishes keys rotated in anywhere and drops keys retired anywhere in time.
 */
export async function keepKeys(ring: KeyRing, store: SigningKeyStore, clock: Clock, options: KeyUpkeepOptions): Promise<void> {
  if (options.rotationDays > 0) {
    const { added, retired } = await rotateOnSchedule(store, clock, { secret: options.secret, days: options.rotationDays, lifetime: options.lifetime });
    if (added)
      options.log.info({ kid: added.kid, activatesAt: iso(added.activatesAt) }, 'signing key rotated in on schedule; nodes sign with it from activatesAt');
    for (const key of retired) options.log.info({ kid: key.kid }, 'signing key retired: every token it signed has expired');
  }
  await ring.reload();
}
