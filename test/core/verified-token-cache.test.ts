import { generateKeyPair, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken, type AccessClaims, type AccessTokenKeys, type AccessTokenSettings } from '../../src/core/access-token.js';
import { GatehouseError } from '../../src/core/errors.js';
import { VerifiedTokenCache } from '../../src/core/verified-token-cache.js';

const SETTINGS: AccessTokenSettings = { issuer: 'https://id.example.com', audience: 'gatehouse', ttlSeconds: 600, clockToleranceSeconds: 5 };
const NOW = Date.parse('2026-11-27T09:00:00Z');
const SECOND = 1000;
const SUBJECT = { userId: 'user-ann', sessionId: 'session-laptop', authTime: NOW };

/** One Ed25519 key that can be retired, counting how often a signature check asked for it. */
async function countingKeys() {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const state = { lookups: 0, retired: false };
  const keys: AccessTokenKeys = {
    signingKey: () => ({ kid: 'k1', key: privateKey }),
    verificationKey: async (kid: string): Promise<CryptoKey | undefined> => {
      state.lookups++;
      return kid === 'k1' && !state.retired ? publicKey : undefined;
    },
    hasKey: (kid: string) => kid === 'k1' && !state.retired,
  };
  return { keys, state };
}

const outcome = (verification: Promise<AccessClaims>) =>
  verification.then(
    (claims) => claims.sessionId,
    (error: unknown) => (error instanceof GatehouseError ? error.code : error),
  );

describe('the verified-token cache', () => {
  it('checks a token’s signature once, however often it is presented', async () => {
    const { keys, state } = await countingKeys();
    const cache = new VerifiedTokenCache();
    const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
    for (let i = 0; i < 5; i++) await expect(verifyAccessToken(token, keys, SETTINGS, NOW + i * SECOND, cache)).resolves.toMatchObject(SUBJECT);
    expect(state.lookups).toBe(1);
  });

  it('gives the same answer as a full verification at every moment around exp and the age limit', async () => {
    const { keys } = await countingKeys();
    for (const settings of [SETTINGS, { ...SETTINGS, clockToleranceSeconds: 0 }, { ...SETTINGS, ttlSeconds: 60 }]) {
      const { token } = await signAccessToken(keys, { ...settings, ttlSeconds: 600 }, SUBJECT, NOW + 400);
      const cache = new VerifiedTokenCache();
      await outcome(verifyAccessToken(token, keys, settings, NOW, cache));
      for (const offset of [0, 59, 60, 64, 65, 66, 599, 600, 601, 604, 605, 606, 3600]) {
        for (const ms of [0, 399, 400, 999]) {
          const at = NOW + offset * SECOND + ms;
          const cached = await outcome(verifyAccessToken(token, keys, settings, at, cache));
          const fresh = await outcome(verifyAccessToken(token, keys, settings, at));
          expect(cached, `${offset} s + ${ms} ms with ${JSON.stringify(settings)}`).toBe(fresh);
        }
      }
    }
  });

  it('forgets a token once it has expired', async () => {
    const { keys } = await countingKeys();
    const cache = new VerifiedTokenCache();
    const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
    await verifyAccessToken(token, keys, SETTINGS, NOW, cache);
    await expect(outcome(verifyAccessToken(token, keys, SETTINGS, NOW + 700 * SECOND, cache))).resolves.toBe('token_expired');
    expect(cache.size).toBe(0);
  });

  it('stops honouring tokens of a retired key: they are verified again, and fail', async () => {
    const { keys, state } = await countingKeys();
    const cache = new VerifiedTokenCache();
    const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
    await verifyAccessToken(token, keys, SETTINGS, NOW, cache);
    state.retired = true;
    await expect(outcome(verifyAccessToken(token, keys, SETTINGS, NOW, cache))).resolves.toBe('token_invalid');
    expect(state.lookups).toBe(2);
  });

  it('never remembers a token that failed, so a forged one is checked every time', async () => {
    const { keys, state } = await countingKeys();
    const cache = new VerifiedTokenCache();
    const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (let i = 0; i < 3; i++) await expect(outcome(verifyAccessToken(forged, keys, SETTINGS, NOW, cache))).resolves.toBe('token_invalid');
    expect(cache.size).toBe(0);
    expect(state.lookups).toBe(3);
  });

  it('holds at most its capacity, dropping the oldest first', async () => {
    const { keys } = await countingKeys();
    const cache = new VerifiedTokenCache(2);
    const tokens = await Promise.all([1, 2, 3].map(() => signAccessToken(keys, SETTINGS, SUBJECT, NOW).then((s) => s.token)));
    for (const token of tokens) await verifyAccessToken(token, keys, SETTINGS, NOW, cache);
    expect(cache.size).toBe(2);
    expect(cache.get(tokens[0] as string)).toBeUndefined();
    expect(cache.get(tokens[2] as string)).toBeDefined();
  });
});

describe('the cache’s bound', () => {
  const entry = { claims: { userId: 'u', sessionId: 's', tokenId: 'j', issuedAt: 0, expiresAt: 0, authTime: 0 }, kid: 'k1' };

  it('keeps the newest entries, whatever was deleted in between', () => {
    const cache = new VerifiedTokenCache(3);
    for (const token of ['a', 'b', 'c']) cache.set(token, entry);
    cache.delete('b');
    for (const token of ['d', 'e', 'f', 'g']) cache.set(token, entry);
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g'].filter((t) => cache.get(t))).toEqual(['e', 'f', 'g']);
    expect(cache.size).toBe(3);
  });

  it('does not let a token deleted and stored again be evicted by its old place', () => {
    const cache = new VerifiedTokenCache(3);
    for (const token of ['a', 'b', 'c']) cache.set(token, entry);
    cache.delete('a');
    cache.set('d', entry); // takes a's old place
    cache.set('a', entry); // a again, newest now
    cache.set('e', entry);
    expect(['a', 'b', 'c', 'd', 'e'].filter((t) => cache.get(t))).toEqual(['a', 'd', 'e']);
  });

  it('stores nothing with a capacity of 0', () => {
    const cache = new VerifiedTokenCache(0);
    cache.set('a', entry);
    expect(cache.size).toBe(0);
  });
});

describe('a cached token after the clock steps back', () => {
  it('is refused as issued in the future, exactly as a full verification refuses it', async () => {
    const { keys } = await countingKeys();
    const cache = new VerifiedTokenCache();
    const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW + 8 * SECOND);
    await verifyAccessToken(token, keys, SETTINGS, NOW + 5 * SECOND, cache);
    const stepped = NOW - 5 * SECOND;
    await expect(outcome(verifyAccessToken(token, keys, SETTINGS, stepped))).resolves.toBe('token_invalid');
    await expect(outcome(verifyAccessToken(token, keys, SETTINGS, stepped, cache))).resolves.toBe('token_invalid');
  });
});
