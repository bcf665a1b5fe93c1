import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../helpers/embedded-postgres.js';
import type { RunningServer } from '../helpers/server-process.js';
import {
  ms,
  register,
  revokeOnBWatchA,
  send,
  signInMany,
  startTwoNodes,
  STALENESS_BOUND_MS,
  type Answer,
  type Session,
  type TwoNodes,
} from './process-nodes.js';

/**
 * Issue 4, fault tests: two Gatehouse processes on a PostgreSQL of their own (the suite's
 * shared one cannot be restarted under the other tests), with requests flowing to both nodes
 * all the while, from signed-in and signed-out sessions alike. The database drops every
 * connection (`npm test`: test/revocation/postgres-faults.process.test.ts), or goes away for
 * longer than the staleness bound and comes back (the slow suite:
 * test/hostile/outage/postgres-down-past-bound.process.test.ts). Whatever happens, a signed-out
 * session is never accepted, no request fails with anything but 503 unavailable or hangs, and
 * the nodes recover with no restart of their own.
 */
export type Fault = 'connections dropped' | 'down past the bound';

/** Pause between two requests of one traffic loop (six loops: two nodes × three kinds of token). */
const PACE_MS = 10;
/** How long the test waits for any state it expects (traffic flowing, a node recovered) before it gives up. */
const DEADLINE_MS = 15_000;

type Kind = 'live' | 'revoked' | 'late';
type NodeName = 'A' | 'B';
interface Sample extends Answer {
  node: NodeName;
  kind: Kind;
}

