import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../../helpers/app.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../helpers/embedded-postgres.js';
import { ask, outcome, registerAt, signInAt, tokensOf, type Answer, type Tokens } from '../helpers/ask.js';
import { integrityProblems } from '../helpers/integrity.js';
import { startProcesses, STALENESS_BOUND_MS, untilEverywhere, type Processes } from '../helpers/processes.js';

/**
 * Issue 8, database outage: two server processes on a PostgreSQL server of this file's own
 * (the suite's shared one must not stop), under a mixed load — reads with live, signed-out
 * and just-signed-out sessions, refresh chains, sign-ins, sign-outs, readiness probes — while
 * the PostgreSQL server is stopped cleanly for longer than the staleness bound and started
 * again, and then crashes (immediate shutdown: no checkpoint, recovery at start) and comes
 * back within the bound. test/revocation/postgres-faults.process.test.ts covers reads alone.
 *
 * What must hold at every moment: every request is answered within REQUEST_BOUND_MS
 * (test/hostile/helpers/ask.ts), with what its kind allows or with 503 `unavailable`
 * (problem+json) — never another 5xx, never a dropped connection; a session signed out during
 * the test is refused by the node that signed it out from its answer on, and by the other
 * from the staleness bound after it. The policy for a view the database cannot confirm
 * (src/http/plugins/authenticate.ts, src/revocation/revocation-sync.ts): a session the view
 * knows is signed out is refused 401 from memory, database or not; any other session is
 * checked in the database once the view is older than GATEHOUSE_REVOCATION_MAX_STALENESS, so
 * it gets 503, never a possibly revoked 200 — and /readyz says the view is stale. (Every
 * authenticated route of Gatehouse itself also reads the database, so a live session gets 503
 * during the whole outage; the bound matters most to gatehouse/verify, tested in test/verify/.)
 * After each restart, with no restart of their own, both nodes are ready again, listen again,
 * sign people in, and pass a sign-out on one to the other within the bound; and nothing
 * acknowledged during the load was lost.
 *
 * The refresh grace window is 60 s: a refresh answered 503 at the moment its commit was cut
 * off may have happened, and its retry after the outage must count as a retry, not as theft.
 */
const STOPPED_MS = STALENESS_BOUND_MS + 2000;
const CRASHED_MS = 1500;
/** Pause between two requests of one loop. */
const PACE_MS = 20;
/** How long the test waits for any state it expects before it gives up. */
const DEADLINE_MS = 20_000;

type NodeName = 'A' | 'B';
type Kind = 'live' | 'revoked' | 'late' | 'signed-out' | 'refresh' | 'sign-in' | 'sign-out' | 'readyz';
interface Sample extends Answer {
  node: NodeName;
  kind: Kind;
  /** The session a read or sign-out was about. */
  session?: string;
}
interface SignOut {
  session: Tokens;
  node: NodeName;
  /** When the 204 (or, after a 503 that may have committed, the 404) arrived. */
  at: number;
}

