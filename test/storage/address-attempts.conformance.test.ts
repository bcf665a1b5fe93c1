import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

/**
 * The Store contract of the per-address counters (countAddressAttempt), on every database:
 * fixed windows, no count lost or shared among parallel attempts, and a purge of ended windows.
 */

const T0 = Date.parse('2026-12-04T09:00:00Z');
const WINDOW = 15 * 60_000;

describe.each(DATABASES)('per-address attempt counters on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store, close } = await createTestStore(kind));
  });
  afterEach(() => close());

  it('counts attempts from one address in the window its first attempt opened', async () => {
    expect(await store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0)).toEqual({ windowStart: T0, count: 1 });
    expect(await store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0 + 1000)).toEqual({ windowStart: T0, count: 2 });
    expect(await store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0 + WINDOW - 1)).toEqual({ windowStart: T0, count: 3 });
  });

  it('opens a new window at the first attempt after the last one ended', async () => {
    await store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0);
    await store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0 + 1000);
    expect(await store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0 + WINDOW)).toEqual({ windowStart: T0 + WINDOW, count: 1 });
  });

  it('counts each address on its own', async () => {
    await store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0);
    expect(await store.countAddressAttempt('register', '2001:db8:1:2::/64', WINDOW, T0)).toEqual({ windowStart: T0, count: 1 });
  });

  it('gives each of many parallel attempts a count of its own', async () => {
    const counted = await Promise.all(Array.from({ length: 40 }, () => store.countAddressAttempt('register', '203.0.113.7', WINDOW, T0)));
    expect(counted.map((c) => c.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('purges the counters whose window has ended, and keeps the others', async () => {
    await store.countAddressAttempt('register', '203.0.113.1', WINDOW, T0);
    await store.countAddressAttempt('register', '203.0.113.2', WINDOW, T0 + WINDOW);
    expect(await store.purgeAddressAttempts(T0 + 1, 500)).toBe(1);
    expect(await store.countAddressAttempt('register', '203.0.113.2', WINDOW, T0 + WINDOW + 1)).toEqual({ windowStart: T0 + WINDOW, count: 2 });
    expect(await store.countAddressAttempt('register', '203.0.113.1', WINDOW, T0 + WINDOW + 1)).toEqual({ windowStart: T0 + WINDOW + 1, count: 1 });
  });
});
