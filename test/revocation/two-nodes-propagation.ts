import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { createTestDatabase, type DatabaseKind } from '../helpers/databases.js';
import { ms, quantile, register, revokeOnBWatchA, send, signInMany, startTwoNodes, STALENESS_BOUND_MS, type Propagation } from './process-nodes.js';

const SQLITE_SPREAD_MS = 2000;

/**
 * Issue 4: a sign-out made on one node is refused by every other node within the staleness
 * bound. Two real processes on one database; each of `count` sign-outs is made on node B while
 * node A is asked, again and again, with the signed-out access token. `npm test` runs a few
 * (test/revocation/two-nodes.process.test.ts), the slow suite 200 (test/hostile/propagation/).
 *
 * PostgreSQL: a NOTIFY wakes A's catch-up at once, so the sign-outs go one at a time, A asked
 * about once a millisecond. SQLite: A learns at its next one-second poll, so the sign-outs are
 * spread at random over two seconds and several in flight at once (one after another, each
 * would start just after A's poll and always wait a whole second).
 */
export async function signOutsOnBRefusedOnA(kind: DatabaseKind, count: number): Promise<void> {
  const database = await createTestDatabase(kind);
  const url = database.location.kind === 'postgres' ? database.location.url : `sqlite:${database.location.path}`;
  const nodes = await startTwoNodes(url);
  try {
    const { a, b } = nodes;
    const email = `many-devices-${kind}@example.com`;
    await register(a, email);
    // The phone, signed in on B, signs out each of the others there.
    const [phone] = await signInMany([b], email, 1);
    const sessions = await signInMany([a, b], email, count);
    for (const session of sessions) expect((await send(a.url, 'GET', '/v1/me', { token: session.access })).status).toBe(200);

    let results: Propagation[] = [];
    if (kind === 'postgres') {
      for (const session of sessions) results.push(await revokeOnBWatchA(a, b, session, phone!.access));
    } else {
      results = await Promise.all(
        sessions.map(async (session) => {
          await sleep(Math.random() * SQLITE_SPREAD_MS);
          return revokeOnBWatchA(a, b, session, phone!.access, { pollEveryMs: 5 });
        }),
      );
    }

    const delays = results.map((r) => r.delayMs);
    console.log(
      `revocation propagation B → A on ${kind}, ${count} sign-outs: p50 ${ms(quantile(delays, 0.5))}, p99 ${ms(quantile(delays, 0.99))}, max ${ms(Math.max(...delays))}`,
    );
    expect(results.flatMap((r) => r.unexpected)).toEqual([]);
    expect(delays.filter((delay) => !Number.isFinite(delay))).toEqual([]); // every one refused
    expect(delays.filter((delay) => delay > STALENESS_BOUND_MS)).toEqual([]);
    // B, which made the sign-outs, refuses them as well, and the phone is still signed in on both.
    for (const session of sessions) expect((await send(b.url, 'GET', '/v1/me', { token: session.access })).code).toBe('session_revoked');
    for (const node of [a, b]) expect((await send(node.url, 'GET', '/v1/me', { token: phone!.access })).status).toBe(200);
  } finally {
    await nodes.stop();
    await database.drop();
  }
}