export function postgresFaultTests(faults: readonly Fault[]): void {
  describe('two server processes on PostgreSQL, when the database fails', () => {
    let postgres: OwnPostgres;
    let nodes: TwoNodes;
    let phone: Session;
    const tokens: Record<Kind, string[]> = { live: [], revoked: [], late: [] };
    let late: Session;
    /** Sessions kept for sign-outs made during the tests. */
    let spare: Session[];

    beforeAll(async () => {
      postgres = await startOwnPostgres();
      await postgres.query('postgres', 'CREATE DATABASE gatehouse');
      nodes = await startTwoNodes(postgres.url('gatehouse'));
      const { a, b } = nodes;
      await register(a, 'faults@example.com');
      [phone] = (await signInMany([b], 'faults@example.com', 1)) as [Session];
      const sessions = await signInMany([a, b], 'faults@example.com', 11);
      const live = sessions.splice(0, 3);
      const revoked = sessions.splice(0, 3);
      [late] = sessions.splice(0, 1) as [Session];
      spare = sessions;
      for (const session of revoked) expect((await revokeOnBWatchA(a, b, session, phone.access)).delayMs).toBeLessThanOrEqual(STALENESS_BOUND_MS);
      tokens.live = live.map((s) => s.access);
      tokens.revoked = revoked.map((s) => s.access);
      tokens.late = [late.access];
    }, 120_000);

    // A node that died says why on its stderr: show that rather than the requests it left unanswered.
    afterEach(() => expectNoCrash(nodes));

    afterAll(async () => {
      await nodes?.stop();
      await postgres?.remove();
    }, 60_000);

    // Registered only where asked for, so neither suite counts the other's test as skipped.
    if (faults.includes('connections dropped'))
      it('keep answering, and keep refusing signed-out sessions, when PostgreSQL drops every connection', async () => {
        const { a, b } = nodes;
        const traffic = new Traffic({ A: a, B: b }, { live: tokens.live, revoked: tokens.revoked });
        let killedAt = 0;
        try {
          await traffic.flowing();
          killedAt = performance.now();
          const killed = await postgres.query(
            'postgres',
            `select query, pg_terminate_backend(pid) from pg_stat_activity where datname = 'gatehouse' and backend_type = 'client backend'`,
          );
          expect(killed.rows.filter((row: { query: string }) => /^LISTEN/i.test(row.query)).length).toBe(2); // both nodes' listeners

          // A sign-out right after still reaches the other node within the bound…
          const propagation = await revokeOnBWatchA(a, b, spare.pop()!, phone.access);
          expect(propagation.unexpected.filter((answer) => answer.code !== 'unavailable')).toEqual([]);
          expect(propagation.delayMs).toBeLessThanOrEqual(STALENESS_BOUND_MS);
          // …and signed-in sessions are served again on both nodes.
          for (const node of ['A', 'B'] as const)
            await traffic.until((s) => s.node === node && s.kind === 'live' && s.sentAt > killedAt && s.status === 200, `${node} serves a live session again`);
          console.log(`connections killed: sign-out B → A ${ms(propagation.delayMs)}; ${traffic.summary(killedAt)}`);
        } finally {
          await traffic.stop();
        }
        expect(traffic.violations()).toEqual([]);
        // A query cut off by the kill may answer 503; once the pools have reconnected, none do.
        expect(traffic.samples.filter((s) => s.sentAt > killedAt + 1000 && s.status !== 200 && s.kind === 'live')).toEqual([]);
        expect(traffic.last()).toEqual({ 'A live': '200', 'A revoked': '401 session_revoked', 'B live': '200', 'B revoked': '401 session_revoked' });
      }, 60_000);

    if (faults.includes('down past the bound'))
      it('never accept a signed-out session while PostgreSQL is down for longer than the bound, answer 503 rather than fail or hang, and recover by themselves once it is back', async () => {
        const { a, b } = nodes;
        const traffic = new Traffic({ A: a, B: b }, tokens);
        const t = { lateSignOut: 0, stopping: 0, stopped: 0, restarting: 0, ready: 0 };
        const report: string[] = [];
        try {
          await traffic.flowing();
          // A sign-out the moment before the database goes: node A may not hear of it in time.
          const signOut = await send(b.url, 'DELETE', `/v1/me/sessions/${late.id}`, { token: phone.access });
          expect(signOut.status).toBe(204);
          t.lateSignOut = signOut.sentAt + signOut.ms;
          t.stopping = performance.now();
          await postgres.stop();
          t.stopped = performance.now();

          // Down until both nodes have answered requests sent well past the bound.
          const pastBound = t.stopped + STALENESS_BOUND_MS + 1000;
          for (const node of ['A', 'B'] as const)
            await traffic.until((s) => s.node === node && s.kind === 'live' && s.sentAt > pastBound, `${node} answers past the bound`);
          for (const node of [a, b]) expect(await send(node.url, 'GET', '/readyz')).toMatchObject({ status: 503, code: 'unavailable' });

          t.restarting = performance.now();
          await postgres.start();
          t.ready = performance.now();
          report.push(`PostgreSQL down ${ms(t.restarting - t.stopping)}`);

          // A sign-out made at once on B reaches A within the bound…
          const first = await revokeOnBWatchA(a, b, spare.pop()!, phone.access);
          expect(first.delayMs).toBeLessThanOrEqual(STALENESS_BOUND_MS);
          report.push(`sign-out B → A right after the restart ${ms(first.delayMs)} (B answered 503 ${first.retriedOnB} times first)`);
          // …signed-in sessions are served again, and both nodes say they are ready…
          for (const node of ['A', 'B'] as const) {
            const at = await traffic.until(
              (s) => s.node === node && s.kind === 'live' && s.sentAt > t.ready && s.status === 200,
              `${node} serves a live session again`,
            );
            report.push(`${node} serves again ${ms(at - t.ready)} after the restart`);
          }
          for (const [name, node] of [
            ['A', a],
            ['B', b],
          ] as const) {
            const at = await eventually(async () => (await send(node.url, 'GET', '/readyz')).status === 200, `${name} is ready`);
            report.push(`${name} ready ${ms(at - t.ready)}`);
          }
          // …both listen again, so a sign-out travels by notice once more.
          const listening = await eventually(async () => (await postgres.listeners('gatehouse')) === 2, 'both nodes listen again');
          report.push(`both listening ${ms(listening - t.ready)}`);
          const second = await revokeOnBWatchA(a, b, spare.pop()!, phone.access);
          expect(second.delayMs).toBeLessThanOrEqual(STALENESS_BOUND_MS);
          report.push(`sign-out B → A once listening ${ms(second.delayMs)}`);
        } finally {
          await traffic.stop();
        }

        // Whatever the moment, a signed-out session was never accepted, and nothing failed but 503.
        expect(traffic.violations({ late: t.lateSignOut })).toEqual([]);
        // With the database gone and the view past the bound, a live session gets 503, not 200.
        const blind = traffic.samples.filter((s) => s.kind === 'live' && s.sentAt + s.ms < t.restarting && s.sentAt > t.stopped + STALENESS_BOUND_MS);
        expect(blind.length).toBeGreaterThan(0);
        expect(blind.filter((s) => s.status !== 503)).toEqual([]);
        // And once it is back, every session is answered as before, the late sign-out included.
        const signedOut = '401 session_revoked';
        expect(traffic.last()).toEqual({
          'A live': '200',
          'A revoked': signedOut,
          'A late': signedOut,
          'B live': '200',
          'B revoked': signedOut,
          'B late': signedOut,
        });
        console.log(`PostgreSQL restarted: ${report.join('; ')}; ${traffic.summary(t.stopping, t.ready)}`);
      }, 90_000);
  });
}

/** Neither node exited (else its stderr is the failure) or logged an unexpected error (a 500's "unhandled error"). */
function expectNoCrash(nodes: TwoNodes | undefined): void {
  for (const [name, node] of [
    ['A', nodes?.a],
    ['B', nodes?.b],
  ] as const) {
    if (!node) continue;
    const stderr = node.logs.filter((line) => !line.startsWith('{')).join('\n');
    expect({ exitCode: node.child.exitCode, signal: node.child.signalCode }, `node ${name} exited: ${stderr}`).toEqual({ exitCode: null, signal: null });
    expect(node.logs.filter((line) => line.includes('unhandled error'))).toEqual([]);
  }
}

/**
 * Requests flowing all the while: one loop per node and kind of token (signed in, signed out
 * before the test, signed out during it), each GET /v1/me about every PACE_MS, every answer
 * recorded with when it was sent.
 */
