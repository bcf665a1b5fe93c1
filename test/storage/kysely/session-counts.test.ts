import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { createTestStore, DATABASES } from '../../helpers/databases.js';
import { HOUR, newSessionRecord, T0 } from '../../helpers/records.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
const DAY = 24 * HOUR;

describe.each(DATABASES)('counting active sessions on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  async function aUser(id: string): Promise<string> {
    await store.createUser({ id, email: `${id}@example.com`, emailKey: `${id}@example.com`, name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
    return id;
  }
  /** A session begun at T0 with a day of idle time and 30 days in all, unless told otherwise. */
  const start = (id: string, userId: string, ends: { idleExpiresAt?: number; expiresAt?: number } = {}) =>
    store.startSession({ ...newSessionRecord(id, userId), ...ends }, { replaceSameDevice: false, maxSessions: 0, passwordHash: HASH });

  it('counts nothing in an empty database', async () => {
    expect(await store.countActiveSessions(T0)).toBe(0);
  });

  it("counts every user's sessions that are neither revoked nor past either lifetime at the given moment", async () => {
    const ann = await aUser('ann');
    const bob = await aUser('bob');
    await start('ann-live', ann);
    await start('ann-revoked', ann);
    await start('bob-live', bob);
    await start('bob-long', bob, { idleExpiresAt: T0 + 2 * DAY });
    await store.revokeSession(ann, 'ann-revoked', { reason: 'logout', by: ann, at: T0 });

    expect(await store.countActiveSessions(T0)).toBe(3);
    // Idle for a day: the sessions with a day of idle time end exactly then.
    expect(await store.countActiveSessions(T0 + DAY - 1)).toBe(3);
    expect(await store.countActiveSessions(T0 + DAY)).toBe(1);
    expect(await store.countActiveSessions(T0 + 2 * DAY)).toBe(0);
  });

  it('stops counting a session at its absolute expiry, whatever its idle time says', async () => {
    const ann = await aUser('ann');
    await start('ann-ending', ann, { expiresAt: T0 + HOUR }); // idle time left: a day
    expect(await store.countActiveSessions(T0 + HOUR - 1)).toBe(1);
    expect(await store.countActiveSessions(T0 + HOUR)).toBe(0);
  });
});
