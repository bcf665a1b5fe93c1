import { describe, expect, it } from 'vitest';
import { newId } from '../../src/core/random.js';
import {
  hashSecret,
  isGenuine,
  issueRefreshToken,
  newRefreshKey,
  openSuccessor,
  parseRefreshToken,
  REFRESH_TOKEN_LENGTH,
  sealSuccessor,
  secretMatches,
} from '../../src/core/refresh-token.js';

describe('refresh tokens', () => {
  const key = newRefreshKey();

  it('are "<session id>.<secret>" carrying their generation and 256 random bits, and only the secret’s SHA-256 is kept', () => {
    const sessionId = newId();
    const { token, hash } = issueRefreshToken(sessionId, 7, key);
    expect(token).toHaveLength(REFRESH_TOKEN_LENGTH);
    const parsed = parseRefreshToken(token);
    expect(parsed).toMatchObject({ sessionId, generation: 7 });
    expect(hash).toBe(hashSecret(parsed!.secret));
    expect(secretMatches(parsed!.secret, hash)).toBe(true);
  });

  it('never repeat, even for the same session and generation', () => {
    const sessionId = newId();
    expect(issueRefreshToken(sessionId, 0, key).token).not.toBe(issueRefreshToken(sessionId, 0, key).token);
  });

  it('are recognised as genuine only under their session’s key and for their session', () => {
    const sessionId = newId();
    const parsed = parseRefreshToken(issueRefreshToken(sessionId, 3, key).token)!;
    expect(isGenuine(parsed, key)).toBe(true);
    expect(isGenuine(parsed, newRefreshKey())).toBe(false);
    expect(isGenuine({ ...parsed, sessionId: newId() }, key)).toBe(false);
  });

  it('cannot have their generation changed without the MAC failing', () => {
    const sessionId = newId();
    const parsed = parseRefreshToken(issueRefreshToken(sessionId, 3, key).token)!;
    const bytes = Buffer.from(parsed.secret, 'base64url');
    bytes.writeUInt32BE(2, 1);
    const forged = parseRefreshToken(`${sessionId}.${bytes.toString('base64url')}`)!;
    expect(forged.generation).toBe(2);
    expect(isGenuine(forged, key)).toBe(false);
  });

  it('match only their own secret', () => {
    const { token, hash } = issueRefreshToken(newId(), 0, key);
    const { secret } = parseRefreshToken(token)!;
    expect(secretMatches(secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'), hash)).toBe(false);
    expect(secretMatches(secret, hash.slice(1))).toBe(false);
  });

  it('seal their successor so that only the holder of the spent token can open it', () => {
    const spent = parseRefreshToken(issueRefreshToken(newId(), 0, key).token)!;
    const other = parseRefreshToken(issueRefreshToken(newId(), 0, key).token)!;
    const sealed = sealSuccessor('the-next-token', spent.secret);
    expect(sealed).not.toContain('the-next-token');
    expect(openSuccessor(sealed, spent.secret)).toBe('the-next-token');
    expect(openSuccessor(sealed, other.secret)).toBeUndefined();
    expect(openSuccessor('garbage', spent.secret)).toBeUndefined();
  });

  it.each([
    '',
    'nodot',
    '.',
    'a.b',
    `${newId()}.short`,
    `${newId()}.${'A'.repeat(71)}`,
    `${'!'.repeat(22)}.${'A'.repeat(71)}`,
    'x'.repeat(REFRESH_TOKEN_LENGTH),
  ])('are not parsed from %j', (token) => {
    expect(parseRefreshToken(token)).toBeUndefined();
  });
});
