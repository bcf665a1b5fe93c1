import { CompactSign, decodeProtectedHeader, generateKeyPair, type JWTHeaderParameters } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  MAX_ACCESS_TOKEN_LENGTH,
  signAccessToken,
  verifyAccessToken,
  type AccessTokenKeys,
  type AccessTokenSettings,
  type SigningKey,
} from '../../src/core/access-token.js';
import { GatehouseError, type ErrorCode } from '../../src/core/errors.js';

const SETTINGS: AccessTokenSettings = { issuer: 'https://id.example.com', audience: 'gatehouse', ttlSeconds: 600, clockToleranceSeconds: 5 };
const NOW = Date.parse('2026-11-27T09:00:00Z');
const SECOND = 1000;
const SUBJECT = { userId: 'user-ann', sessionId: 'session-laptop', authTime: Date.parse('2026-11-27T08:58:30Z') };

interface TestKeys extends AccessTokenKeys {
  signing: SigningKey;
}

/** A key set of one fresh Ed25519 key, standing in for the key ring. */
async function ed25519Keys(kid = 'test-key'): Promise<TestKeys> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const signing = { kid, key: privateKey };
  return {
    signing,
    signingKey: () => signing,
    verificationKey: async (wanted) => (wanted === kid ? publicKey : undefined),
    hasKey: (wanted) => wanted === kid,
  };
}

/** Signs any header and claims with the key set's own key: lets a test break exactly one thing. */
function signRaw(keys: TestKeys, claims: Record<string, unknown>, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signing.kid, ...header })
    .sign(keys.signing.key);
}

/** The claims signAccessToken would put in a token issued at `now`. */
function claimsAt(now: number): Record<string, unknown> {
  const iat = Math.floor(now / SECOND);
  return {
    iss: SETTINGS.issuer,
    aud: SETTINGS.audience,
    sub: SUBJECT.userId,
    sid: SUBJECT.sessionId,
    jti: 'token-1',
    iat,
    exp: iat + SETTINGS.ttlSeconds,
    auth_time: Math.floor(SUBJECT.authTime / SECOND),
  };
}

const without = (claims: Record<string, unknown>, name: string) => Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));

/** Asserts that verification fails with a GatehouseError of `code`, and returns that error. */
async function expectRefused(verification: Promise<unknown>, code: ErrorCode): Promise<GatehouseError> {
  const error = await verification.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, 'the token was accepted').toBeInstanceOf(GatehouseError);
  expect((error as GatehouseError).code).toBe(code);
  return error as GatehouseError;
}