class Traffic {
  readonly samples: Sample[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly names: string[] = [];

  constructor(nodes: Record<NodeName, RunningServer>, tokens: Partial<Record<Kind, string[]>>) {
    for (const node of ['A', 'B'] as const) {
      for (const [kind, list] of Object.entries(tokens) as [Kind, string[]][]) {
        this.names.push(`${node} ${kind}`);
        this.loops.push(this.loop(node, nodes[node].url, kind, list));
      }
    }
  }

  private async loop(node: NodeName, url: string, kind: Kind, tokens: string[]): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const answer = await send(url, 'GET', '/v1/me', { token: tokens[i % tokens.length]! });
      this.samples.push({ ...answer, node, kind });
      await sleep(PACE_MS);
    }
  }

  /** Resolves once every loop has been answered a few times. */
  async flowing(): Promise<void> {
    const answered = (loop: string) => this.samples.filter((s) => `${s.node} ${s.kind}` === loop).length;
    await eventually(() => this.names.every((loop) => answered(loop) >= 3), 'traffic flows');
  }

  /** Resolves, with the moment it saw it, once some answer satisfies `seen`. */
  until(seen: (sample: Sample) => boolean, what: string): Promise<number> {
    return eventually(() => this.samples.some(seen), what);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /**
   * Every answer that breaks a promise: no answer at all (a hang or a dropped connection), a
   * status other than 200, 401 session_revoked and 503 unavailable, a signed-out session
   * accepted (for the one signed out during the test: by B once B answered the sign-out, by A
   * once the staleness bound had passed since), a signed-in session refused as signed out.
   */
  violations(signedOut: { late?: number } = {}): string[] {
    const bad: string[] = [];
    const lateAt = signedOut.late ?? Infinity;
    for (const s of this.samples) {
      const what = `${s.node} ${s.kind} sent at ${s.sentAt.toFixed(0)}: ${s.status} ${s.code ?? s.error ?? ''} after ${s.ms.toFixed(0)} ms`;
      const allowed =
        (s.status === 200 && s.kind !== 'revoked') ||
        (s.status === 401 && s.code === 'session_revoked' && s.kind !== 'live') ||
        (s.status === 503 && s.code === 'unavailable');
      if (!allowed) bad.push(what);
      else if (s.kind === 'late' && s.status === 200 && s.sentAt > lateAt + (s.node === 'B' ? 0 : STALENESS_BOUND_MS))
        bad.push(`${what} (signed out at ${lateAt.toFixed(0)})`);
    }
    return bad.length > 20 ? [...bad.slice(0, 20), `… and ${bad.length - 20} more`] : bad;
  }

  /** Each loop's last answer, as `status code`. */
  last(): Record<string, string> {
    const last: Record<string, string> = {};
    for (const s of this.samples) last[`${s.node} ${s.kind}`] = `${s.status} ${s.code ?? ''}`.trim();
    return last;
  }

  /** One line: how many requests, the slowest, and the answers before, during and after [from, to]. */
  summary(from: number, to = from): string {
    const phase = (s: Sample) => (s.sentAt < from ? 'before' : s.sentAt <= to ? 'during' : 'after');
    const counts = new Map<string, number>();
    for (const s of this.samples) {
      const key = `${phase(s)} ${s.node} ${s.kind} ${s.status}${s.code ? ` ${s.code}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const slowest = Math.max(...this.samples.map((s) => s.ms));
    const lines = [...counts].sort(([x], [y]) => x.localeCompare(y)).map(([key, n]) => `${key}: ${n}`);
    return `${this.samples.length} requests, slowest ${ms(slowest)}; ${lines.join(', ')}`;
  }
}

/** Polls `done` every 20 ms; resolves with the moment it held; fails after DEADLINE_MS. */
async function eventually(done: () => boolean | Promise<boolean>, what: string): Promise<number> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    if (await done()) return performance.now();
    if (performance.now() > deadline) throw new Error(`not within ${DEADLINE_MS} ms: ${what}`);
    await sleep(20);
  }
}

interface OwnPostgres {
  url(database: string): string;
  query(database: string, text: string): Promise<pg.QueryResult>;
  /** How many connections LISTEN on `database`. */
  listeners(database: string): Promise<number>;
  /** A fast shutdown (clients are disconnected); the data directory stays. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  remove(): Promise<void>;
}

/**
 * A PostgreSQL server of this file's own, persistent, so that it can be stopped and started
 * again on the same data.
 */
async function startOwnPostgres(): Promise<OwnPostgres> {
  const server = await startEmbeddedPostgres({ name: 'gatehouse-faults-pg' });
  const query = async (database: string, text: string) => {
    const client = new pg.Client({ connectionString: server.url(database) });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  };
  return {
    url: server.url,
    query,
    listeners: async (database) =>
      (await query('postgres', `select count(*)::int as n from pg_stat_activity where datname = '${database}' and query ilike 'LISTEN%'`)).rows[0].n as number,
    stop: server.stop,
    start: server.start,
    remove: server.remove,
  };
}
