import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../helpers/databases.js';
import { bearer, expectProblem, registerUser, signIn, startTestGatehouse, type SignedIn, type TestGatehouse } from '../../helpers/app.js';

describe.each(DATABASES)('POST /v1/auth/refresh on %s', (kind) => {
  let t: TestGatehouse;
  let ip = 0;
  beforeAll(async () => {
    t = await startTestGatehouse(kind);
    await registerUser(t.app, 'quinn@example.com');
  });
  afterAll(() => t.close());

  /** A new session of Quinn's, from its own address so it replaces no other. */
  const newSession = () => signIn(t.app, 'quinn@example.com', { ip: `198.51.100.${++ip}` });
  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: token } });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });

  it('spends the token and returns the next one with a fresh access token for the same session', async () => {
    const first = await newSession();
    t.clock.advance(300);
    const response = await refresh(first.refresh_token);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const next: SignedIn = response.json();
    expect(next.session.id).toBe(first.session.id);
    expect(next.session.last_active_at).toBe(new Date(t.clock.now()).toISOString());
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(next.refresh_token.startsWith(`${first.session.id}.`)).toBe(true);
    expect(next.access_token).not.toBe(first.access_token);
    expect((await me(next.access_token)).statusCode).toBe(200);
    expect((await refresh(next.refresh_token)).statusCode).toBe(200);
  });

  it('reads the session once and writes it once', async () => {
    const first = await newSession();
    const calls: string[] = [];
    const store = t.gatehouse.ctx.store;
    // Count every store call the refresh makes, through the context the use cases receive.
    t.gatehouse.ctx.store = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(name));
          return value.apply(target, args);
        };
      },
    });
    try {
      expect((await refresh(first.refresh_token)).statusCode).toBe(200);
    } finally {
      t.gatehouse.ctx.store = store;
    }
    expect(calls).toEqual(['findSessionWithUser', 'rotateRefresh']);
  });

  it('gives a retry of the spent token, within the grace window, the very token the first request got', async () => {
    const first = await newSession();
    const next: SignedIn = (await refresh(first.refresh_token)).json();
    t.clock.advance(10);
    const retry = await refresh(first.refresh_token);
    expect(retry.statusCode).toBe(200);
    expect(retry.json().refresh_token).toBe(next.refresh_token);
    expect((await me(retry.json().access_token)).statusCode).toBe(200);
  });

  it('treats the spent token after the grace window as theft: the session ends, and so do its tokens, at once', async () => {
    const first = await newSession();
    const next: SignedIn = (await refresh(first.refresh_token)).json();
    t.clock.advance(11);
    const stolen = await refresh(first.refresh_token);
    expectProblem(stolen, 401, 'refresh_token_reused');
    expectProblem(await me(next.access_token), 401, 'session_revoked');
    expectProblem(await refresh(next.refresh_token), 401, 'session_revoked');
    expect(await t.gatehouse.store.findSession(first.session.id)).toMatchObject({ revokedReason: 'refresh_token_reused', revokedBy: 'system' });
  });

  it('catches a thief who used the stolen token first: the owner’s later refresh ends the session', async () => {
    const owner = await newSession();
    const thief: SignedIn = (await refresh(owner.refresh_token)).json();
    t.clock.advance(60);
    expectProblem(await refresh(owner.refresh_token), 401, 'refresh_token_reused');
    expectProblem(await me(thief.access_token), 401, 'session_revoked');
    expectProblem(await refresh(thief.refresh_token), 401, 'session_revoked');
  });

  it('catches a token spent many rotations ago', async () => {
    const first = await newSession();
    let current = first.refresh_token;
    for (let i = 0; i < 5; i++) {
      t.clock.advance(60);
      current = (await refresh(current)).json().refresh_token;
    }
    t.clock.advance(60);
    expectProblem(await refresh(first.refresh_token), 401, 'refresh_token_reused');
  });

  it('lets 20 simultaneous refreshes with one token all succeed, and leaves exactly one live chain', async () => {
    for (let round = 0; round < 3; round++) {
      const first = await newSession();
      const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(first.refresh_token)));
      expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
      const handedOut = new Set(responses.map((r) => r.json().refresh_token));
      expect(handedOut.size).toBe(1);
      const [live] = handedOut as Set<string>;
      const row = await t.gatehouse.store.findSession(first.session.id);
      expect(row?.refresh.generation).toBe(1);
      for (const r of responses) expect((await me(r.json().access_token)).statusCode).toBe(200);
      expect((await refresh(live!)).statusCode).toBe(200);
    }
  });

  it('refuses garbage, unknown and forged tokens with invalid_refresh_token, signing nobody out', async () => {
    const first = await newSession();
    const [id] = first.refresh_token.split('.');
    for (const token of [
      'garbage',
      `${id}.${'A'.repeat(71)}`,
      first.refresh_token.slice(0, -2) + 'AA',
      `${'B'.repeat(22)}.${first.refresh_token.split('.')[1]}`,
    ]) {
      expectProblem(await refresh(token), 401, 'invalid_refresh_token');
    }
    expect((await me(first.access_token)).statusCode).toBe(200);
    expect((await refresh(first.refresh_token)).statusCode).toBe(200);
  });
});

