import { SECOND } from './clock.js';

export interface SessionPolicy {
  /** A session nobody uses for this long ends (seconds). */
  idleTtlSeconds: number;
  /** A session ends this long after sign-in whatever happens (seconds). */
  maxAgeSeconds: number;
  /** How recent the last password proof must be for sensitive actions (seconds). */
  reauthWindowSeconds: number;
  /** A new sign-in from the same user agent and IP ends that device's older session. */
  replaceSameDevice: boolean;
}

export interface SessionTimes {
  createdAt: number;
  authenticatedAt: number;
  lastActiveAt: number;
  idleExpiresAt: number;
  expiresAt: number;
}

export function newSessionTimes(policy: SessionPolicy, now: number): SessionTimes {
  return {
    createdAt: now,
    authenticatedAt: now,
    lastActiveAt: now,
    idleExpiresAt: now + policy.idleTtlSeconds * SECOND,
    expiresAt: now + policy.maxAgeSeconds * SECOND,
  };
}

/** When the session ends if nothing else happens: the earlier of its two lifetimes. */
export function sessionEndsAt(session: { idleExpiresAt: number; expiresAt: number }): number {
  return Math.min(session.idleExpiresAt, session.expiresAt);
}

/**
 * Signing out other devices (and later, other sensitive actions) needs a recent password proof,
 * so a stolen access token or an unlocked laptop cannot lock the owner out of their own account.
 */
export function isFreshlyAuthenticated(policy: SessionPolicy, authenticatedAt: number, now: number): boolean {
  return now - authenticatedAt <= policy.reauthWindowSeconds * SECOND;
}
