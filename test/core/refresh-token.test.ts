import { describe, expect, it } from 'vitest';
import { newId } from '../../src/core/random.js';
import { hashSecret, issueRefreshToken, parseRefreshToken, secretMatches } from '../../src/core/refresh-token.js';

describe('refresh tokens', () => {
  it('are "<session id>.<secret>" with 256 bits of secret, and only its SHA-256 is kept', () => {
    const sessionId = newId();
    const { token, hash } = issueRefreshToken(sessionId);
    const parsed = parseRefreshToken(token);
    expect(parsed?.sessionId).toBe(sessionId);
    expect(Buffer.from(parsed!.secret, 'base64url')).toHaveLength(32);
    expect(hash).toBe(hashSecret(parsed!.secret));
    expect(hash).not.toContain(parsed!.secret);
  });

  it('match only their own secret', () => {
    const { token, hash } = issueRefreshToken(newId());
    const { secret } = parseRefreshToken(token)!;
    expect(secretMatches(secret, hash)).toBe(true);
    expect(secretMatches(secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'), hash)).toBe(false);
    expect(secretMatches(secret, hash.slice(1))).toBe(false);
  });

  it.each(['', 'nodot', '.', 'a.b', `${newId()}.short`, `${newId()}.${'A'.repeat(43)}.extra`, `${'!'.repeat(22)}.${'A'.repeat(43)}`])(
    'are not parsed from %j',
    (token) => {
      expect(parseRefreshToken(token)).toBeUndefined();
    },
  );
});
