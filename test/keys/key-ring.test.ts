import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/keys/key-ring.js';
import { isSealed } from '../../src/keys/private-key-encryption.js';
import { testClock } from '../helpers/clock.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

const SECRET = 'an operator secret of at least 32 chars';

describe.each(DATABASES)('the signing key ring on %s', (kind) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const newStore = async () => {
    const t = await createTestStore(kind);
    cleanups.push(t.close);
    return t.store;
  };

  it('creates one Ed25519 key on first start and reuses it afterwards', async () => {
    const store = await newStore();
    const first = await KeyRing.open(store, testClock(), undefined);
    const again = await KeyRing.open(store, testClock(), undefined);
    expect(await store.listSigningKeys()).toHaveLength(1);
    expect(again.signingKey().kid).toBe(first.signingKey().kid);
    expect(first.jwks().keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: first.signingKey().kid })]);
  });

  it('lets nodes racing on first start agree on one signing key', async () => {
    const store = await newStore();
    const rings = await Promise.all([1, 2, 3].map(() => KeyRing.open(store, testClock(), undefined)));
    const kids = new Set(rings.map((r) => r.signingKey().kid));
    expect(kids.size).toBe(1);
  });

  it('stores the private key encrypted when GATEHOUSE_SECRET is set, and needs that secret to start', async () => {
    const store = await newStore();
    const ring = await KeyRing.open(store, testClock(), SECRET);
    const [record] = await store.listSigningKeys();
    expect(isSealed(record!.privateJwk)).toBe(true);
    expect(record!.privateJwk).not.toContain('"d"');
    expect((await KeyRing.open(store, testClock(), SECRET)).signingKey().kid).toBe(ring.signingKey().kid);
    await expect(KeyRing.open(store, testClock(), undefined)).rejects.toThrow(/is encrypted: set GATEHOUSE_SECRET/);
    await expect(KeyRing.open(store, testClock(), 'another secret that is also 32+ chars')).rejects.toThrow(/cannot be decrypted/);
  });

  it('learns a key another node added, but asks the database at most every 30 seconds', async () => {
    const store = await newStore();
    const clock = testClock();
    const ring = await KeyRing.open(store, clock, undefined);
    const other = await newStore();
    const foreign = await KeyRing.open(other, clock, undefined);
    const [added] = await other.listSigningKeys();
    await store.addSigningKey(added!);
    expect(await ring.verificationKey(foreign.signingKey().kid)).toBeUndefined(); // reloaded too recently
    clock.advance(30);
    expect(await ring.verificationKey(foreign.signingKey().kid)).toBeDefined();
  });
});
