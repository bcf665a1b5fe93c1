import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGatehouse } from '../../../src/gatehouse.js';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { bearer, expectProblem, registerUser, signIn, startTestGatehouse, testConfig, type TestGatehouse } from '../../helpers/app.js';
import { createTestDatabase, HTTP_DATABASES } from '../../helpers/databases.js';

const SERVICE_KEY = 'svc_' + 'k'.repeat(40);
const OTHER_KEY = 'svc_' + 'o'.repeat(40);

interface FeedEvent {
  event: string;
  id: string;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream response event by event (enough of the format for these tests). */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    async next(): Promise<FeedEvent> {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const fields: Record<string, string> = Object.fromEntries(
            block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
          );
          if (fields.event) return { event: fields.event, id: fields.id ?? '', data: JSON.parse(fields.data ?? 'null') };
          continue; // the `retry:` preamble
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffered += value;
      }
    },
    /** The next event of this type, skipping others (heartbeats). */
    async nextOf(type: string): Promise<FeedEvent> {
      for (;;) {
        const event = await this.next();
        if (event.event === type) return event;
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe.each(HTTP_DATABASES)('the revocation feed on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { serviceKeys: [OTHER_KEY, SERVICE_KEY] });
    await registerUser(t.app, 'feed@example.com');
  });
  afterAll(() => t.close());

  const feed = (query = '', headers: Record<string, string> = bearer(SERVICE_KEY)) => t.app.inject({ method: 'GET', url: `/v1/revocations${query}`, headers });
  const signOut = async (token: string) =>
    expect((await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(token) })).statusCode).toBe(204);
  const ids = (body: { revocations: Array<{ session_id: string }> }) => body.revocations.map((r) => r.session_id);

  describe('who may read it', () => {
    it('asks for a service key with a Bearer challenge when none is sent', async () => {
      const response = await feed('', {});
      expectProblem(response, 401, 'token_missing');
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('refuses a wrong key, and a user’s own access token, as an invalid token', async () => {
      const user = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.1' });
      for (const credential of ['svc_' + 'x'.repeat(40), user.access_token, SERVICE_KEY + 'x', SERVICE_KEY.slice(0, -1)]) {
        const response = await feed('', bearer(credential));
        expectProblem(response, 401, 'token_invalid');
        expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      }
    });

    it('accepts any of the configured keys', async () => {
      expect((await feed('', bearer(OTHER_KEY))).statusCode).toBe(200);
      expect((await feed('', bearer(SERVICE_KEY))).statusCode).toBe(200);
    });

    it('is closed to everyone when no service key is configured', async () => {
      const closed = await startTestGatehouse(kind);
      try {
        const response = await closed.app.inject({ method: 'GET', url: '/v1/revocations', headers: bearer(SERVICE_KEY) });
        expectProblem(response, 401, 'token_invalid');
        expect(response.json().detail).toMatch(/GATEHOUSE_SERVICE_KEYS/);
      } finally {
        await closed.close();
      }
    });
  });

  describe('GET /v1/revocations', () => {
    it('lists the sessions revoked within the token lifetime, oldest first, with what a verifier needs', async () => {
      const first = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.2' });
      const second = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.3' });
      await signOut(first.access_token);
      t.clock.advance(1);
      await signOut(second.access_token);

      const response = await feed();
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json();
      expect(ids(body).slice(-2)).toEqual([first.session.id, second.session.id]);
      expect(body.revocations.at(-1)).toEqual({ session_id: second.session.id, revoked_at: new Date(t.clock.now()).toISOString() });
      expect(body).toMatchObject({ cursor: String(t.clock.now()), access_token_ttl: 600, clock_tolerance: 5, retention_seconds: 665, staleness_ms: 0 });
    });

    it('answers from a cursor with only what was revoked since (and a few seconds before: readers dedupe)', async () => {
      const before = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.4' });
      await signOut(before.access_token);
      t.clock.advance(60);
      const { cursor } = (await feed()).json();
      const after = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.5' });
      await signOut(after.access_token);

      const body = (await feed(`?since=${cursor}`)).json();
      expect(ids(body)).toEqual([after.session.id]);
      expect(Number(body.cursor)).toBeGreaterThanOrEqual(Number(cursor));
    });

    it('forgets revocations whose tokens have all expired', async () => {
      const old = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.6' });
      await signOut(old.access_token);
      expect(ids((await feed()).json())).toContain(old.session.id);
      t.clock.advance(666);
      expect(ids((await feed()).json())).not.toContain(old.session.id);
      expect(ids((await feed('?since=0')).json())).not.toContain(old.session.id);
    });

    it.each(['abc', '-1', '1.5', '9'.repeat(16), ''])('refuses the cursor %j', async (since) => {
      const response = await feed(`?since=${since}`);
      expectProblem(response, 400, 'validation_failed');
      expect(response.json().errors[0].pointer).toBe('/querystring/since');
    });

    it('refuses unknown parameters and a malformed Last-Event-ID', async () => {
      expectProblem(await feed('?cursor=1'), 400, 'validation_failed');
      const response = await feed('', { ...bearer(SERVICE_KEY), 'last-event-id': 'yesterday' });
      expectProblem(response, 400, 'validation_failed');
      expect(response.json().errors[0].pointer).toBe('/headers/last-event-id');
    });
  });

  describe('the event stream', () => {
    let base: string;
    beforeAll(async () => {
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });

    const open = async (headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}/v1/revocations`, { headers: { accept: 'text/event-stream', ...bearer(SERVICE_KEY), ...headers } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      return eventReader(response.body as ReadableStream<Uint8Array>);
    };

    it('starts with the current revocations, then sends each new one as it happens', async () => {
      const earlier = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.10' });
      await signOut(earlier.access_token);
      const events = await open();
      try {
        const snapshot = await events.nextOf('revocations');
        expect(snapshot.data.revocations).toContainEqual(expect.objectContaining({ session_id: earlier.session.id }));
        expect(snapshot.data).toMatchObject({ access_token_ttl: 600, retention_seconds: 665 });
        expect(snapshot.id).toBe(snapshot.data.cursor);

        const later = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.11' });
        await signOut(later.access_token);
        const update = await events.nextOf('revocations');
        expect(update.data.revocations).toEqual([{ session_id: later.session.id, revoked_at: new Date(t.clock.now()).toISOString() }]);
        expect(typeof update.data.staleness_ms).toBe('number');
      } finally {
        await events.cancel();
      }
    });

    it('sends a heartbeat every second saying how fresh the node’s knowledge is', async () => {
      const events = await open();
      try {
        await events.nextOf('revocations');
        const heartbeat = await events.nextOf('heartbeat');
        expect(heartbeat.data).toEqual({ cursor: heartbeat.id, staleness_ms: expect.any(Number) });
      } finally {
        await events.cancel();
      }
    });

    it('resumes from Last-Event-ID with what the reader missed while away', async () => {
      const first = await open();
      const { id } = await first.nextOf('revocations');
      await first.cancel();
      t.clock.advance(60);
      const missed = await signIn(t.app, 'feed@example.com', { ip: '192.0.2.12' });
      await signOut(missed.access_token);

      const resumed = await open({ 'last-event-id': id });
      try {
        const snapshot = await resumed.nextOf('revocations');
        const revocations = snapshot.data.revocations as Array<{ session_id: string; revoked_at: string }>;
        expect(revocations.at(-1)?.session_id).toBe(missed.session.id);
        // Besides it, only the last 15 s before the cursor again (the overlap readers dedupe).
        for (const r of revocations) expect(Date.parse(r.revoked_at)).toBeGreaterThanOrEqual(Number(id) - 15_000);
      } finally {
        await resumed.cancel();
      }
    });

    it('leaves nothing running for a reader that leaves while the snapshot is read', async () => {
      const reader = await createTestDatabase(kind);
      const real = await openStore(reader.location);
      // A slow read, as a loaded database gives: the reader hangs up during it.
      const slow = new Proxy(real, {
        get: (target, name, receiver) =>
          name === 'listRevokedSince'
            ? async (since: number) => (await sleep(300), target.listRevokedSince(since))
            : (Reflect.get(target, name, receiver) as unknown),
      });
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const node = await createGatehouse(testConfig({ database: reader.location, serviceKeys: [SERVICE_KEY] }), { store: slow, logger: false });
      const url = await node.app.listen({ host: '127.0.0.1', port: 0 });
      await Promise.all(
        [1, 2, 3].map(() =>
          fetch(`${url}/v1/revocations`, { headers: { accept: 'text/event-stream', ...bearer(SERVICE_KEY) }, signal: AbortSignal.timeout(50) }).catch(
            () => undefined,
          ),
        ),
      );
      await sleep(600);
      await node.close();
      // A leaked heartbeat would still be ticking now that the node is closed.
      expect(timers()).toBeLessThanOrEqual(before);
      await reader.drop();
    });

    it('does not keep the server from shutting down', async () => {
      const other = await startTestGatehouse(kind, { serviceKeys: [SERVICE_KEY] });
      const url = await other.app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${url}/v1/revocations`, { headers: { accept: 'text/event-stream', ...bearer(SERVICE_KEY) } });
      const events = eventReader(response.body as ReadableStream<Uint8Array>);
      await events.nextOf('revocations');
      await other.close();
      await expect(events.next()).rejects.toThrow(/stream ended/);
    });
  });
});
