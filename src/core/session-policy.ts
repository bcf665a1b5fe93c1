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
  /** How long a just-spent refresh token still gets the current one instead of counting as theft. */
  refreshReuseGraceSeconds: number;
  /** Most active sessions per user (0: no limit); a sign-in beyond it ends the least recently active. */
  maxSessions: number;
}

/** The idle expiry after activity at `at`: idleness is counted from the last use. */
export function idleExpiryAfter(policy: SessionPolicy, at: number): number {
  return at + policy.idleTtlSeconds * SECOND;
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
    idleExpiresAt: idleExpiryAfter(policy, now),
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
