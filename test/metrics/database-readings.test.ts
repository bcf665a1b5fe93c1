import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseReadings } from '../../src/metrics/database-readings.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { testClock, type TestClock } from '../helpers/clock.js';
import { createTestStore } from '../helpers/databases.js';

const OPTIONS = { maxAgeMs: 15_000, timeoutMs: 50 };

describe('the database readings behind the metrics', () => {
  let store: KyselyStore;
  let close: () => Promise<void>;
  let clock: TestClock;
  let questions: number;
  let errors: unknown[];
  beforeEach(async () => {
    ({ store, close } = await createTestStore('sqlite'));
    clock = testClock();
    questions = 0;
    errors = [];
  });
  afterEach(() => close());

  /** The real store, counting how often it is asked. */
  const counted = () => ({
    countOpenSessions: () => {
      questions++;
      return store.countOpenSessions();
    },
    webhookBacklog: () => store.webhookBacklog(),
    mailBacklog: () => store.mailBacklog(),
  });

  it('asks the database once per interval, however many scrapes come, even all at once', async () => {
    const readings = new DatabaseReadings(counted(), clock, OPTIONS, (e) => errors.push(e));
    const first = await Promise.all(Array.from({ length: 20 }, () => readings.current()));
    expect(first.every((r) => r?.activeSessions === 0 && r.webhookPending === 0 && r.webhookOldestCreatedAt === null)).toBe(true);
    for (let i = 0; i < 20; i++) await readings.current();
    clock.advance(14.999);
    await readings.current();
    expect(questions).toBe(1);
    clock.advance(0.001);
    await readings.current();
    expect(questions).toBe(2);
    expect(errors).toEqual([]);
  });

  it('answers a scrape with what it has when the database is slow, and has the answer for a later scrape', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = {
      countOpenSessions: async () => {
        await gate;
        return store.countOpenSessions();
      },
      webhookBacklog: () => store.webhookBacklog(),
      mailBacklog: () => store.mailBacklog(),
    };
    const readings = new DatabaseReadings(slow, clock, OPTIONS, (e) => errors.push(e));
    expect(await readings.current()).toBeUndefined(); // after the 50 ms timeout: nothing known yet
    release(); // the question still running is waited for, not asked again
    expect(await readings.current()).toEqual({ activeSessions: 0, webhookPending: 0, webhookOldestCreatedAt: null, mailPending: 0, mailOldestCreatedAt: null });
  });

  it('keeps its last readings when the database fails, reports the failure, and does not ask again before the interval', async () => {
    const readings = new DatabaseReadings(counted(), clock, OPTIONS, (e) => errors.push(e));
    const before = await readings.current();
    await store.close();
    clock.advance(15);
    expect(await readings.current()).toEqual(before);
    expect(errors).toHaveLength(1);
    await readings.current();
    expect(questions).toBe(2);
  });
});
