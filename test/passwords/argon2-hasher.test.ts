import { hash, type Algorithm } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { argon2Hasher } from '../../src/passwords/argon2-hasher.js';

const hasher = argon2Hasher();
const weaker = (algorithm: number, memoryCost: number, timeCost: number) =>
  hash('correct horse battery staple', { algorithm: algorithm as Algorithm, memoryCost, timeCost, parallelism: 1 });

describe('the argon2 hasher', () => {
  it('makes argon2id hashes with m=19456 KiB, t=2, p=1 that verify', async () => {
    const stored = await hasher.hash('correct horse battery staple', 'account');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(stored, 'correct horse battery staple', 'sign-in')).toBe(true);
    expect(await hasher.verify(stored, 'correct horse battery stapler', 'account')).toBe(false);
  });

  it('finds nothing to rehash in a hash it makes today', async () => {
    expect(hasher.needsRehash(await hasher.hash('correct horse battery staple', 'account'))).toBe(false);
  });

  it('wants to rehash a hash with weaker parameters, or of another argon2 variant', async () => {
    expect(hasher.needsRehash(await weaker(2, 4096, 1))).toBe(true);
    expect(hasher.needsRehash(await weaker(2, 19456, 1))).toBe(true);
    expect(hasher.needsRehash(await weaker(1, 19456, 2))).toBe(true); // argon2i
    expect(hasher.needsRehash(await weaker(0, 19456, 2))).toBe(true); // argon2d
  });

  it('keeps a stronger argon2id hash: replacing it would lower its cost', async () => {
    expect(hasher.needsRehash(await weaker(2, 65536, 3))).toBe(false);
    expect(hasher.needsRehash(await weaker(2, 19456, 4))).toBe(false);
  });

  it('wants to rehash a hash of another algorithm altogether', () => {
    expect(hasher.needsRehash('$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW')).toBe(true);
    expect(hasher.needsRehash('$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g')).toBe(true);
  });

  it('makes its decoy hash again after a moment when it could not (the pool was full)', async () => {
    const hasher = argon2Hasher();
    // A cheap hash (the parameters are in the hash): the flood fills the queue all the same, and
    // drains in a moment rather than in seconds of real argon2id.
    const stored = await weaker(2, 1024, 1);
    // More sign-ins than the pool lets wait: the excess, the decoy among them, is refused at once.
    const flood = Array.from({ length: 400 }, () => hasher.verify(stored, 'flood of sign-ins', 'sign-in').catch(() => 'refused'));
    await expect(hasher.verifyNothing('an unknown account', 'sign-in')).rejects.toMatchObject({ code: 'unavailable' });
    await Promise.all(flood);
    await expect(hasher.verifyNothing('an unknown account', 'sign-in')).resolves.toBe(false);
  }, 60_000);

  it("keeps checking sign-in passwords, and signed-in people's, while registrations flood their own queue", async () => {
    const hasher = argon2Hasher();
    const stored = await hasher.hash('correct horse battery staple', 'account');
    // Registrations by the hundred: their queue fills, and the excess is refused.
    const flood = Array.from({ length: 400 }, () =>
      hasher.hash('flood of registrations', 'registration').then(
        () => 'hashed',
        () => 'refused',
      ),
    );
    expect(hasher.saturated?.('registration')).toBe(true);
    expect(hasher.saturated?.('account')).toBe(false);
    expect(hasher.saturated?.('sign-in')).toBe(false);
    expect(await hasher.verify(stored, 'correct horse battery staple', 'sign-in')).toBe(true);
    await expect(hasher.verifyNothing('an unknown account', 'sign-in')).resolves.toBe(false);
    expect(await hasher.verify(stored, 'correct horse battery staple', 'account')).toBe(true);
    const outcomes = await Promise.all(flood);
    expect(outcomes).toContain('refused');
  }, 60_000);
});
