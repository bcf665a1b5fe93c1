import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, type ActivityEvent } from '../../src/core/activity.js';
import type { ClientInfo, UserRecord } from '../../src/core/records.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { createTestStore, DATABASES, type TestDatabase } from '../helpers/databases.js';

/**
 * The Store contract of the webhook outbox (src/storage/store.ts), on every database: a
 * notifying event has exactly one delivery, a claim holds it for its lease and no longer,
 * settled deliveries are never handed out again, and parallel claimers never share one.
 */

const T0 = Date.parse('2026-11-27T09:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
const LEASE = MINUTE;

const FIREFOX: ClientInfo = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
  country: 'NL',
};

describe.each(DATABASES)('the webhook outbox on %s', (kind) => {
  let store: KyselyStore;
  let database: TestDatabase;
  let close: () => Promise<void>;
  let ann: UserRecord;

  beforeEach(async () => {
    ({ store, database, close } = await createTestStore(kind));
    ann = await store.createUser({
      id: 'user-ann',
      email: 'ann@example.com',
      emailKey: 'ann@example.com',
      name: 'Ann',
      passwordHash: '$argon2id$placeholder',
      role: 'user',
      createdAt: T0 - DAY,
    });
  });
  afterEach(() => close());

  /** A new-device sign-in of Ann's at `at`, with its outbox row. */
  function signedIn(at: number): ActivityEvent {
    return newEvent('signed_in', at, { userId: ann.id, sessionId: `session-${at}`, actor: ann.id, client: FIREFOX, detail: { new_device: true } }, true);
  }

  async function recorded(...events: ActivityEvent[]): Promise<string[]> {
    await store.recordEvents(events);
    return events.map((e) => e.id);
  }

  it('hands out a notifying event with what its payload needs, and nothing for other events', async () => {
    const event = signedIn(T0);
    const quiet = newEvent('signed_in', T0, { userId: ann.id, client: FIREFOX, detail: { new_device: false } }, true);
    const unwired = newEvent('password_changed', T0, { userId: ann.id, client: FIREFOX, detail: { session_ids: [] } }, false);
    await store.recordEvents([event, quiet, unwired]);

    const { notify: _, ...storedEvent } = event;
    expect(await store.claimWebhookDeliveries(T0, 10, LEASE)).toEqual([
      { type: 'new_device_login', event: storedEvent, user: { id: ann.id, email: 'ann@example.com', name: 'Ann' }, attempts: 0, claimedUntil: T0 + LEASE },
    ]);
    expect(await store.webhookBacklog()).toEqual({ pending: 1, oldestCreatedAt: T0 });
  });

  it('hands out the oldest due deliveries first, up to the limit, and none that are not due yet', async () => {
    const ids = await recorded(signedIn(T0 + 3 * SECOND), signedIn(T0 + SECOND), signedIn(T0 + 2 * SECOND), signedIn(T0 + MINUTE));
    const claimed = await store.claimWebhookDeliveries(T0 + 2 * SECOND, 2, LEASE);
    expect(claimed.map((d) => d.event.id)).toEqual([ids[1], ids[2]]);
    expect((await store.claimWebhookDeliveries(T0 + 2 * SECOND, 10, LEASE)).length).toBe(0);
    expect((await store.claimWebhookDeliveries(T0 + 3 * SECOND, 10, LEASE)).map((d) => d.event.id)).toEqual([ids[0]]);
  });

  it('holds a claimed delivery for its lease, and lets it go when the lease ends (the node died)', async () => {
    const [id] = await recorded(signedIn(T0));
    expect(await store.claimWebhookDeliveries(T0, 10, LEASE)).toHaveLength(1);
    expect(await store.claimWebhookDeliveries(T0 + LEASE - 1, 10, LEASE)).toEqual([]);
    const reclaimed = await store.claimWebhookDeliveries(T0 + LEASE, 10, LEASE);
    expect(reclaimed.map((d) => [d.event.id, d.attempts])).toEqual([[id, 0]]);
  });

  it('ignores the failure of a node whose lease ended while another node holds the delivery', async () => {
    await recorded(signedIn(T0));
    const [stalled] = await store.claimWebhookDeliveries(T0, 10, LEASE);
    const [current] = await store.claimWebhookDeliveries(T0 + LEASE, 10, LEASE);
    await store.markWebhookFailed(stalled!.event.id, {
      at: T0 + LEASE + 1,
      error: 'timeout',
      nextAttemptAt: T0 + LEASE + 1,
      claimedUntil: stalled!.claimedUntil,
    });
    // Still held by the current claim: no third node gets it meanwhile.
    expect(await store.claimWebhookDeliveries(T0 + LEASE + 2, 10, LEASE)).toEqual([]);
    await store.markWebhookFailed(current!.event.id, {
      at: T0 + LEASE + 3,
      error: 'HTTP 503',
      nextAttemptAt: T0 + LEASE + 3,
      claimedUntil: current!.claimedUntil,
    });
    expect(await store.claimWebhookDeliveries(T0 + LEASE + 3, 10, LEASE)).toMatchObject([{ attempts: 1 }]);
  });

  it('never hands out a delivered one again, and counts it out of the backlog', async () => {
    const [id] = await recorded(signedIn(T0));
    await store.claimWebhookDeliveries(T0, 10, LEASE);
    await store.markWebhookDelivered(id!, T0 + SECOND);
    expect(await store.claimWebhookDeliveries(T0 + DAY, 10, LEASE)).toEqual([]);
    expect(await store.webhookBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('hands out a failed one again at its next attempt, not before, with the attempt counted', async () => {
    const [id] = await recorded(signedIn(T0));
    await store.claimWebhookDeliveries(T0, 10, LEASE);
    await store.markWebhookFailed(id!, { at: T0 + SECOND, error: 'HTTP 503', nextAttemptAt: T0 + 5 * SECOND });
    // Its claim is released with the failure: only the next attempt's time holds it back.
    expect(await store.claimWebhookDeliveries(T0 + 5 * SECOND - 1, 10, LEASE)).toEqual([]);
    const [again] = await store.claimWebhookDeliveries(T0 + 5 * SECOND, 10, LEASE);
    expect(again).toMatchObject({ attempts: 1, event: { id } });
    await store.markWebhookFailed(id!, { at: T0 + 6 * SECOND, error: 'ECONNREFUSED', nextAttemptAt: T0 + 6 * SECOND });
    expect(await store.claimWebhookDeliveries(T0 + 6 * SECOND, 10, LEASE)).toMatchObject([{ attempts: 2 }]);
    expect(await store.webhookBacklog()).toEqual({ pending: 1, oldestCreatedAt: T0 });
  });

  it('never hands out one it gave up on, and counts it out of the backlog', async () => {
    const [id] = await recorded(signedIn(T0));
    await store.claimWebhookDeliveries(T0, 10, LEASE);
    await store.markWebhookFailed(id!, { at: T0 + 3 * DAY, error: 'HTTP 500', nextAttemptAt: null });
    expect(await store.claimWebhookDeliveries(T0 + 4 * DAY, 10, LEASE)).toEqual([]);
    expect(await store.webhookBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('reads the account as it is at delivery, so a changed email gets the alert', async () => {
    await recorded(signedIn(T0));
    await store.db.updateTable('users').set({ email: 'ann@example.org', email_key: 'ann@example.org', name: 'Ann B.' }).where('id', '=', ann.id).execute();
    const [delivery] = await store.claimWebhookDeliveries(T0, 10, LEASE);
    expect(delivery?.user).toEqual({ id: ann.id, email: 'ann@example.org', name: 'Ann B.' });
  });

  it('purges settled deliveries older than the cut-off, a batch at a time, never pending ones', async () => {
    const ids = await recorded(signedIn(T0), signedIn(T0 + 1), signedIn(T0 + 2), signedIn(T0 + 3), signedIn(T0 + 4));
    await store.markWebhookDelivered(ids[0]!, T0 + SECOND);
    await store.markWebhookDelivered(ids[1]!, T0 + SECOND);
    await store.markWebhookFailed(ids[2]!, { at: T0 + SECOND, error: 'HTTP 410', nextAttemptAt: null });
    await store.markWebhookDelivered(ids[3]!, T0 + DAY); // settled, but after the cut-off
    // ids[4] stays pending however old it gets.
    expect(await store.purgeWebhookDeliveries(T0 + MINUTE, 2)).toBe(2);
    expect(await store.purgeWebhookDeliveries(T0 + MINUTE, 2)).toBe(1);
    expect(await store.purgeWebhookDeliveries(T0 + MINUTE, 2)).toBe(0);
    expect(await store.webhookBacklog()).toEqual({ pending: 1, oldestCreatedAt: T0 + 4 });
    expect((await store.claimWebhookDeliveries(T0 + 2 * DAY, 10, LEASE)).map((d) => d.event.id)).toEqual([ids[4]]);
  });

  it('purges a delivery given up on and then delivered late once, so a batch is full while settled ones are left', async () => {
    const [both, gaveUp, lateSuccess] = await recorded(signedIn(T0), signedIn(T0 + 1), signedIn(T0 + 2));
    for (const id of [both!, gaveUp!, lateSuccess!]) await store.markWebhookFailed(id, { at: T0 + SECOND, error: 'HTTP 410', nextAttemptAt: null });
    await store.markWebhookDelivered(both!, T0 + 2 * SECOND); // a slow attempt that succeeded after all
    await store.markWebhookDelivered(lateSuccess!, T0 + DAY); // given up before the cut-off, delivered after it
    expect(await store.purgeWebhookDeliveries(T0 + MINUTE, 2)).toBe(2);
    expect(await store.purgeWebhookDeliveries(T0 + MINUTE, 2)).toBe(1);
    expect(await store.purgeWebhookDeliveries(T0 + MINUTE, 2)).toBe(0);
  });

  it('lets a delivery go with its event when the history is purged', async () => {
    await recorded(signedIn(T0));
    expect(await store.purgeEvents(T0 + 1, 100)).toBe(1);
    expect(await store.webhookBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
    expect(await store.claimWebhookDeliveries(T0 + DAY, 10, LEASE)).toEqual([]);
  });

  it('drops a delivery whose event is gone without it, as a purge of an older version leaves one', async () => {
    const [gone, kept] = await recorded(signedIn(T0), signedIn(T0 + 1));
    if (kind === 'sqlite') await store.db.executeQuery(sql`pragma foreign_keys = off`.compile(store.db));
    try {
      await store.db.deleteFrom('events').where('id', '=', gone!).execute(); // no cascade: the row stays behind
    } finally {
      if (kind === 'sqlite') await store.db.executeQuery(sql`pragma foreign_keys = on`.compile(store.db));
    }
    expect((await store.claimWebhookDeliveries(T0 + MINUTE, 10, LEASE)).map((d) => d.event.id)).toEqual([kept]);
    expect(await store.webhookBacklog()).toEqual({ pending: 1, oldestCreatedAt: T0 + 1 });
    expect(await store.claimWebhookDeliveries(T0 + DAY, 10, LEASE)).toHaveLength(1); // the kept one, its lease over
  });

  it('of parallel claims from three nodes, hands out each of 60 deliveries exactly once', async () => {
    const ids = await recorded(...Array.from({ length: 60 }, (_, i) => signedIn(T0 + i)));
    const nodes = [store, await openStore(database.location), await openStore(database.location)];
    try {
      const claimed: string[] = [];
      await Promise.all(
        nodes.flatMap((node) =>
          [0, 1].map(async () => {
            for (;;) {
              const batch = await node.claimWebhookDeliveries(T0 + MINUTE, 7, LEASE);
              if (batch.length === 0) return;
              claimed.push(...batch.map((d) => d.event.id));
            }
          }),
        ),
      );
      expect(claimed.length).toBe(60);
      expect([...claimed].sort()).toEqual([...ids].sort());
    } finally {
      for (const node of nodes.slice(1)) await node.close();
    }
  });
});
