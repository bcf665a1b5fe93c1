import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from '../../src/core/access-token.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { expiredKeys, KEY_RELOAD_INTERVAL_MS, PUBLICATION_DELAY_MS, RETIRE_MARGIN_MS } from '../../src/keys/key-schedule.js';
import { newSigningKey } from '../../src/keys/new-key.js';
import { isSealed } from '../../src/keys/private-key-encryption.js';
import { retireSigningKey, rotateOnSchedule, rotateSigningKey, sealPlainKeys } from '../../src/keys/rotation.js';
import type { Store } from '../../src/storage/store.js';
import { keepKeys } from '../../src/keys/upkeep.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { testClock, type TestClock } from '../helpers/clock.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

const SECRET = 'an operator secret of at least 32 chars';
const OTHER_SECRET = 'a different secret of at least 32 characters';

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

const SETTINGS = { issuer: 'https://auth.example.com', audience: 'gatehouse', ttlSeconds: 600, clockToleranceSeconds: 5 };
const LIFETIME = { accessTokenTtlSeconds: SETTINGS.ttlSeconds, clockToleranceSeconds: SETTINGS.clockToleranceSeconds };

describe.each(DATABASES)('signing-key rotation on %s', (kind) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** One database, and `count` stores on it: the nodes of one deployment. */
  const nodes = async (count: number) => {
    const t = await createTestStore(kind);
    const others = await Promise.all(Array.from({ length: count - 1 }, () => openStore(t.database.location)));
    cleanups.push(async () => {
      for (const other of others) await other.close();
      await t.close();
    });
    return [t.store, ...others];
  };

  const sign = (ring: KeyRing, clock: TestClock) => signAccessToken(ring, SETTINGS, { userId: 'u1', sessionId: 's1', authTime: clock.now() }, clock.now());
  const verifies = (ring: KeyRing, token: string, clock: TestClock) =>
    verifyAccessToken(token, ring, SETTINGS, clock.now()).then(
      () => true,
      () => false,
    );
  const kids = (ring: KeyRing) => ring.jwks().keys.map((k) => k.kid);

  it('keeps every token, signed before, during and after a rotation, verifying on every node until it expires', async () => {
    const [storeA, storeB] = await nodes(2);
    const clock = testClock();
    const a = await KeyRing.open(storeA!, clock, undefined);
    const b = await KeyRing.open(storeB!, clock, undefined);
    const old = a.signingKey().kid;
    const tokens: Array<{ token: string; signedAt: number }> = [];
    const signOnBoth = async () => {
      for (const ring of [a, b]) tokens.push({ token: (await sign(ring, clock)).token, signedAt: clock.now() });
    };
    const everyLiveTokenVerifiesOnBoth = async () => {
      for (const { token, signedAt } of tokens.filter((t) => clock.now() < t.signedAt + SETTINGS.ttlSeconds * 1000)) {
        expect(await verifies(a, token, clock), `token signed at +${(signedAt - tokens[0]!.signedAt) / 1000} s`).toBe(true);
        expect(await verifies(b, token, clock)).toBe(true);
      }
    };
    await signOnBoth();

    clock.advance(60);
    const added = await rotateSigningKey(storeA!, clock, undefined);
    expect(added.activatesAt).toBe(clock.now() + PUBLICATION_DELAY_MS);
    // Until their timers reload, the nodes go on as before: nothing signs with a key they lack.
    await signOnBoth();
    expect(kids(b)).toEqual([old]);

    clock.advance(KEY_RELOAD_INTERVAL_MS / 1000);
    await Promise.all([a.reload(), b.reload()]);
    expect(kids(a)).toEqual([old, added.kid]);
    expect(kids(b)).toEqual([old, added.kid]);

    // Published, then used: walk through the publication delay and past the switch.
    for (const step of [60, 300, 600, 209, 1, 1, 60, 300, 300, 300]) {
      clock.advance(step);
      await signOnBoth();
      const signer = clock.now() < added.activatesAt ? old : added.kid;
      expect(a.signingKey().kid).toBe(signer);
      expect(b.signingKey().kid).toBe(signer);
      await everyLiveTokenVerifiesOnBoth();
    }
    expect(new Set(tokens.map((t) => decodeProtectedHeader(t.token).kid))).toEqual(new Set([old, added.kid]));
  });

  it('refuses to retire a key while tokens it signed may be alive, and retires it once they cannot be', async () => {
    const [store] = await nodes(1);
    const clock = testClock();
    const ring = await KeyRing.open(store!, clock, undefined);
    const old = ring.signingKey().kid;
    const retire = (force = false) => retireSigningKey(store!, clock, old, { lifetime: LIFETIME, force });

    expect(await retire()).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^it is the only key left/), forceable: false });
    const added = await rotateSigningKey(store!, clock, undefined);
    expect(await retire()).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^it is the key every node signs with until /), forceable: true });

    clock.set(added.activatesAt);
    await ring.reload();
    const lastOldToken = await signAccessToken(ring, SETTINGS, { userId: 'u1', sessionId: 's1', authTime: clock.now() - 1 }, clock.now() - 1);
    const safeFrom = added.activatesAt + (600 + 5) * 1000 + RETIRE_MARGIN_MS;
    expect(await retire()).toMatchObject({
      outcome: 'refused',
      reason: `tokens it signed may be alive until ${new Date(safeFrom).toISOString().replace('.000', '')}`,
    });
    clock.set(safeFrom - 1);
    expect(await retire()).toMatchObject({ outcome: 'refused' });
    expect(expiredKeys(await store!.listSigningKeys(), clock.now(), LIFETIME)).toEqual([]);
    expect((await store!.listSigningKeys()).find((k) => k.kid === old)?.retiredAt).toBeNull();

    clock.set(safeFrom);
    expect(await retire()).toMatchObject({ outcome: 'retired' });
    expect(await retire()).toMatchObject({ outcome: 'already-retired' });
    // Every token of the old key had expired anyway; the last one is refused as such.
    await expect(verifyAccessToken(lastOldToken.token, ring, SETTINGS, clock.now())).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('retires by force a key whose tokens are alive: they stop verifying on every node at its next reload', async () => {
    const [storeA, storeB] = await nodes(2);
    const clock = testClock();
    const a = await KeyRing.open(storeA!, clock, undefined);
    const b = await KeyRing.open(storeB!, clock, undefined);
    const leaked = a.signingKey().kid;
    const { token } = await sign(a, clock);
    const added = await rotateSigningKey(storeA!, clock, undefined);

    const forced = await retireSigningKey(storeB!, clock, leaked, { lifetime: LIFETIME, force: true });
    expect(forced).toMatchObject({ outcome: 'retired', forced: expect.stringMatching(/^it is the key every node signs with until /) });
    clock.advance(KEY_RELOAD_INTERVAL_MS / 1000);
    await Promise.all([a.reload(), b.reload()]);
    for (const ring of [a, b]) {
      expect(kids(ring)).toEqual([added.kid]);
      expect(await verifies(ring, token, clock)).toBe(false);
      // The new key signs before its time rather than nobody signing: it is published already.
      expect(ring.signingKey().kid).toBe(added.kid);
      expect(await verifies(ring, (await sign(ring, clock)).token, clock)).toBe(true);
    }
  });

  it('never retires the last key, even by force', async () => {
    const [store] = await nodes(1);
    const clock = testClock();
    const ring = await KeyRing.open(store!, clock, undefined);
    expect(await retireSigningKey(store!, clock, ring.signingKey().kid, { lifetime: LIFETIME, force: true })).toMatchObject({
      outcome: 'refused',
      forceable: false,
    });
    expect(await retireSigningKey(store!, clock, 'no-such-kid', { lifetime: LIFETIME, force: true })).toEqual({ outcome: 'unknown' });
    expect((await store!.listSigningKeys()).map((k) => k.retiredAt)).toEqual([null]);
  });

  it('lets a rotation be called off by retiring the new key before it signs', async () => {
    const [store] = await nodes(1);
    const clock = testClock();
    const ring = await KeyRing.open(store!, clock, undefined);
    const old = ring.signingKey().kid;
    const added = await rotateSigningKey(store!, clock, undefined);
    expect(await retireSigningKey(store!, clock, added.kid, { lifetime: LIFETIME, force: false })).toMatchObject({ outcome: 'retired' });
    clock.set(added.activatesAt);
    await ring.reload();
    expect(ring.signingKey().kid).toBe(old);
    expect(kids(ring)).toEqual([old]);
  });

  it('rotates on schedule exactly once when several nodes notice at the same moment, then retires the old key once its tokens expired', async () => {
    const stores = await nodes(3);
    const clock = testClock();
    const rings = await Promise.all(stores.map((store) => KeyRing.open(store, clock, undefined)));
    const first = rings[0]!.signingKey().kid;
    const schedule = { secret: undefined, days: 30, lifetime: LIFETIME };
    const rotateEverywhere = () => Promise.all(stores.flatMap((store) => [rotateOnSchedule(store, clock, schedule), rotateOnSchedule(store, clock, schedule)]));

    clock.advance(30 * 86_400 - 1);
    expect((await rotateEverywhere()).filter((r) => r.added)).toHaveLength(0);
    clock.advance(1);
    const results = await rotateEverywhere();
    expect(results.filter((r) => r.added)).toHaveLength(1);
    const added = results.find((r) => r.added)!.added!;
    expect((await stores[0]!.listSigningKeys()).map((k) => k.kid)).toEqual([first, added.kid]);

    // The timers keep running: no second rotation, and no retirement while tokens may live.
    clock.set(added.activatesAt + 600_000);
    expect((await rotateEverywhere()).every((r) => !r.added && r.retired.length === 0)).toBe(true);
    clock.set(added.activatesAt + (600 + 5) * 1000 + RETIRE_MARGIN_MS);
    const retiring = await rotateEverywhere();
    expect(retiring.flatMap((r) => r.retired.map((k) => k.kid))).toEqual([first]);
    for (const ring of rings) {
      await ring.reload();
      expect(kids(ring)).toEqual([added.kid]);
    }
  });

  it('reloads on the timer through keepKeys, rotating only when a schedule is set', async () => {
    const [store] = await nodes(1);
    const clock = testClock();
    const ring = await KeyRing.open(store!, clock, undefined);
    const logged: string[] = [];
    const options = (rotationDays: number) => ({
      secret: undefined,
      rotationDays,
      lifetime: LIFETIME,
      log: { info: (_: object, message: string) => logged.push(message) },
    });
    clock.advance(365 * 86_400);
    await keepKeys(ring, store!, clock, options(0));
    expect(await store!.listSigningKeys()).toHaveLength(1);
    await keepKeys(ring, store!, clock, options(90));
    expect(kids(ring)).toHaveLength(2);
    expect(logged).toEqual([expect.stringMatching(/^signing key rotated in on schedule/)]);
  });

  it('seals keys stored in plain text once a secret is set, on every node at once', async () => {
    const stores = await nodes(2);
    const clock = testClock();
    const plain = await KeyRing.open(stores[0]!, clock, undefined);
    expect(isSealed((await stores[0]!.listSigningKeys())[0]!.privateJwk)).toBe(false);
    const rings = await Promise.all(stores.map((store) => KeyRing.open(store, clock, SECRET)));
    const [record] = await stores[0]!.listSigningKeys();
    expect(isSealed(record!.privateJwk)).toBe(true);
    expect(rings.map((r) => r.signingKey().kid)).toEqual([plain.signingKey().kid, plain.signingKey().kid]);
    // Exactly one node sealed it, and says so (gatehouse.ts then warns that a copy made before holds it).
    expect(rings.map((r) => r.sealedAtOpen).sort()).toEqual([0, 1]);
    expect((await KeyRing.open(stores[0]!, clock, SECRET)).sealedAtOpen).toBe(0);
    await expect(KeyRing.open(stores[0]!, clock, undefined)).rejects.toThrow(/is encrypted: set GATEHOUSE_SECRET/);
  });

  it('keeps the keys it has when a new one cannot be decrypted, and says why', async () => {
    const [store] = await nodes(1);
    const clock = testClock();
    const ring = await KeyRing.open(store!, clock, SECRET);
    const old = ring.signingKey().kid;
    // Written straight to the database: every way Gatehouse adds a key refuses a wrong secret.
    await store!.addSigningKey(await newSigningKey({ createdAt: clock.now(), activatesAt: clock.now() + PUBLICATION_DELAY_MS }, OTHER_SECRET));
    await expect(ring.reload()).rejects.toThrow(/cannot be decrypted/);
    clock.advance(86_400);
    expect(ring.signingKey().kid).toBe(old);
    expect(kids(ring)).toEqual([old]);
  });

  describe('GATEHOUSE_SECRET, checked before any key is written', () => {
    /** The private keys as stored, by kid: what a check that refuses must leave as it was. */
    const stored = async (store: Store) => new Map((await store.listSigningKeys()).map((k) => [k.kid, k.privateJwk]));
    /** A deployment whose keys are sealed with SECRET. */
    const sealedDeployment = async (count: number) => {
      const stores = await nodes(count);
      const clock = testClock();
      const ring = await KeyRing.open(stores[0]!, clock, SECRET);
      return { stores, store: stores[0]!, clock, ring };
    };

    it('refuses a rotation without a secret when the keys are sealed, naming GATEHOUSE_SECRET, and adds no plain key', async () => {
      const { store, clock } = await sealedDeployment(1);
      const before = await stored(store);
      await expect(rotateSigningKey(store, clock, undefined)).rejects.toThrow(/^the signing keys are sealed: set GATEHOUSE_SECRET [^\n]+$/);
      expect(await stored(store)).toEqual(before);
    });

    it('refuses a rotation with a secret that does not open the keys, and adds no key the nodes could not open', async () => {
      const { stores, store, clock } = await sealedDeployment(2);
      const before = await stored(store);
      await expect(rotateSigningKey(store, clock, OTHER_SECRET)).rejects.toThrow(/cannot be decrypted: GATEHOUSE_SECRET is not the secret it was stored with/);
      expect(await stored(store)).toEqual(before);
      // The other node goes on reloading, so it still learns of rotations done right.
      const other = await KeyRing.open(stores[1]!, clock, SECRET);
      const added = await rotateSigningKey(store, clock, SECRET);
      clock.advance(KEY_RELOAD_INTERVAL_MS / 1000);
      await other.reload();
      expect(kids(other)).toContain(added.kid);
    });

    it('refuses a scheduled rotation with a missing or wrong secret, changing nothing', async () => {
      const { store, clock } = await sealedDeployment(1);
      const before = await stored(store);
      clock.advance(31 * 86_400);
      for (const secret of [undefined, OTHER_SECRET]) {
        await expect(rotateOnSchedule(store, clock, { secret, days: 30, lifetime: LIFETIME })).rejects.toThrow(/GATEHOUSE_SECRET/);
      }
      expect(await stored(store)).toEqual(before);
      expect((await rotateOnSchedule(store, clock, { secret: SECRET, days: 30, lifetime: LIFETIME })).added).toBeDefined();
    });

    it('refuses to seal plain keys with a secret that does not open the sealed ones', async () => {
      const { store, clock } = await sealedDeployment(1);
      // A plain key beside sealed ones, as an older `keys rotate` without the secret left it.
      await store.addSigningKey(await newSigningKey({ createdAt: clock.now(), activatesAt: clock.now() + PUBLICATION_DELAY_MS }, undefined));
      const before = await stored(store);
      await expect(sealPlainKeys(store, OTHER_SECRET)).rejects.toThrow(/cannot be decrypted/);
      expect(await stored(store)).toEqual(before);
      expect(await sealPlainKeys(store, SECRET)).toBe(1);
    });

    it('stops a node started with a wrong secret before it seals anything, so the plain keys stay usable by the right one', async () => {
      const { stores, store, clock } = await sealedDeployment(2);
      const plain = await newSigningKey({ createdAt: clock.now(), activatesAt: clock.now() + PUBLICATION_DELAY_MS }, undefined);
      await store.addSigningKey(plain);
      const before = await stored(store);
      await expect(KeyRing.open(stores[1]!, clock, OTHER_SECRET)).rejects.toThrow(/cannot be decrypted/);
      expect(await stored(store)).toEqual(before);
      const right = await KeyRing.open(stores[1]!, clock, SECRET);
      expect(kids(right)).toContain(plain.kid);
      expect((await store.listSigningKeys()).every((k) => isSealed(k.privateJwk))).toBe(true);
    });

    it('still lets a deployment without a secret rotate in plain text, and a first secret seal its keys', async () => {
      const [store] = await nodes(1);
      const clock = testClock();
      await KeyRing.open(store!, clock, undefined);
      const added = await rotateSigningKey(store!, clock, undefined);
      expect(isSealed(added.privateJwk)).toBe(false);
      expect(await sealPlainKeys(store!, SECRET)).toBe(2);
    });
  });
});
