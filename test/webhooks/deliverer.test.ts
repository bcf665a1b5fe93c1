import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newEvent, type ActivityEvent } from '../../src/core/activity.js';
import { notMeKey, type NotMeLinks } from '../../src/core/not-me-link.js';
import type { ClientInfo } from '../../src/core/records.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import type { Store } from '../../src/storage/store.js';
import { WebhookDeliverer, type WebhookDelivererOptions } from '../../src/webhooks/deliverer.js';
import { webhookPayload } from '../../src/webhooks/payload.js';
import { verifyWebhook } from '../../src/webhooks/signature.js';
import { testClock, type TestClock } from '../helpers/clock.js';
import { createTestStore, DATABASES, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/embedded-postgres.js';
import { gate, WebhookReceiver } from './receiver.js';

/**
 * The deliverer against a real HTTP receiver on 127.0.0.1 and a real store, with a clock the
 * test moves: what arrives, signed how, and when a failed delivery comes back.
 */

const SECRET = 'a-long-random-webhook-secret-of-more-than-32-characters';
const SECOND = 1000;
const DAY = 86_400 * SECOND;
const FIREFOX: ClientInfo = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
  country: 'DE',
};

interface Logged {
  level: 'debug' | 'warn' | 'error';
  details: object;
  message: string;
}

function harness(kind: DatabaseKind) {
  const t = {
    store: undefined as unknown as KyselyStore,
    database: undefined as unknown as TestDatabase,
    clock: undefined as unknown as TestClock,
    receivers: [] as WebhookReceiver[],
    deliverers: [] as WebhookDeliverer[],
    logs: [] as Logged[],
    links: { key: notMeKey(SECRET), ttlSeconds: 7 * 86_400, publicUrl: 'https://auth.example.com' } as NotMeLinks,
    close: async () => {},
  };

  beforeEach(async () => {
    const created = await createTestStore(kind);
    Object.assign(t, { store: created.store, database: created.database, close: created.close, clock: testClock(), receivers: [], deliverers: [], logs: [] });
    await t.store.createUser({
      id: 'user-ann',
      email: 'ann@example.com',
      emailKey: 'ann@example.com',
      name: 'Ann',
      passwordHash: 'x',
      role: 'user',
      createdAt: t.clock.now(),
    });
  });
  afterEach(async () => {
    for (const deliverer of t.deliverers) await deliverer.close();
    for (const receiver of t.receivers) await receiver.close();
    await t.close();
  });

  return Object.assign(t, {
    async receiver(...args: Parameters<typeof WebhookReceiver.start>) {
      const receiver = await WebhookReceiver.start(...args);
      t.receivers.push(receiver);
      return receiver;
    },
    deliverer(url: string, options: Partial<WebhookDelivererOptions> = {}) {
      const log = (level: Logged['level']) => (details: object, message: string) => t.logs.push({ level, details, message });
      const deliverer = new WebhookDeliverer({
        url,
        secret: SECRET,
        notMeLinks: t.links,
        store: t.store,
        clock: t.clock,
        log: { debug: log('debug'), warn: log('warn'), error: log('error') },
        random: () => 0, // the shortest waits: 1 s, 2 s, 4 s…
        ...options,
      });
      t.deliverers.push(deliverer);
      return deliverer;
    },
    /** Records notifying events (a new-device sign-in each) happening now. */
    async events(count = 1): Promise<ActivityEvent[]> {
      const events = Array.from({ length: count }, (_, i) =>
        newEvent(
          'signed_in',
          t.clock.now(),
          { userId: 'user-ann', sessionId: `session-${i}`, actor: 'user-ann', client: FIREFOX, detail: { new_device: true } },
          true,
        ),
      );
      await t.store.recordEvents(events);
      return events;
    },
  });
}