describe('two server processes while their PostgreSQL server stops, starts again, and crashes', () => {
  let postgres: EmbeddedServer;
  let nodes: Processes;
  let url: Record<NodeName, string>;
  const databaseUrl = () => postgres.url('gatehouse');

  beforeAll(async () => {
    // PostgreSQL's own durable settings: the test crashes this server, and acknowledged sign-outs must survive it.
    postgres = await startEmbeddedPostgres({ name: 'gatehouse-outage-pg', durable: true });
    await adminQuery(postgres.url('postgres'), 'CREATE DATABASE gatehouse');
    nodes = await startProcesses(2, {
      DATABASE_URL: databaseUrl(),
      GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false',
      GATEHOUSE_REFRESH_REUSE_GRACE: '60',
    });
    url = { A: nodes.servers[0]!.url, B: nodes.servers[1]!.url };
  }, 120_000);

  afterAll(async () => {
    await nodes?.stop();
    await postgres?.remove();
  }, 60_000);

  it('answer every request within the bound with a success or 503, never accept a signed-out session, and recover by themselves', async () => {
    const { A, B } = url;
    await registerAt(A, 'outage@example.com');
    await registerAt(B, 'newcomer@example.com');
    const sessions = await signInMany([A, B], 'outage@example.com', 18);
    const [phone, live1, live2, before1, before2, late1, late2, chainA, chainB, spare1, spare2, ...toSignOut] = sessions as [Tokens, ...Tokens[]];
    // Signed out before the outage, and known to be on both nodes.
    for (const session of [before1!, before2!])
      expect(outcome(await ask(B, 'DELETE', `/v1/me/sessions/${session.sessionId}`, { token: phone.access }))).toBe('204');
    await Promise.all([before1!, before2!].map((s) => untilEverywhere([A, B], s, 'ended')));

    const traffic = new Traffic(url, {
      live: [live1!, live2!],
      revoked: [before1!, before2!],
      late: [late1!, late2!],
      chains: { A: chainA!, B: chainB! },
      phone,
      toSignOut,
    });
    const report: string[] = [];
    const outages: Array<{ stopping: number; stopped: number; restarting: number; ready: number; clean: boolean }> = [];
    try {
      await traffic.flowing();

      // 1. A clean stop, longer than the staleness bound, right after a sign-out on B.
      traffic.signedOutLate(late1!, 'B', await signOutOn(B, late1!, phone));
      const clean = { stopping: performance.now(), stopped: 0, restarting: 0, ready: 0, clean: true };
      await postgres.stop();
      clean.stopped = performance.now();
      for (const node of ['A', 'B'] as const) {
        for (const kind of ['live', 'readyz'] as const) {
          await traffic.until(
            (s) => s.node === node && s.kind === kind && s.sentAt > clean.stopped + STALENESS_BOUND_MS + 1000,
            `${node} answers ${kind} past the bound`,
          );
        }
      }
      await sleep(Math.max(0, clean.stopped + STOPPED_MS - performance.now()));
      clean.restarting = performance.now();
      await postgres.start();
      clean.ready = performance.now();
      outages.push(clean);
      report.push(`stopped ${ms(clean.restarting - clean.stopping)}: ${await recovered(traffic, clean.ready, spare1!, phone)}`);

      // 2. A crash (immediate shutdown, recovery at start) shorter than the bound.
      traffic.signedOutLate(late2!, 'B', await signOutOn(B, late2!, phone));
      const crash = { stopping: performance.now(), stopped: 0, restarting: 0, ready: 0, clean: false };
      await crashPostgres(postgres.url('postgres'));
      crash.stopped = performance.now();
      await sleep(CRASHED_MS);
      crash.restarting = performance.now();
      await postgres.start();
      crash.ready = performance.now();
      outages.push(crash);
      report.push(`crashed ${ms(crash.restarting - crash.stopping)}: ${await recovered(traffic, crash.ready, spare2!, phone)}`);
    } finally {
      await traffic.stop();
    }

    // At every moment: answered in time, with what the request's kind allows or 503, and no
    // signed-out session accepted.
    expect(traffic.violations()).toEqual([]);
    // With the database gone and the view older than the bound, a live session gets 503, and
    // each node says it is not ready because of its view.
    const clean = outages[0]!;
    const stale = (s: Sample) => s.sentAt > clean.stopped + STALENESS_BOUND_MS + 250 && s.sentAt + s.ms < clean.restarting;
    const blind = traffic.samples.filter((s) => s.kind === 'live' && stale(s));
    expect(blind.length).toBeGreaterThan(0);
    expect(blind.filter((s) => s.status !== 503)).toEqual([]);
    const probes = traffic.samples.filter((s) => s.kind === 'readyz' && stale(s));
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((s) => s.status !== 503 || !/revocation view was last confirmed \d+ ms ago/.test(String(s.body?.detail)))).toEqual([]);
    // Nothing acknowledged was lost: every sign-in answered 200 during the load is served by
    // both nodes, and every sign-out answered 204 is refused by both.
    const signedIn = traffic.samples.filter((s) => s.kind === 'sign-in' && s.status === 200).map(tokensOf);
    await Promise.all([
      ...signedIn.map((session) => untilEverywhere([A, B], session, 'alive')),
      ...traffic.signOuts.map(({ session }) => untilEverywhere([A, B], session, 'ended')),
    ]);
    expect(await integrityProblems({ kind: 'postgres', url: databaseUrl() })).toEqual([]);

    const slowest = Math.max(...traffic.samples.map((s) => s.ms));
    console.log(
      `PostgreSQL outages under load: ${report.join('; ')}. ${traffic.samples.length} requests, slowest ${ms(slowest)}, ` +
        `${blind.length} live reads answered 503 while the view was stale; ${traffic.tally()}; ` +
        `${signedIn.length} sign-ins and ${traffic.signOuts.length} sign-outs acknowledged during the load, all kept`,
    );
  }, 150_000);

  /**
   * After a restart, without touching the nodes: both serve live sessions and say they are
   * ready, both listen again, each signs people in, and a sign-out on B reaches A within the
   * bound. Returns the times it took, for the log.
   */
  async function recovered(traffic: Traffic, ready: number, spare: Tokens, phone: Tokens): Promise<string> {
    const times: string[] = [];
    for (const node of ['A', 'B'] as const) {
      const at = await traffic.until(
        (s) => s.node === node && s.kind === 'live' && s.sentAt > ready && s.status === 200,
        `${node} serves a live session again`,
      );
      times.push(`${node} serves ${ms(at - ready)}`);
    }
    for (const node of ['A', 'B'] as const) {
      const at = await eventually(async () => (await ask(url[node], 'GET', '/readyz')).status === 200, `${node} is ready`);
      times.push(`${node} ready ${ms(at - ready)}`);
    }
    const listening = await eventually(async () => (await listeners(postgres.url('postgres'))) === 2, 'both nodes listen again');
    times.push(`both listen ${ms(listening - ready)}`);
    for (const node of ['A', 'B'] as const)
      expect(outcome(await ask(url[node], 'POST', '/v1/auth/login', { body: { email: 'newcomer@example.com', password: PASSWORD } }))).toBe('200');
    const signedOutAt = await signOutOn(url.B, spare, phone);
    const refusedAt = await eventually(
      async () => outcome(await ask(url.A, 'GET', '/v1/me', { token: spare.access })) === '401 session_revoked',
      'A refuses what B signed out',
      2,
    );
    expect(refusedAt - signedOutAt).toBeLessThanOrEqual(STALENESS_BOUND_MS);
    times.push(`sign-out B → A ${ms(refusedAt - signedOutAt)}`);
    return times.join(', ');
  }
});

