import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../src/core/records.js';
import { judgeRefreshToken } from '../../src/core/refresh-rotation.js';
import { issueRefreshToken, newRefreshKey, parseRefreshToken, sealSuccessor } from '../../src/core/refresh-token.js';
import { newId } from '../../src/core/random.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const GRACE = 10;

/** A session whose chain has been rotated `rotations` times, the last two at `rotatedAt` and `previousRotatedAt`. */
function chain(rotations: number, rotatedAt = T0, previousRotatedAt = rotatedAt) {
  const id = newId();
  const key = newRefreshKey();
  const tokens = Array.from({ length: rotations + 1 }, (_, g) => issueRefreshToken(id, g, key));
  const current = tokens[rotations]!;
  const previous = tokens[rotations - 1];
  const session: SessionRecord = {
    id,
    userId: newId(),
    createdAt: T0 - 3_600_000,
    authenticatedAt: T0 - 3_600_000,
    lastActiveAt: rotatedAt,
    idleExpiresAt: T0 + 86_400_000,
    expiresAt: T0 + 7 * 86_400_000,
    revokedAt: null,
    revokedReason: null,
    revokedBy: null,
    client: { ip: '203.0.113.7', userAgent: '', country: null, device: { browser: null, os: null, type: 'other', label: 'Unknown device' } },
    refresh: {
      hash: current.hash,
      key,
      generation: rotations,
      rotatedAt: rotations === 0 ? null : rotatedAt,
      previousRotatedAt: rotations < 2 ? null : previousRotatedAt,
      sealedSuccessor: previous ? sealSuccessor(current.token, parseRefreshToken(previous.token)!.secret) : null,
    },
  };
  const token = (generation: number) => parseRefreshToken(tokens[generation]!.token)!;
  return { session, token, current: current.token };
}

describe('judging a presented refresh token', () => {
  it('rotates the session’s current token', () => {
    const { session, token } = chain(2);
    expect(judgeRefreshToken(token(2), session, T0 + 60_000, GRACE)).toEqual({ outcome: 'rotate' });
  });

  it('hands the token spent just before the current one the current token, up to the end of the grace window', () => {
    const { session, token, current } = chain(1);
    expect(judgeRefreshToken(token(0), session, T0, GRACE)).toEqual({ outcome: 'replay', currentToken: current });
    expect(judgeRefreshToken(token(0), session, T0 + 10_000, GRACE)).toEqual({ outcome: 'replay', currentToken: current });
  });

  it('calls that same token reuse one millisecond after the grace window', () => {
    const { session, token } = chain(1);
    expect(judgeRefreshToken(token(0), session, T0 + 10_001, GRACE)).toEqual({ outcome: 'reused' });
  });

  it('calls any older token of the chain reuse once the last rotation is past the window', () => {
    const { session, token } = chain(5);
    for (const generation of [0, 1, 2, 3, 4]) {
      expect(judgeRefreshToken(token(generation), session, T0 + 60_000, GRACE)).toEqual({ outcome: 'reused' });
    }
  });

  it('neither honours nor punishes the token spent two rotations ago while it is inside the window', () => {
    const { session, token } = chain(2, T0, T0 - 3_000);
    expect(judgeRefreshToken(token(0), session, T0 + 1_000, GRACE)).toEqual({ outcome: 'invalid' });
    expect(judgeRefreshToken(token(0), session, T0 + 7_001, GRACE)).toEqual({ outcome: 'reused' });
  });

  it('catches the owner’s stale token even while a thief rotates the chain every few seconds', () => {
    const { session, token } = chain(40, T0, T0 - 5_000);
    expect(judgeRefreshToken(token(3), session, T0 + 1_000, GRACE)).toEqual({ outcome: 'reused' });
    expect(judgeRefreshToken(token(37), session, T0 + 1_000, GRACE)).toEqual({ outcome: 'reused' });
  });

  it('finds a guessed or forged token for a known session id merely invalid: it cannot sign anyone out', () => {
    const { session } = chain(3);
    const stranger = parseRefreshToken(issueRefreshToken(session.id, 1, newRefreshKey()).token)!;
    expect(judgeRefreshToken(stranger, session, T0 + 60_000, GRACE)).toEqual({ outcome: 'invalid' });
    const future = parseRefreshToken(issueRefreshToken(session.id, 9, session.refresh.key).token)!;
    expect(judgeRefreshToken(future, session, T0 + 60_000, GRACE)).toEqual({ outcome: 'invalid' });
    expect(judgeRefreshToken(future, undefined, T0, GRACE)).toEqual({ outcome: 'invalid' });
  });

  it('says revoked for a genuine token of a revoked session, and expired for one past either lifetime', () => {
    const { session, token } = chain(1);
    expect(judgeRefreshToken(token(1), { ...session, revokedAt: T0 }, T0, GRACE)).toEqual({ outcome: 'revoked' });
    expect(judgeRefreshToken(token(1), session, session.idleExpiresAt - 1, GRACE)).toEqual({ outcome: 'rotate' });
    expect(judgeRefreshToken(token(1), session, session.idleExpiresAt, GRACE)).toEqual({ outcome: 'expired' });
    expect(judgeRefreshToken(token(1), { ...session, idleExpiresAt: session.expiresAt + 1 }, session.expiresAt, GRACE)).toEqual({ outcome: 'expired' });
  });
});