describe('the webhook deliverer', () => {
  const t = harness('sqlite');

  it('delivers a notification once, signed, with the payload of its event', async () => {
    const [event] = await t.events();
    const receiver = await t.receiver();
    const deliverer = t.deliverer(receiver.url);

    expect(await deliverer.deliverDue()).toEqual({ delivered: 1, failed: 0 });
    expect(await deliverer.deliverDue()).toEqual({ delivered: 0, failed: 0 });
    expect(receiver.received).toHaveLength(1);
    const [webhook] = receiver.received;
    expect(webhook!.headers).toMatchObject({ 'webhook-id': event!.id, 'content-type': 'application/json', 'user-agent': 'Gatehouse-Webhooks/1' });
    expect(verifyWebhook(SECRET, webhook!.headers as Record<string, string>, webhook!.body, t.clock.now() / SECOND)).toBe(true);
    const { notify: _, ...stored } = event!;
    const delivery = {
      type: 'new_device_login' as const,
      event: stored,
      user: { id: 'user-ann', email: 'ann@example.com', name: 'Ann' },
      attempts: 0,
      claimedUntil: 0,
    };
    expect(JSON.parse(webhook!.body)).toEqual(webhookPayload(delivery, t.links));
    expect(await t.store.webhookBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('tries again after a 500, at the backoff time and not before, with the same id and a fresh signature', async () => {
    const [event] = await t.events();
    const receiver = await t.receiver((_, received) => (received.length === 1 ? 500 : 200));
    const deliverer = t.deliverer(receiver.url);

    expect(await deliverer.deliverDue()).toEqual({ delivered: 0, failed: 1 });
    t.clock.advance(0.999);
    expect(await deliverer.deliverDue()).toEqual({ delivered: 0, failed: 0 });
    t.clock.advance(0.001);
    expect(await deliverer.deliverDue()).toEqual({ delivered: 1, failed: 0 });

    expect(receiver.received.map((w) => w.id)).toEqual([event!.id, event!.id]);
    const [first, second] = receiver.received;
    expect(second!.headers['webhook-timestamp']).toBe(String(Number(first!.headers['webhook-timestamp']) + 1));
    expect(verifyWebhook(SECRET, second!.headers as Record<string, string>, second!.body, t.clock.now() / SECOND)).toBe(true);
    expect(t.logs).toContainEqual({
      level: 'warn',
      message: 'webhook delivery failed; will retry',
      details: expect.objectContaining({ webhook_id: event!.id, attempts: 1, error: 'HTTP 500' }),
    });
  });

  it.each([301, 400, 404, 410, 429, 503])('counts an answer of %i as a failure to retry (it never follows a redirect)', async (status) => {
    await t.events();
    const receiver = await t.receiver(() => status);
    expect(await t.deliverer(receiver.url).deliverDue()).toEqual({ delivered: 0, failed: 1 });
    t.clock.advance(2);
    expect(await t.deliverer(receiver.url).deliverDue()).toEqual({ delivered: 0, failed: 1 });
  });

  it('retries a receiver that refuses connections, and delivers once it listens', async () => {
    const [event] = await t.events();
    const port = await freePort();
    const deliverer = t.deliverer(`http://127.0.0.1:${port}/hooks`);

    expect(await deliverer.deliverDue()).toEqual({ delivered: 0, failed: 1 });
    expect(t.logs.at(-1)?.details).toMatchObject({ error: 'ECONNREFUSED' });
    const receiver = await t.receiver(() => 200, port);
    t.clock.advance(1);
    expect(await deliverer.deliverDue()).toEqual({ delivered: 1, failed: 0 });
    expect([...receiver.acknowledged()]).toEqual([[event!.id, 1]]);
  });

  it('counts a receiver that does not answer within the timeout as a failure, and retries it', async () => {
    await t.events();
    const never = gate<number>();
    const receiver = await t.receiver(() => never.promise);
    const deliverer = t.deliverer(receiver.url, { timeoutMs: 100 });

    expect(await deliverer.deliverDue()).toEqual({ delivered: 0, failed: 1 });
    expect(t.logs.at(-1)?.details).toMatchObject({ error: 'no answer within 100 ms' });
    receiver.answer = () => 200;
    t.clock.advance(1);
    expect(await deliverer.deliverDue()).toEqual({ delivered: 1, failed: 0 });
    never.open(200);
  });

  it('gives up on a failure three days after the event, logs it as an error, and never sends it again', async () => {
    const [event] = await t.events();
    const receiver = await t.receiver(() => 500);
    const deliverer = t.deliverer(receiver.url);
    await deliverer.deliverDue();
    t.clock.advance((3 * DAY) / SECOND);
    expect(await deliverer.deliverDue()).toEqual({ delivered: 0, failed: 1 });

    expect(t.logs.at(-1)).toEqual({
      level: 'error',
      message: 'webhook delivery given up: the receiver has failed it for 3 days',
      details: { webhook_id: event!.id, webhook_type: 'new_device_login', attempts: 2, error: 'HTTP 500' },
    });
    t.clock.advance(DAY / SECOND);
    expect(await deliverer.deliverDue()).toEqual({ delivered: 0, failed: 0 });
    expect(receiver.received).toHaveLength(2);
    expect(await t.store.webhookBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('has at most maxInFlight attempts in flight, and still delivers them all in one pass', async () => {
    await t.events(12);
    let inFlight = 0;
    let most = 0;
    const receiver = await t.receiver(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return 200;
    });
    expect(await t.deliverer(receiver.url, { maxInFlight: 5 }).deliverDue()).toEqual({ delivered: 12, failed: 0 });
    expect(most).toBeLessThanOrEqual(5);
    expect(receiver.acknowledged().size).toBe(12);
  });

  it('sends due notifications by itself once started, and at once when kicked', async () => {
    const receiver = await t.receiver();
    const deliverer = t.deliverer(receiver.url, { intervalMs: 3_600_000 });
    deliverer.start();
    const [first] = await t.events();
    deliverer.kick();
    await vi.waitFor(() => expect(receiver.acknowledged().get(first!.id)).toBe(1));
    const [second] = await t.events();
    deliverer.kick();
    await vi.waitFor(() => expect(receiver.acknowledged().get(second!.id)).toBe(1));

    const ticking = t.deliverer(receiver.url, { intervalMs: 10 });
    ticking.start();
    const [third] = await t.events();
    await vi.waitFor(() => expect(receiver.acknowledged().get(third!.id)).toBe(1));
  });

  it('never throws into the process when the store fails: it logs and tries again at the next tick', async () => {
    let calls = 0;
    const failing = new Proxy(t.store as Store, {
      get: (target, name, receiver) =>
        name === 'claimWebhookDeliveries' ? () => (calls++, Promise.reject(new Error('database is down'))) : Reflect.get(target, name, receiver),
    });
    const deliverer = t.deliverer('http://127.0.0.1:9/unused', { store: failing, intervalMs: 10 });
    deliverer.start();
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(2));
    await deliverer.close();
    expect(t.logs.filter((l) => l.level === 'error').map((l) => l.message)).toContain('webhook outbox could not be read; trying again');
  });

  it('on close, lets an attempt in flight finish and records it, and claims nothing more', async () => {
    const [event] = await t.events();
    const answer = gate<number>();
    const received = gate();
    const receiver = await t.receiver(() => (received.open(), answer.promise));
    const deliverer = t.deliverer(receiver.url);
    deliverer.start();
    await received.promise;
    await t.events(); // due, but the deliverer is stopping
    const closed = deliverer.close();
    answer.open(200);
    await closed;

    expect([...receiver.acknowledged()]).toEqual([[event!.id, 1]]);
    expect(await t.store.webhookBacklog()).toMatchObject({ pending: 1 });
  });

  it('on close, cuts off an attempt that outlasts the grace and hands it back at once to the next node', async () => {
    const [event] = await t.events();
    const hang = gate<number>();
    const received = gate();
    const receiver = await t.receiver(() => (received.open(), hang.promise));
    const stopping = t.deliverer(receiver.url, { closeGraceMs: 50 });
    stopping.start();
    await received.promise;
    await stopping.close();

    receiver.answer = () => 200;
    expect(await t.deliverer(receiver.url).deliverDue()).toEqual({ delivered: 1, failed: 0 });
    expect(t.logs).toContainEqual(expect.objectContaining({ details: expect.objectContaining({ webhook_id: event!.id, error: 'interrupted by shutdown' }) }));
    hang.open(200);
  });

  it('never logs the secret, the receiver URL or a not-me link', async () => {
    await t.events(2);
    const receiver = await t.receiver(() => 500);
    const deliverer = t.deliverer(receiver.url);
    await deliverer.deliverDue();
    t.clock.advance((3 * DAY) / SECOND);
    await deliverer.deliverDue();
    const logged = JSON.stringify(t.logs);
    expect(t.logs.length).toBeGreaterThanOrEqual(4);
    for (const secret of [SECRET, 'receiver-token', '/hooks/gatehouse', 'not-me', 'auth.example.com']) expect(logged).not.toContain(secret);
  });
});

describe.each(DATABASES)('two webhook deliverers on one %s database', (kind) => {
  const t = harness(kind);

  it('never send one delivery at the same time, and between them send each exactly once', async () => {
    const events = await t.events(40);
    const receiver = await t.receiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 200;
    });
    const other = await openStore(t.database.location);
    try {
      const a = t.deliverer(receiver.url, { maxInFlight: 4 });
      const b = t.deliverer(receiver.url, { maxInFlight: 4, store: other });
      const passes = await Promise.all([a.deliverDue(), b.deliverDue(), a.deliverDue(), b.deliverDue()]);
      expect(passes.reduce((sum, p) => sum + p.delivered, 0)).toBe(40);
      expect(receiver.maxConcurrentPerId).toBe(1);
      expect(receiver.received).toHaveLength(40);
      expect([...receiver.acknowledged().keys()].sort()).toEqual(events.map((e) => e.id).sort());
    } finally {
      await other.close();
    }
  });
});
