import { describe, expect, it } from 'vitest';
import { isFreshlyAuthenticated, newSessionTimes, sessionEndsAt, type SessionPolicy } from '../../src/core/session-policy.js';

const policy: SessionPolicy = {
  idleTtlSeconds: 3600,
  maxAgeSeconds: 86_400,
  reauthWindowSeconds: 600,
  replaceSameDevice: true,
  refreshReuseGraceSeconds: 10,
  maxSessions: 0,
};
const now = Date.parse('2026-11-27T09:00:00Z');

describe('session lifetimes', () => {
  it('start with the idle and absolute expiries counted from sign-in', () => {
    const times = newSessionTimes(policy, now);
    expect(times).toEqual({
      createdAt: now,
      authenticatedAt: now,
      lastActiveAt: now,
      idleExpiresAt: now + 3_600_000,
      expiresAt: now + 86_400_000,
    });
    expect(sessionEndsAt(times)).toBe(now + 3_600_000);
  });

  it('count a password proof as fresh up to and including the reauthentication window', () => {
    expect(isFreshlyAuthenticated(policy, now, now + 600_000)).toBe(true);
    expect(isFreshlyAuthenticated(policy, now, now + 600_001)).toBe(false);
  });
});
