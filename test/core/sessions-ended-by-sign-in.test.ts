import { describe, expect, it } from 'vitest';
import { sessionsEndedBySignIn, type OpenSession } from '../../src/core/sessions-ended-by-sign-in.js';

const NOW = 1_000_000;
const LAPTOP = { userAgent: 'Firefox on Ubuntu', ip: '203.0.113.7' };

function open(id: string, overrides: Partial<OpenSession> = {}): OpenSession {
  return {
    id,
    userAgent: 'Safari on iPhone',
    ip: '198.51.100.2',
    lastActiveAt: NOW - 1000,
    createdAt: NOW - 5000,
    idleExpiresAt: NOW + 60_000,
    expiresAt: NOW + 600_000,
    ...overrides,
  };
}

describe('the sessions a sign-in ends', () => {
  it('are none with no rule on', () => {
    expect(sessionsEndedBySignIn([open('a'), open('b', LAPTOP)], { ...LAPTOP, at: NOW }, { replaceSameDevice: false, maxSessions: 0 })).toEqual({
      replaced: [],
      evicted: [],
    });
  });

  it('replace every session of the same user agent and address, expired ones too, and no other', () => {
    const sessions = [
      open('same', LAPTOP),
      open('same-expired', { ...LAPTOP, idleExpiresAt: NOW - 1 }),
      open('other-ip', { ...LAPTOP, ip: '203.0.113.8' }),
      open('phone'),
    ];
    expect(sessionsEndedBySignIn(sessions, { ...LAPTOP, at: NOW }, { replaceSameDevice: true, maxSessions: 0 })).toEqual({
      replaced: ['same', 'same-expired'],
      evicted: [],
    });
  });

  it('evict the least recently active beyond the cap, counting the new session, so the current devices stay', () => {
    const sessions = [open('old', { lastActiveAt: NOW - 9000 }), open('recent', { lastActiveAt: NOW - 10 }), open('middle', { lastActiveAt: NOW - 500 })];
    expect(sessionsEndedBySignIn(sessions, { ...LAPTOP, at: NOW }, { replaceSameDevice: false, maxSessions: 2 })).toEqual({
      replaced: [],
      evicted: ['middle', 'old'],
    });
  });

  it('break ties by the later sign-in, then by id, so every node evicts the same ones', () => {
    const sessions = [open('b', { createdAt: NOW - 100 }), open('a', { createdAt: NOW - 100 }), open('c', { createdAt: NOW - 50 })];
    expect(sessionsEndedBySignIn(sessions, { ...LAPTOP, at: NOW }, { replaceSameDevice: false, maxSessions: 2 }).evicted).toEqual(['b', 'a']);
  });

  it('neither count nor evict sessions that ran out, nor those the same sign-in replaces', () => {
    const sessions = [open('expired', { expiresAt: NOW }), open('replaced', LAPTOP), open('phone')];
    expect(sessionsEndedBySignIn(sessions, { ...LAPTOP, at: NOW }, { replaceSameDevice: true, maxSessions: 2 })).toEqual({
      replaced: ['replaced'],
      evicted: [],
    });
  });
});