/**
 * Requests flowing all the while, one loop per kind and node (each about every PACE_MS), plus
 * one sign-in loop and one sign-out loop alternating between the nodes; every answer is kept.
 */
class Traffic {
  readonly samples: Sample[] = [];
  /** Sign-outs acknowledged during the load (the sign-out loop's and the late ones). */
  readonly signOuts: SignOut[] = [];
  private readonly late = new Map<string, SignOut>();
  /** Sessions whose sign-out was answered 503: it may have happened all the same. */
  private readonly maybe = new Set<string>();
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly url: Record<NodeName, string>,
    sessions: { live: Tokens[]; revoked: Tokens[]; late: Tokens[]; chains: Record<NodeName, Tokens>; phone: Tokens; toSignOut: Tokens[] },
  ) {
    for (const node of ['A', 'B'] as const) {
      for (const kind of ['live', 'revoked', 'late'] as const) {
        this.loop((i) => this.read(node, kind, sessions[kind][i % sessions[kind].length]!));
      }
      this.loop(async (i) => {
        const done = this.signOuts.filter((s) => !this.late.has(s.session.sessionId));
        if (done.length > 0) await this.read(node, 'signed-out', done[i % done.length]!.session);
      });
      let chain = sessions.chains[node];
      this.loop(async () => {
        const answer = await this.record(node, 'refresh', ask(this.url[node], 'POST', '/v1/auth/refresh', { body: { refresh_token: chain.refresh } }));
        if (answer.status === 200) chain = tokensOf(answer);
      });
      this.loop(() => this.record(node, 'readyz', ask(this.url[node], 'GET', '/readyz')));
    }
    this.loop(async (i) => {
      const node = i % 2 === 0 ? 'A' : 'B';
      await this.record(node, 'sign-in', ask(this.url[node], 'POST', '/v1/auth/login', { body: { email: 'newcomer@example.com', password: PASSWORD } }));
      await sleep(100);
    });
    const pending = [...sessions.toSignOut];
    const maybe = this.maybe;
    this.loop(async (i) => {
      const session = pending.shift();
      if (!session) return;
      const node = i % 2 === 0 ? 'A' : 'B';
      const answer = await this.record(
        node,
        'sign-out',
        ask(this.url[node], 'DELETE', `/v1/me/sessions/${session.sessionId}`, { token: sessions.phone.access }),
        session.sessionId,
      );
      const signedOut = answer.status === 204 || (maybe.has(session.sessionId) && outcome(answer) === '404 not_found');
      if (signedOut) this.signOuts.push({ session, node, at: answer.sentAt + answer.ms });
      else if (answer.status === 503) {
        // Not done — or done with its answer lost with the connection: try again later.
        maybe.add(session.sessionId);
        pending.push(session);
      }
      await sleep(200);
    });
  }

  private loop(step: (i: number) => Promise<unknown>): void {
    this.loops.push(
      (async () => {
        for (let i = 0; !this.stopped; i++) {
          await step(i);
          await sleep(PACE_MS);
        }
      })(),
    );
  }

  private read(node: NodeName, kind: Kind, session: Tokens): Promise<Answer> {
    return this.record(node, kind, ask(this.url[node], 'GET', '/v1/me', { token: session.access }), session.sessionId);
  }

  private async record(node: NodeName, kind: Kind, answering: Promise<Answer>, session?: string): Promise<Answer> {
    const answer = await answering;
    this.samples.push({ ...answer, node, kind, ...(session === undefined ? {} : { session }) });
    return answer;
  }

  signedOutLate(session: Tokens, node: NodeName, at: number): void {
    const signOut = { session, node, at };
    this.late.set(session.sessionId, signOut);
    this.signOuts.push(signOut);
  }

  async flowing(): Promise<void> {
    const kinds: Kind[] = ['live', 'revoked', 'late', 'refresh', 'readyz'];
    await eventually(() => kinds.every((kind) => this.samples.filter((s) => s.kind === kind).length >= 6), 'traffic flows');
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
   * Every answer that breaks a promise: none within the bound; a 5xx other than 503, or a 503
   * that is not problem+json `unavailable`; an answer the request's kind does not allow; a
   * signed-out session served — by the node that signed it out after its answer, by the other
   * after the staleness bound since.
   */
  violations(): string[] {
    const allowed: Record<Kind, string[]> = {
      live: ['200'],
      revoked: ['401 session_revoked'],
      late: ['200', '401 session_revoked'],
      'signed-out': ['200', '401 session_revoked'],
      refresh: ['200'],
      'sign-in': ['200'],
      'sign-out': ['204', '404 not_found'],
      readyz: ['200'],
    };
    const signedOut = new Map(this.signOuts.map((s) => [s.session.sessionId, s]));
    const bad: string[] = [];
    for (const s of this.samples) {
      const what = `${s.node} ${s.kind} sent at ${s.sentAt.toFixed(0)}: ${outcome(s)} after ${s.ms.toFixed(0)} ms`;
      // A session the view knows is signed out is refused from memory, whatever the database.
      if (s.status === 503 && s.kind !== 'revoked') {
        if (s.code !== 'unavailable' || !/^application\/problem\+json/.test(s.contentType)) bad.push(`${what} (503 but not problem+json unavailable)`);
        continue;
      }
      if (outcome(s) === '404 not_found' && !(s.session !== undefined && this.maybe.has(s.session))) {
        bad.push(`${what} (a sign-out that had not been tried before)`);
        continue;
      }
      if (!allowed[s.kind].includes(outcome(s))) {
        bad.push(what);
        continue;
      }
      const ended = s.session === undefined ? undefined : signedOut.get(s.session);
      if (s.status === 200 && (s.kind === 'late' || s.kind === 'signed-out') && ended) {
        const refusedFrom = ended.at + (ended.node === s.node ? 0 : STALENESS_BOUND_MS);
        if (s.sentAt > refusedFrom) bad.push(`${what} (signed out on ${ended.node} at ${ended.at.toFixed(0)})`);
      }
    }
    return bad.length > 20 ? [...bad.slice(0, 20), `… and ${bad.length - 20} more`] : bad;
  }

  /** How the answers came out, per kind: `kind: outcome × n`. */
  tally(): string {
    const counts = new Map<string, number>();
    for (const s of this.samples) counts.set(`${s.kind} ${outcome(s)}`, (counts.get(`${s.kind} ${outcome(s)}`) ?? 0) + 1);
    return [...counts]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([key, n]) => `${key} × ${n}`)
      .join(', ');
  }
}