describe('access tokens', () => {
  it('are EdDSA JWS with typ at+jwt and the signing key’s kid, living ttlSeconds', async () => {
    const keys = await ed25519Keys('kid-1');
    const { token, expiresIn } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: 'kid-1' });
    expect(expiresIn).toBe(600);
  });

  it('give back the user, the session and the times they were signed with, in ms', async () => {
    const keys = await ed25519Keys();
    const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW + 250);
    const claims = await verifyAccessToken(token, keys, SETTINGS, NOW + 30 * SECOND);
    expect(claims).toEqual({
      userId: 'user-ann',
      sessionId: 'session-laptop',
      tokenId: expect.any(String),
      issuedAt: NOW,
      expiresAt: NOW + 600 * SECOND,
      authTime: SUBJECT.authTime,
    });
  });

  it('carry a different jti each time, even for the same session at the same instant', async () => {
    const keys = await ed25519Keys();
    const tokens = await Promise.all([1, 2, 3].map(() => signAccessToken(keys, SETTINGS, SUBJECT, NOW)));
    const ids = await Promise.all(tokens.map(({ token }) => verifyAccessToken(token, keys, SETTINGS, NOW).then((c) => c.tokenId)));
    expect(new Set(ids).size).toBe(3);
  });

  describe('lifetime', () => {
    it('verify until exp, and a little past it within the clock tolerance', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
      for (const at of [NOW, NOW + 599 * SECOND, NOW + 600 * SECOND, NOW + 604 * SECOND + 999]) {
        await expect(verifyAccessToken(token, keys, SETTINGS, at)).resolves.toMatchObject({ sessionId: 'session-laptop' });
      }
    });

    it('are token_expired once exp and the clock tolerance have passed', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW + 605 * SECOND), 'token_expired');
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW + 30 * 86_400 * SECOND), 'token_expired');
    });

    it('honour a shorter configured lifetime', async () => {
      const keys = await ed25519Keys();
      const short = { ...SETTINGS, ttlSeconds: 60, clockToleranceSeconds: 0 };
      const { token } = await signAccessToken(keys, short, SUBJECT, NOW);
      await expect(verifyAccessToken(token, keys, short, NOW + 59 * SECOND)).resolves.toBeDefined();
      await expectRefused(verifyAccessToken(token, keys, short, NOW + 60 * SECOND), 'token_expired');
    });

    it('are token_expired once older than the configured lifetime, whatever later exp they carry', async () => {
      // A token minted while the lifetime was an hour must not outlive today's 10 minutes: the
      // revocation view only remembers sign-outs for one configured lifetime (design §5).
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, { ...SETTINGS, ttlSeconds: 3600 }, SUBJECT, NOW);
      await expect(verifyAccessToken(token, keys, SETTINGS, NOW + 60 * SECOND)).resolves.toBeDefined();
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW + 700 * SECOND), 'token_expired');
    });

    it('are token_invalid, not token_expired, when an expired token’s signature is not ours', async () => {
      const keys = await ed25519Keys('kid-1');
      const forger = await ed25519Keys('kid-1');
      const { token } = await signAccessToken(forger, SETTINGS, SUBJECT, NOW);
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW + 3600 * SECOND), 'token_invalid');
    });

    it('accept an iat slightly ahead of this node’s clock, within the tolerance', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW + 5 * SECOND);
      await expect(verifyAccessToken(token, keys, SETTINGS, NOW)).resolves.toMatchObject({ issuedAt: NOW + 5 * SECOND });
    });

    it('are token_invalid when issued further in the future than the tolerance', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW + 6 * SECOND);
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
      const farFuture = await signRaw(keys, claimsAt(NOW + 86_400 * SECOND));
      await expectRefused(verifyAccessToken(farFuture, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('are token_invalid with a not-before in the future', async () => {
      const keys = await ed25519Keys();
      const token = await signRaw(keys, { ...claimsAt(NOW), nbf: Math.floor(NOW / SECOND) + 60 });
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });
  });

  describe('are token_invalid', () => {
    it('for another issuer', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, { ...SETTINGS, issuer: 'https://evil.example.com' }, SUBJECT, NOW);
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('for another audience', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, { ...SETTINGS, audience: 'billing' }, SUBJECT, NOW);
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
      const several = await signRaw(keys, { ...claimsAt(NOW), aud: ['billing', 'reports'] });
      await expectRefused(verifyAccessToken(several, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('for a kid this node does not know', async () => {
      const keys = await ed25519Keys('kid-1');
      const other = await ed25519Keys('kid-2');
      const { token } = await signAccessToken(other, SETTINGS, SUBJECT, NOW);
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('without any kid', async () => {
      const keys = await ed25519Keys();
      const token = await signRaw(keys, claimsAt(NOW), { kid: undefined });
      expect(decodeProtectedHeader(token)).not.toHaveProperty('kid');
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('for our kid on a token another Ed25519 key signed', async () => {
      const keys = await ed25519Keys('kid-1');
      const forger = await ed25519Keys('kid-1');
      const { token } = await signAccessToken(forger, SETTINGS, SUBJECT, NOW);
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('for a token longer than the limit, even with a good signature, before parsing it', async () => {
      const keys = await ed25519Keys();
      const padded = await signRaw(keys, { ...claimsAt(NOW), padding: 'x'.repeat(MAX_ACCESS_TOKEN_LENGTH) });
      expect(padded.length).toBeGreaterThan(MAX_ACCESS_TOKEN_LENGTH);
      await expectRefused(verifyAccessToken(padded, keys, SETTINGS, NOW), 'token_invalid');

      let asked = 0;
      const counting: AccessTokenKeys = { ...keys, verificationKey: async (kid) => (asked++, keys.verificationKey(kid)) };
      await expectRefused(verifyAccessToken('a'.repeat(10 * 1024), counting, SETTINGS, NOW), 'token_invalid');
      await expectRefused(verifyAccessToken(padded, counting, SETTINGS, NOW), 'token_invalid');
      expect(asked).toBe(0);
    });

    it.each(['JWT', 'jwt', 'id+jwt', undefined])('when the header’s typ is %j', async (typ) => {
      const keys = await ed25519Keys();
      const token = await signRaw(keys, claimsAt(NOW), { typ });
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('when signed with the same key under the fully-specified alg name Ed25519', async () => {
      const keys = await ed25519Keys();
      const token = await signRaw(keys, claimsAt(NOW), { alg: 'Ed25519' });
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('with alg none, in any capitalisation', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
      const [, payload, signature] = token.split('.');
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        const header = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid: keys.signing.kid })).toString('base64url');
        await expectRefused(verifyAccessToken(`${header}.${payload}.`, keys, SETTINGS, NOW), 'token_invalid');
        await expectRefused(verifyAccessToken(`${header}.${payload}.${signature}`, keys, SETTINGS, NOW), 'token_invalid');
      }
    });

    it.each(['sub', 'sid', 'jti', 'iat', 'exp', 'auth_time'])('when the %s claim is missing', async (claim) => {
      const keys = await ed25519Keys();
      const token = await signRaw(keys, without(claimsAt(NOW), claim));
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it.each([
      ['sid', 42],
      ['sub', null],
      ['auth_time', '1700000000'],
      ['iat', '1800000000'],
    ])('when the %s claim has the wrong type (%j)', async (claim, value) => {
      const keys = await ed25519Keys();
      const token = await signRaw(keys, { ...claimsAt(NOW), [claim]: value });
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('when auth_time is later than iat', async () => {
      const keys = await ed25519Keys();
      const claims = claimsAt(NOW);
      const token = await signRaw(keys, { ...claims, auth_time: (claims.iat as number) + 1 });
      await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('with a changed payload under the original signature', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
      const [header, , signature] = token.split('.');
      for (const change of [{ sub: 'user-mallory' }, { sid: 'session-other' }, { exp: Math.floor(NOW / SECOND) + 86_400 }]) {
        const payload = Buffer.from(JSON.stringify({ ...claimsAt(NOW), ...change })).toString('base64url');
        await expectRefused(verifyAccessToken(`${header}.${payload}.${signature}`, keys, SETTINGS, NOW), 'token_invalid');
      }
    });

    it.each(['', 'garbage', 'a.b.c', '..', 'e30.e30.', 'e30.e30.e30', 'W10.e30.AAAA', 'bnVsbA.bnVsbA.bnVsbA'])('for %j', async (garbage) => {
      const keys = await ed25519Keys();
      await expectRefused(verifyAccessToken(garbage, keys, SETTINGS, NOW), 'token_invalid');
    });

    it('when the genuine signature is spelt otherwise than issued: padded, other unused bits, whitespace', async () => {
      const keys = await ed25519Keys();
      const { token } = await signAccessToken(keys, SETTINGS, SUBJECT, NOW);
      await expect(verifyAccessToken(token, keys, SETTINGS, NOW)).resolves.toMatchObject({ sessionId: SUBJECT.sessionId });
      // An Ed25519 signature is 64 bytes: 86 base64url characters, whose last carries 4 unused bits.
      const last = token.at(-1) as string;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const sameBits = alphabet[(alphabet.indexOf(last) & ~0b1111) | (~alphabet.indexOf(last) & 0b1111)] as string;
      for (const spelling of [
        `${token}==`,
        `${token.slice(0, -1)}${sameBits}`,
        `${token.slice(0, -10)} ${token.slice(-10)}`,
        `${token.slice(0, -10)}\n${token.slice(-10)}`,
      ]) {
        await expectRefused(verifyAccessToken(spelling, keys, SETTINGS, NOW), 'token_invalid');
      }
    });

    it('without saying which check failed', async () => {
      const keys = await ed25519Keys('kid-1');
      const reasons = [
        (await signAccessToken(keys, { ...SETTINGS, issuer: 'https://evil.example.com' }, SUBJECT, NOW)).token,
        (await signAccessToken(await ed25519Keys('kid-2'), SETTINGS, SUBJECT, NOW)).token,
        await signRaw(keys, without(claimsAt(NOW), 'sid')),
        'garbage',
      ];
      const messages = new Set<string>();
      for (const token of reasons) messages.add((await expectRefused(verifyAccessToken(token, keys, SETTINGS, NOW), 'token_invalid')).message);
      expect(messages.size).toBe(1);
    });
  });
});