describe.each(DATABASES)('session lifetimes on %s', (kind) => {
  let t: TestGatehouse;
  let ip = 0;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { sessionIdleTtlSeconds: 60, sessionMaxAgeSeconds: 150, accessTokenTtlSeconds: 30 });
    await registerUser(t.app, 'rosa@example.com');
  });
  afterAll(() => t.close());

  const newSession = () => signIn(t.app, 'rosa@example.com', { ip: `198.51.100.${++ip}` });
  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: token } });
  const listedIds = async (token: string) =>
    (await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(token) })).json().sessions.map((s: { id: string }) => s.id);

  it('ends a session left idle: one second before the idle timeout it refreshes, at the timeout it has expired', async () => {
    const idle = await newSession();
    let watcher = await newSession();
    t.clock.advance(59);
    const kept: SignedIn = (await refresh(idle.refresh_token)).json(); // 1 s before the timeout; idleness restarts
    watcher = (await refresh(watcher.refresh_token)).json();
    t.clock.advance(59);
    watcher = (await refresh(watcher.refresh_token)).json();
    t.clock.advance(1); // 60 s after the session's last refresh
    expectProblem(await refresh(kept.refresh_token), 401, 'session_expired');
    expect(await listedIds(watcher.access_token)).toEqual([watcher.session.id]);
  });

  it('ends a session at its absolute lifetime however busy it is: refreshing never extends it', async () => {
    const busy = await newSession();
    let token = busy.refresh_token;
    for (const step of [50, 50, 49]) {
      t.clock.advance(step);
      const response = await refresh(token);
      expect(response.statusCode, `after ${step}s`).toBe(200);
      token = response.json().refresh_token;
    }
    expect((await t.gatehouse.store.findSession(busy.session.id))?.expiresAt).toBe(Date.parse(busy.session.created_at as string) + 150_000);
    t.clock.advance(1); // 150 s after sign-in
    expectProblem(await refresh(token), 401, 'session_expired');
  });

  it('still ends an expired session when its refresh token signs it out, so its last access token dies too', async () => {
    const s = await newSession();
    t.clock.advance(25);
    const last: SignedIn = (await refresh(s.refresh_token)).json();
    t.clock.advance(60); // idle now; the access token from the refresh is still alive
    const logout = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refresh_token: last.refresh_token } });
    expect(logout.statusCode).toBe(204);
    expect(await t.gatehouse.store.findSession(s.session.id)).toMatchObject({ revokedReason: 'logout' });
  });

  it('lets an ended session’s last access token live only until its own expiry', async () => {
    const s = await newSession();
    t.clock.advance(25);
    const last: SignedIn = (await refresh(s.refresh_token)).json();
    t.clock.advance(60); // the session went idle at +85 s after its last refresh
    expectProblem(await refresh(last.refresh_token), 401, 'session_expired');
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(last.access_token) }), 401, 'token_expired');
  });
});

describe.each(DATABASES)('the per-user session cap on %s', (kind) => {
  it('ends the least recently active session of that user, not of the browser, when a sign-in goes beyond it', async () => {
    const t = await startTestGatehouse(kind, { maxSessions: 2 });
    try {
      await registerUser(t.app, 'sam@example.com');
      await registerUser(t.app, 'tia@example.com');
      const laptop = await signIn(t.app, 'sam@example.com', { ip: '198.51.100.1' });
      t.clock.advance(60);
      const phone = await signIn(t.app, 'sam@example.com', { ip: '198.51.100.2' });
      const tia = await signIn(t.app, 'tia@example.com', { ip: '198.51.100.1' });
      t.clock.advance(60);
      const laptopNow: SignedIn = (await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: laptop.refresh_token } })).json();
      t.clock.advance(60);
      const tablet = await signIn(t.app, 'sam@example.com', { ip: '198.51.100.3' });

      expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(phone.access_token) }), 401, 'session_revoked');
      expect(await t.gatehouse.store.findSession(phone.session.id)).toMatchObject({ revokedReason: 'session_limit' });
      const { sessions } = (await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(tablet.access_token) })).json();
      expect(sessions.map((s: { id: string }) => s.id)).toEqual([tablet.session.id, laptopNow.session.id]);
      expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tia.access_token) })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
