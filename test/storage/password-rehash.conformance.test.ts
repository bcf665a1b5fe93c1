import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/core/records.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import type { NewSession } from '../../src/storage/store.js';
import { HOUR, newSessionRecord, T0 } from '../helpers/records.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

/**
 * The Store contract of `rehashPassword` (src/storage/store.ts), on every database: a fresh hash
 * of the same password replaces an outdated one only while nothing else changed it.
 */

const OLD_HASH = '$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$b2xkb2xkb2xk';
const FRESH_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$ZnJlc2hmcmVzaA';
const CHANGED_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$Y2hhbmdlZGNoYW5nZWQ';

let counter = 0;
const nextId = (prefix: string) => `${prefix}-rehash-${String(++counter).padStart(5, '0')}`;

const aSession = (userId: string, createdAt = T0) => newSessionRecord(nextId('session'), userId, createdAt);

describe.each(DATABASES)('rehashing a password in the store on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  async function aUserWithAnOldHash(): Promise<UserRecord> {
    const id = nextId('user');
    return store.createUser({ id, email: `${id}@example.com`, emailKey: `${id}@example.com`, name: null, passwordHash: OLD_HASH, role: 'user', createdAt: T0 });
  }

  async function aSessionOf(userId: string, passwordHash = OLD_HASH): Promise<NewSession> {
    const session = aSession(userId);
    await store.startSession(session, { replaceSameDevice: false, maxSessions: 0, passwordHash });
    return session;
  }

  it('replaces the hash while it is still the one the sign-in verified, and changes nothing else', async () => {
    const user = await aUserWithAnOldHash();
    const session = await aSessionOf(user.id);

    expect(await store.rehashPassword({ userId: user.id, currentPasswordHash: OLD_HASH, passwordHash: FRESH_HASH })).toBe(true);

    // Not a password change: its time, the record's time and every session stay as they were.
    expect(await store.findUserById(user.id)).toStrictEqual({ ...user, passwordHash: FRESH_HASH });
    expect(await store.findSession(session.id)).toMatchObject({ revokedAt: null });
    expect(await store.listRevokedSince(0)).toEqual([]);
  });

  it('lets the next sign-in be recorded against the new hash, and no longer the old one', async () => {
    const user = await aUserWithAnOldHash();
    await store.rehashPassword({ userId: user.id, currentPasswordHash: OLD_HASH, passwordHash: FRESH_HASH });

    await aSessionOf(user.id, FRESH_HASH);
    await expect(aSessionOf(user.id, OLD_HASH)).rejects.toMatchObject({ code: 'invalid_credentials' });
  });

  it('leaves a password changed meanwhile as it is, and says it did nothing', async () => {
    const user = await aUserWithAnOldHash();
    const keeper = await aSessionOf(user.id);
    const at = T0 + HOUR;
    await store.changePassword({
      userId: user.id,
      currentPasswordHash: OLD_HASH,
      passwordHash: CHANGED_HASH,
      keepSessionId: keeper.id,
      revocation: { reason: 'password_changed', by: user.id, at },
    });

    expect(await store.rehashPassword({ userId: user.id, currentPasswordHash: OLD_HASH, passwordHash: FRESH_HASH })).toBe(false);
    expect(await store.findUserById(user.id)).toStrictEqual({ ...user, passwordHash: CHANGED_HASH, passwordChangedAt: at, updatedAt: at });
  });

  it('touches no other user', async () => {
    const ann = await aUserWithAnOldHash();
    const bob = await aUserWithAnOldHash();
    await store.rehashPassword({ userId: ann.id, currentPasswordHash: OLD_HASH, passwordHash: FRESH_HASH });
    expect(await store.findUserById(bob.id)).toStrictEqual(bob);
  });

  it('of a rehash and a password change racing from the same hash, exactly one wins: a change is never overwritten', async () => {
    for (let round = 0; round < 5; round++) {
      const user = await aUserWithAnOldHash();
      const keeper = await aSessionOf(user.id);
      const [rehashed, changed] = await Promise.allSettled([
        store.rehashPassword({ userId: user.id, currentPasswordHash: OLD_HASH, passwordHash: FRESH_HASH }),
        store.changePassword({
          userId: user.id,
          currentPasswordHash: OLD_HASH,
          passwordHash: CHANGED_HASH,
          keepSessionId: keeper.id,
          revocation: { reason: 'password_changed', by: user.id, at: T0 + HOUR },
        }),
      ]);
      const stored = (await store.findUserById(user.id))?.passwordHash;
      if (changed.status === 'fulfilled') {
        expect(rehashed).toEqual({ status: 'fulfilled', value: false });
        expect(stored).toBe(CHANGED_HASH);
      } else {
        // The rehash went first; the change, which swaps on the old hash, is refused whole.
        expect(changed.reason).toMatchObject({ code: 'invalid_credentials' });
        expect(rehashed).toEqual({ status: 'fulfilled', value: true });
        expect(stored).toBe(FRESH_HASH);
      }
    }
  });
});
