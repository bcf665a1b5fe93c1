import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SigningKeyRecord } from '../../src/core/records.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const DAY = 86_400_000;

let counter = 0;
function aKey(createdAt: number, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = `kid-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    kid,
    alg: 'EdDSA',
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: `public-${kid}`, kid }),
    privateJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: `public-${kid}`, d: `private-${kid}` }),
    createdAt,
    activatesAt: createdAt,
    retiredAt: null,
    ...overrides,
  };
}

describe.each(DATABASES)('the signing keys a store keeps, on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;
  /** A second connection to the same database: another node. */
  let other: KyselyStore;
  beforeEach(async () => {
    const t = await createTestStore(kind);
    store = t.store;
    other = await openStore(t.database.location);
    close = async () => {
      await other.close();
      await t.close();
    };
  });
  afterEach(() => close());

  it('keeps when each key starts signing, apart from when it was made', async () => {
    const key = aKey(T0, { activatesAt: T0 + 20 * 60_000 });
    await store.addSigningKey(key);
    expect(await other.listSigningKeys()).toStrictEqual([key]);
  });

  describe('addSigningKeyIfNoneSince', () => {
    it('adds the key when every unretired key is older than the schedule asks', async () => {
      const old = aKey(T0);
      await store.addSigningKey(old);
      const next = aKey(T0 + 30 * DAY);
      expect(await store.addSigningKeyIfNoneSince(next, T0 + 30 * DAY - 30 * DAY)).toBe(true);
      expect(await store.listSigningKeys()).toStrictEqual([old, next]);
    });

    it('adds nothing when a key newer than that exists', async () => {
      const recent = aKey(T0 + 10 * DAY);
      await store.addSigningKey(recent);
      expect(await store.addSigningKeyIfNoneSince(aKey(T0 + 30 * DAY), T0)).toBe(false);
      expect(await store.listSigningKeys()).toStrictEqual([recent]);
    });

    it('does not count a retired key, however new', async () => {
      const retired = aKey(T0 + 10 * DAY, { retiredAt: T0 + 11 * DAY });
      await store.addSigningKey(retired);
      const next = aKey(T0 + 30 * DAY);
      expect(await store.addSigningKeyIfNoneSince(next, T0)).toBe(true);
      expect(await store.listSigningKeys()).toStrictEqual([retired, next]);
    });

    it('adds exactly one key when several nodes rotate on schedule at once', async () => {
      for (let round = 0; round < 5; round++) {
        await store.db.deleteFrom('signing_keys').execute();
        await store.addSigningKey(aKey(T0));
        const now = T0 + 31 * DAY + round;
        const keys = Array.from({ length: 6 }, () => aKey(now));
        const results = await Promise.all(keys.map((key, i) => (i % 2 ? other : store).addSigningKeyIfNoneSince(key, now - 30 * DAY)));

        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.listSigningKeys()).map((k) => k.kid)).toContain(keys[results.indexOf(true)]!.kid);
        expect(await store.listSigningKeys()).toHaveLength(2);
      }
    });
  });

  describe('retireSigningKey', () => {
    it('retires a key at the given time, once', async () => {
      const [old, current] = [aKey(T0), aKey(T0 + DAY)];
      for (const key of [old, current]) await store.addSigningKey(key);

      expect(await store.retireSigningKey(old.kid, T0 + 2 * DAY)).toBe(true);
      expect(await store.retireSigningKey(old.kid, T0 + 3 * DAY)).toBe(false);
      expect(await other.listSigningKeys()).toStrictEqual([{ ...old, retiredAt: T0 + 2 * DAY }, current]);
    });

    it('says false for a key it does not have, changing nothing', async () => {
      const key = aKey(T0);
      await store.addSigningKey(key);
      expect(await store.retireSigningKey('no-such-kid', T0 + DAY)).toBe(false);
      expect(await store.listSigningKeys()).toStrictEqual([key]);
    });

    it('never retires the last unretired key, so nodes always have one to sign with', async () => {
      const retired = aKey(T0, { retiredAt: T0 + DAY });
      const last = aKey(T0 + DAY);
      for (const key of [retired, last]) await store.addSigningKey(key);

      expect(await store.retireSigningKey(last.kid, T0 + 2 * DAY)).toBe(false);
      expect(await store.listSigningKeys()).toStrictEqual([retired, last]);
    });

    it('keeps one of the last two keys when two operators retire one each at the same moment', async () => {
      for (let round = 0; round < 5; round++) {
        await store.db.deleteFrom('signing_keys').execute();
        const [a, b] = [aKey(T0), aKey(T0 + DAY)];
        for (const key of [a, b]) await store.addSigningKey(key);

        const results = await Promise.all([store.retireSigningKey(a.kid, T0 + 2 * DAY), other.retireSigningKey(b.kid, T0 + 2 * DAY)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.listSigningKeys()).filter((k) => k.retiredAt === null)).toHaveLength(1);
      }
    });
  });

  describe('sealSigningKey', () => {
    it('replaces the plain private key with the sealed one while it is still the plain one', async () => {
      const key = aKey(T0);
      await store.addSigningKey(key);

      expect(await store.sealSigningKey(key.kid, key.privateJwk, 'aes256gcm:first')).toBe(true);
      expect(await other.sealSigningKey(key.kid, key.privateJwk, 'aes256gcm:second')).toBe(false);
      expect(await store.listSigningKeys()).toStrictEqual([{ ...key, privateJwk: 'aes256gcm:first' }]);
    });

    it('changes no other key', async () => {
      const [a, b] = [aKey(T0), aKey(T0 + DAY)];
      for (const key of [a, b]) await store.addSigningKey(key);
      await store.sealSigningKey(a.kid, a.privateJwk, 'aes256gcm:sealed');
      expect((await store.listSigningKeys())[1]).toStrictEqual(b);
    });
  });
});