/** Signs `session` out on `base` from `by` (retrying a 503: the database may still be coming back); resolves with when the 204 arrived. */
async function signOutOn(base: string, session: Tokens, by: Tokens): Promise<number> {
  for (let tries = 0; ; tries++) {
    const answer = await ask(base, 'DELETE', `/v1/me/sessions/${session.sessionId}`, { token: by.access });
    if (answer.status === 204) return answer.sentAt + answer.ms;
    if (answer.status !== 503 || tries === 200) throw new Error(`signing ${session.sessionId} out: ${outcome(answer)}`);
    await sleep(50);
  }
}

/** Signs `email` in `count` times over the nodes, four at a time (argon2 is the cost). */
async function signInMany(bases: string[], email: string, count: number): Promise<Tokens[]> {
  const sessions: Tokens[] = [];
  for (let i = 0; i < count; i += 4) {
    sessions.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, (_, j) => signInAt(bases[(i + j) % bases.length]!, email)))));
  }
  return sessions;
}

/** Polls `done` every `everyMs`; resolves with the moment it held; fails after DEADLINE_MS. */
async function eventually(done: () => boolean | Promise<boolean>, what: string, everyMs = 20): Promise<number> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    if (await done()) return performance.now();
    if (performance.now() > deadline) throw new Error(`not within ${DEADLINE_MS} ms: ${what}`);
    await sleep(everyMs);
  }
}

async function adminQuery(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** How many connections LISTEN on the Gatehouse database: one per node when all is well. */
async function listeners(adminUrl: string): Promise<number> {
  const result = await adminQuery(adminUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'gatehouse' AND query ILIKE 'LISTEN%'`);
  return result.rows[0].n as number;
}

/**
 * An immediate shutdown (SIGQUIT to the postmaster): every backend ends at once and nothing is
 * checkpointed, so the next start recovers from the WAL — what a crash of the database server
 * looks like, minus the lost page cache. Resolves once the postmaster is gone.
 */
async function crashPostgres(adminUrl: string): Promise<void> {
  const directory = (await adminQuery(adminUrl, 'SHOW data_directory')).rows[0].data_directory as string;
  const pid = Number(readFileSync(join(directory, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGQUIT');
  await eventually(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 'the PostgreSQL server is gone');
}

const ms = (value: number): string => `${value.toFixed(0)} ms`;
