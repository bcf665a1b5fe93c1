import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../../src/core/activity.js';
import { purgeEvents } from '../../src/service/housekeeping.js';
import { bearer, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../helpers/app.js';
import { testClock } from '../helpers/clock.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

describe.each(DATABASES)('purging ended sessions on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { sessionRetentionSeconds: 3600, sessionIdleTtlSeconds: 600, sessionMaxAgeSeconds: 7200 });
    await registerUser(t.app, 'wes@example.com');
  });
  afterAll(() => t.close());

  it('deletes sessions revoked or expired longer ago than the retention, and keeps the rest', async () => {
    const revoked = await signIn(t.app, 'wes@example.com', { ip: '198.51.100.1' });
    const expired = await signIn(t.app, 'wes@example.com', { ip: '198.51.100.2' });
    await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(revoked.access_token) });
    t.clock.advance(3600 + 600); // the logout is now past the retention; the idle expiry (+600) just reaches it
    const recent = await signIn(t.app, 'wes@example.com', { ip: '198.51.100.3' });
    const recentlyRevoked = await signIn(t.app, 'wes@example.com', { ip: '198.51.100.4' });
    await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(recentlyRevoked.access_token) });

    expect(await t.gatehouse.purge()).toBe(1);
    t.clock.advance(1);
    expect(await t.gatehouse.purge()).toBe(1);
    expect(await t.gatehouse.store.findSession(revoked.session.id)).toBeUndefined();
    expect(await t.gatehouse.store.findSession(expired.session.id)).toBeUndefined();
    expect(await t.gatehouse.store.findSession(recent.session.id)).toBeDefined();
    expect(await t.gatehouse.store.findSession(recentlyRevoked.session.id)).toBeDefined();
  });

  it('never purges a revocation the revocation view still needs, whatever the retention', async () => {
    const short = await startTestGatehouse(kind, { sessionRetentionSeconds: 1 });
    try {
      await registerUser(short.app, 'xia@example.com');
      const s = await signIn(short.app, 'xia@example.com');
      await short.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(s.access_token) });
      short.clock.advance(600);
      expect(await short.gatehouse.purge()).toBe(0);
      expect(await short.gatehouse.store.listRevokedSince(0)).toHaveLength(1);
      short.clock.advance(66); // token lifetime + tolerance + margin have passed
      expect(await short.gatehouse.purge()).toBe(1);
    } finally {
      await short.close();
    }
  });
});

describe.each(DATABASES)('purging login history on %s', (kind) => {
  const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
  const DAY = 86_400_000;

  it('still deletes what is past the retention when making or dropping months fails, and then fails', async () => {
    const { store, close } = await createTestStore(kind);
    try {
      const clock = testClock();
      const now = clock.now();
      await store.createUser({
        id: 'ann',
        email: 'ann@example.com',
        emailKey: 'ann@example.com',
        name: null,
        passwordHash: HASH,
        role: 'user',
        createdAt: now - 60 * DAY,
      });
      const old = newEvent('password_changed', now - 40 * DAY, { userId: 'ann' }, true);
      const recent = newEvent('password_changed', now - DAY, { userId: 'ann' }, true);
      await store.recordEvents([old, recent]);
      // As when the 1 s wait for a lock on `events` runs out under load.
      const timeout = new Error('canceling statement due to lock timeout');
      const months = new Set<PropertyKey>(['prepareEventMonths', 'purgeEventMonths']);
      const failing = new Proxy(store, {
        get: (target, property, receiver) => (months.has(property) ? () => Promise.reject(timeout) : Reflect.get(target, property, receiver)),
      });

      await expect(purgeEvents({ store: failing, clock }, 30 * 86_400)).rejects.toBe(timeout);
      expect((await store.listUserEvents('ann', { limit: 10 })).map((e) => e.id)).toEqual([recent.id]);
      expect(await store.webhookBacklog()).toEqual({ pending: 1, oldestCreatedAt: recent.at });
    } finally {
      await close();
    }
  });
});
