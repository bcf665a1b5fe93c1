import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatehouse } from '../../src/gatehouse.js';
import { LastActivity } from '../../src/service/last-activity.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { bearer, registerUser, signIn, startTestGatehouse, testConfig, type TestGatehouse } from '../helpers/app.js';
import { testClock } from '../helpers/clock.js';
import { createTestDatabase, DATABASES } from '../helpers/databases.js';
import { gate } from '../webhooks/receiver.js';

describe.each(DATABASES)('last activity on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { sessionIdleTtlSeconds: 120, accessTokenTtlSeconds: 600 });
    await registerUser(t.app, 'uma@example.com');
  });
  afterAll(() => t.close());

  const use = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
  const lastActive = async (token: string, id: string) => {
    const { sessions } = (await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(token) })).json();
    return sessions.find((s: { id: string }) => s.id === id)?.last_active_at;
  };
  const at = (offsetSeconds: number) => new Date(Date.parse('2026-11-27T09:00:00Z') + offsetSeconds * 1000).toISOString();

  it('moves forward on authenticated requests, written in a batch, at most once a minute per session', async () => {
    const s = await signIn(t.app, 'uma@example.com', { ip: '198.51.100.1' });
    t.clock.advance(10);
    await use(s.access_token);
    expect(t.gatehouse.activity.backlog).toBe(1);
    await t.gatehouse.activity.flush();
    expect(await lastActive(s.access_token, s.session.id)).toBe(at(10));

    t.clock.advance(30);
    await use(s.access_token);
    expect(t.gatehouse.activity.backlog).toBe(0); // within the minute: nothing to write
    await t.gatehouse.activity.flush();
    expect(await lastActive(s.access_token, s.session.id)).toBe(at(10));

    t.clock.advance(35);
    await use(s.access_token);
    await t.gatehouse.activity.flush();
    expect(await lastActive(s.access_token, s.session.id)).toBe(at(75));
  });

  it('keeps a session in use from going idle, even without refreshes', async () => {
    const s = await signIn(t.app, 'uma@example.com', { ip: '198.51.100.2' });
    t.clock.advance(100);
    await use(s.access_token);
    await t.gatehouse.activity.flush();
    t.clock.advance(100); // 200 s after sign-in, 100 s after last use: idle timeout is 120 s
    const refreshed = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: s.refresh_token } });
    expect(refreshed.statusCode).toBe(200);
  });

  it('flushes one after another: a flush waits for the one in progress, and writes what that one failed to', async () => {
    const s = await signIn(t.app, 'uma@example.com', { ip: '198.51.100.3' });
    const written = gate();
    let calls = 0;
    // The first write hangs until the test lets it fail, as a timer's write might at shutdown.
    const store = new Proxy(t.gatehouse.store, {
      get: (target, name, receiver) =>
        name === 'recordActivity' && calls++ === 0
          ? () => written.promise.then(() => Promise.reject(new Error('database hiccup')))
          : Reflect.get(target, name, receiver),
    });
    const activity = new LastActivity(store, t.clock, { idleTtlSeconds: 120 });
    t.clock.advance(5);
    activity.seen(s.session.id);
    const timers = activity.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(activity.backlog).toBe(0); // taken by the write in progress
    let done = false;
    const atShutdown = activity.flush().then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    written.open();
    await expect(timers).rejects.toThrow('database hiccup');
    await atShutdown;
    expect(activity.backlog).toBe(0);
    expect(await lastActive(s.access_token, s.session.id)).toBe(new Date(t.clock.now()).toISOString());
  });

  it('is written when the node shuts down, not lost', async () => {
    const database = await createTestDatabase(kind);
    const clock = testClock();
    const config = testConfig({ database: database.location });
    const gatehouse = await createGatehouse(config, { clock, store: await openStore(database.location), logger: false });
    await registerUser(gatehouse.app, 'vic@example.com');
    const s = await signIn(gatehouse.app, 'vic@example.com');
    clock.advance(90);
    await gatehouse.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(s.access_token) });
    await gatehouse.close();

    const reopened = await openStore(database.location);
    try {
      expect((await reopened.findSession(s.session.id))?.lastActiveAt).toBe(clock.now());
    } finally {
      await reopened.close();
      await database.drop();
    }
  });
});
