import { hashSync } from '@node-rs/bcrypt';
import { describe, expect, it } from 'vitest';
import { argon2Hasher } from '../../src/passwords/argon2-hasher.js';
import { isBcryptHash, isVerifiableBcryptHash, MAX_BCRYPT_COST } from '../../src/passwords/bcrypt.js';

// A published test vector of crypt_blowfish (the bcrypt of PHP and of most C libraries): made
// elsewhere, so this checks compatibility with other implementations, not with itself.
const VECTOR = { password: 'U*U', hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' };
const PASSWORD = 'correct horse battery staple';

const hasher = argon2Hasher();

describe('bcrypt hashes imported from another system', () => {
  it('are recognised in their $2a$, $2b$ and $2y$ spellings, and nothing else is', () => {
    const made = hashSync(PASSWORD, 4);
    expect(made).toMatch(/^\$2b\$04\$/);
    expect([made, VECTOR.hash, VECTOR.hash.replace('$2a$', '$2y$')].map(isBcryptHash)).toEqual([true, true, true]);
    for (const other of [
      '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', // crypt_blowfish's buggy variant
      '$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', // a cost below bcrypt's minimum
      `${VECTOR.hash}x`,
      VECTOR.hash.slice(0, -1),
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
      'password',
      '',
    ]) {
      expect(isBcryptHash(other), other).toBe(false);
    }
  });

  it('verify with the right password only, whoever made them', async () => {
    expect(await hasher.verify(VECTOR.hash, VECTOR.password, 'sign-in')).toBe(true);
    expect(await hasher.verify(VECTOR.hash.replace('$2a$', '$2y$'), VECTOR.password, 'sign-in')).toBe(true);
    expect(await hasher.verify(VECTOR.hash, 'U*V', 'sign-in')).toBe(false);
    const made = hashSync(PASSWORD, 4);
    expect(await hasher.verify(made, PASSWORD, 'sign-in')).toBe(true);
    expect(await hasher.verify(made, `${PASSWORD}!`, 'sign-in')).toBe(false);
    expect(await hasher.verify(made, '', 'sign-in')).toBe(false);
  });

  it('are always wanted rehashed: the next sign-in replaces them with argon2id', () => {
    expect(hasher.needsRehash(VECTOR.hash)).toBe(true);
    expect(hasher.needsRehash(VECTOR.hash.replace('$05$', '$14$'))).toBe(true);
  });

  it('verify a password the old app hashed as typed, not in NFKC form, and its NFKC form too', async () => {
    const typed = 'cafe\u0301 au lait'; // "café" with a combining accent, as macOS may paste it
    const normalized = typed.normalize('NFKC');
    expect(normalized).not.toBe(typed);
    const made = hashSync(typed, 4);
    // Sign-in passes the NFKC form and the typed one.
    expect(await hasher.verify(made, normalized, 'sign-in', typed)).toBe(true);
    // The same passphrase typed precomposed: the NFKC form is what matches now.
    const composedHash = hashSync(normalized, 4);
    expect(await hasher.verify(composedHash, normalized, 'sign-in', typed)).toBe(true);
    expect(await hasher.verify(made, normalized, 'sign-in')).toBe(false);
    expect(await hasher.verify(made, 'cafe au lait', 'sign-in', 'cafe au lait')).toBe(false);
  });

  it("verify as bcrypt did: only a password's first 72 bytes count, until the rehash", async () => {
    const long = 'a'.repeat(72);
    const made = hashSync(`${long}the end the old app saw`, 4);
    expect(await hasher.verify(made, `${long}any other end`, 'sign-in')).toBe(true);
    expect(await hasher.verify(made, `${long.slice(1)}b`, 'sign-in')).toBe(false);
  });

  it('are verified up to cost 12 only: a costlier one fails even with the right password', async () => {
    expect(MAX_BCRYPT_COST).toBe(12);
    expect([VECTOR.hash.replace('$05$', '$12$'), VECTOR.hash.replace('$05$', '$13$')].map(isVerifiableBcryptHash)).toEqual([true, false]);
    const costly = hashSync(PASSWORD, 13); // about a second to make, and as long to verify
    expect(await hasher.verify(costly, PASSWORD, 'sign-in', PASSWORD)).toBe(false);
    // Cost 31: verified, it would hold a worker for days. It fails as soon as a wrong password would.
    expect(await hasher.verify(costly.replace('$13$', '$31$'), PASSWORD, 'sign-in')).toBe(false);
  }, 30_000);

  it('that are too costly still cost what the decoy costs: refused like it when the pool is full', async () => {
    const costly = VECTOR.hash.replace('$05$', '$31$');
    const flood = Array.from({ length: 400 }, () => hasher.verify(VECTOR.hash, 'flood of sign-ins', 'sign-in').catch(() => 'refused'));
    await expect(hasher.verify(costly, PASSWORD, 'sign-in')).rejects.toMatchObject({ code: 'unavailable' });
    await Promise.all(flood);
    await expect(hasher.verify(costly, PASSWORD, 'sign-in')).resolves.toBe(false);
  }, 60_000);

  it('verify off the event loop: timers keep firing during a slow verification', async () => {
    const slow = hashSync(PASSWORD, 12); // a few hundred milliseconds of bcrypt
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    const verified = await hasher.verify(slow, PASSWORD, 'sign-in');
    clearInterval(timer);
    expect(verified).toBe(true);
    // On the event loop the timer could not have fired until the end; in a worker it fires throughout.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor((Date.now() - started) / 10 / 4));
    expect(ticks).toBeGreaterThan(3);
  });
});
