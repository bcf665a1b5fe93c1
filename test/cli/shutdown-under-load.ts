import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { PASSWORD, USER_AGENTS } from '../helpers/app.js';
import { createTestDatabase, type DatabaseKind } from '../helpers/databases.js';
import { CLI, startServer, type RunningServer } from '../helpers/server-process.js';
import { gate, WebhookReceiver } from '../webhooks/receiver.js';

/**
 * Issue 7, item 6, end to end: a real server process under load gets SIGTERM. Each of a few
 * clients drives its own account over two kept-alive connections (node:http, as a service or a
 * proxy would), back to back: on one, sign in, an authenticated read, a refresh, then either
 * the session list or a revocation of the new session from the account's first one; on the
 * other, authenticated reads only. A webhook receiver holds every notification unanswered
 * until the signal, so deliveries are in flight then and must be recorded before the database
 * closes.
 *
 * Every request is classified by what the client saw:
 * - answered: it must be a whole 2xx answer, SIGTERM or not;
 * - refused: a new connection that got no answer (refused, or reset before anything was read)
 *   after SIGTERM was sent: the node had stopped accepting. The client stops there;
 * - anything else (a reset or hang-up on a kept-alive connection, a cut answer, an error
 *   status): a failure. There must be none.
 * Then the server starts again on the same database, and the clients' view must be exactly
 * the database's: every session whose sign-in was answered exists, its last refresh token
 * works, each answered revocation holds, no session exists that no client was told of (a
 * request the node acted on without answering would show up here), the last activity seen
 * during the shutdown was written, and every notification arrives.
 */

const CLIENTS = 4;
const WAIT = { timeout: 30_000, interval: 50 };

type Outcome = { kind: 'answered'; status: number; body: Record<string, any> } | { kind: 'refused'; code: string } | { kind: 'failed'; error: string };

/** What a client knows of one of its sessions. */
interface Known {
  id: string;
  access: string;
  refresh: string;
  revoked: boolean;
}

interface Client {
  email: string;
  agent: Agent;
  /** A second connection, for the client's stream of authenticated reads. */
  reader: Agent;
  /** Signed in before the load; revokes the load's sessions, lists them all at the end. */
  anchor: Known;
  sessions: Known[];
  iterations: number;
}

interface Tally {
  sigtermSent: boolean;
  answered: number;
  answeredAfterSigterm: number;
  refused: string[];
  failures: string[];
}

/** Codes of a connection attempt that reached no running server, or one that was closing its port. */
const NOT_ACCEPTED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

function send(base: string, agent: Agent, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (!settled) resolve(outcome);
      settled = true;
    };
    const req = request(`${base}${path}`, {
      method,
      agent,
      headers: {
        'user-agent': USER_AGENTS.chromeWindows,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
    });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', (error) => settle({ kind: 'failed', error: `answer cut off: ${error.message}` }));
      response.on('end', () => {
        if (!response.complete) return settle({ kind: 'failed', error: 'answer cut off' });
        settle({ kind: 'answered', status: response.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, any>) : {} });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.message;
      if (!req.reusedSocket && NOT_ACCEPTED.has(code)) settle({ kind: 'refused', code });
      else settle({ kind: 'failed', error: `${req.reusedSocket ? 'kept-alive' : 'new'} connection: ${code} (${error.message})` });
    });
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/** One request of the load: undefined when the client must stop (refused, or a failure, recorded). */
async function step(
  base: string,
  agent: Agent,
  who: string,
  tally: Tally,
  method: string,
  path: string,
  expected: number,
  options: { token?: string; body?: unknown } = {},
) {
  const outcome = await send(base, agent, method, path, options);
  const what = `${who} ${method} ${path.replace(/[A-Za-z0-9_-]{20,}/g, ':id')}`;
  if (outcome.kind === 'refused') {
    if (tally.sigtermSent) tally.refused.push(outcome.code);
    else tally.failures.push(`${what}: ${outcome.code} before SIGTERM`);
    return undefined;
  }
  if (outcome.kind === 'failed') {
    tally.failures.push(`${what}: ${outcome.error}`);
    return undefined;
  }
  tally.answered++;
  if (tally.sigtermSent) tally.answeredAfterSigterm++;
  if (outcome.status !== expected) {
    tally.failures.push(`${what}: ${outcome.status} ${JSON.stringify(outcome.body)}`);
    return undefined;
  }
  return outcome.body;
}

/** A client's closed loop of changes, until the node refuses it. */
async function drive(base: string, client: Client, tally: Tally): Promise<void> {
  const act = (method: string, path: string, expected: number, options: { token?: string; body?: unknown } = {}) =>
    step(base, client.agent, client.email, tally, method, path, expected, options);
  for (let i = 0; ; i++) {
    const login = await act('POST', '/v1/auth/login', 200, { body: { email: client.email, password: PASSWORD } });
    if (!login) return;
    const session: Known = { id: login.session.id, access: login.access_token, refresh: login.refresh_token, revoked: false };
    client.sessions.push(session);
    if (!(await act('GET', '/v1/me', 200, { token: session.access }))) return;
    const refreshed = await act('POST', '/v1/auth/refresh', 200, { body: { refresh_token: session.refresh } });
    if (!refreshed) return;
    session.access = refreshed.access_token;
    session.refresh = refreshed.refresh_token;
    if (i % 2 === 1) {
      if (!(await act('DELETE', `/v1/me/sessions/${session.id}`, 204, { token: client.anchor.access }))) return;
      session.revoked = true;
    } else if (!(await act('GET', '/v1/me/sessions', 200, { token: session.access }))) {
      return;
    }
    client.iterations++;
  }
}

/**
 * Authenticated reads, back to back on a connection of their own, until the node refuses them.
 * Each is over in a moment, so this connection is often between two requests when the signal
 * comes: the next one may already be sent, and not yet read.
 */
async function read(base: string, client: Client, tally: Tally): Promise<void> {
  for (;;) if (!(await step(base, client.reader, `${client.email} (reads)`, tally, 'GET', '/v1/me', 200, { token: client.anchor.access }))) return;
}

async function environment(kind: DatabaseKind, receiver: WebhookReceiver) {
  const database = await createTestDatabase(kind);
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'));
  const env = {
    DATABASE_URL: database.location.kind === 'postgres' ? database.location.url : `sqlite:${database.location.path}`,
    // Every sign-in is a session of its own, however alike the devices.
    GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false',
    // A refresh the node made but never answered would leave the client a spent token, which a
    // second later counts as stolen: the check after the restart would catch it.
    GATEHOUSE_REFRESH_REUSE_GRACE: '1',
    GATEHOUSE_WEBHOOK_URL: receiver.url,
    GATEHOUSE_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
  };
  return {
    database,
    cwd,
    env,
    remove: async () => {
      rmSync(cwd, { recursive: true, force: true });
      await database.drop();
    },
  };
}

interface Run {
  tally: Tally;
  clients: Client[];
  exitCode: number | null;
  server: RunningServer;
  /** When the probe's last authenticated request was sent (its activity was only in memory then). */
  probeReadAt: number;
  probe: Known;
}

/** Starts the server, puts it under load, sends SIGTERM, and waits for every client and the process to stop. */
async function loadAndStop(
  cwd: string,
  env: Record<string, string>,
  argv: string[] | undefined,
  receiver: WebhookReceiver,
  onSigterm: () => void,
): Promise<Run> {
  const server = await startServer(cwd, env, argv ? { argv, listening: 2 } : {});
  const tally: Tally = { sigtermSent: false, answered: 0, answeredAfterSigterm: 0, refused: [], failures: [] };
  const setup = new Agent({ keepAlive: true });
  const ok = async (method: string, path: string, expected: number, options: { token?: string; body?: unknown } = {}) => {
    const outcome = await send(server.url, setup, method, path, options);
    expect(outcome).toMatchObject({ kind: 'answered', status: expected });
    return (outcome as { body: Record<string, any> }).body;
  };
  const signIn = async (email: string): Promise<Known> => {
    const body = await ok('POST', '/v1/auth/login', 200, { body: { email, password: PASSWORD } });
    return { id: body.session.id, access: body.access_token, refresh: body.refresh_token, revoked: false };
  };
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, n): Promise<Client> => {
      const email = `client${n}@example.com`;
      await ok('POST', '/v1/auth/register', 201, { body: { email, password: PASSWORD } });
      const agent = () => new Agent({ keepAlive: true, maxSockets: 1 });
      return { email, agent: agent(), reader: agent(), anchor: await signIn(email), sessions: [], iterations: 0 };
    }),
  );
  await ok('POST', '/v1/auth/register', 201, { body: { email: 'probe@example.com', password: PASSWORD } });
  const probe = await signIn('probe@example.com');

  const loops = clients.flatMap((client) => [drive(server.url, client, tally), read(server.url, client, tally)]);
  // Conditions, not durations: every client well under way, and notifications held in flight.
  await vi.waitFor(() => expect(Math.min(...clients.map((c) => c.iterations))).toBeGreaterThanOrEqual(2), WAIT);
  await vi.waitFor(() => expect(receiver.received.length).toBeGreaterThan(0), WAIT);
  expect(tally.failures).toEqual([]);
  // The probe's session is read once, long after its sign-in: only a flush at shutdown can write that.
  const probeReadAt = Date.now();
  await ok('GET', '/v1/me', 200, { token: probe.access });
  setup.destroy();

  const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  tally.sigtermSent = true;
  server.child.kill('SIGTERM');
  onSigterm();
  await Promise.all(loops);
  const exitCode = await exited;
  for (const client of clients) for (const agent of [client.agent, client.reader]) agent.destroy();
  return { tally, clients, exitCode, server, probeReadAt, probe };
}

/** On a fresh server over the same database: the clients' knowledge and the database agree. */
async function verifyAfterRestart(
  cwd: string,
  env: Record<string, string>,
  run: Run,
  kind: DatabaseKind,
  receiver: WebhookReceiver,
  database: Awaited<ReturnType<typeof createTestDatabase>>,
) {
  const server = await startServer(cwd, env);
  const agent = new Agent({ keepAlive: true });
  const call = async (method: string, path: string, options: { token?: string; body?: unknown } = {}) => {
    const outcome = await send(server.url, agent, method, path, options);
    if (outcome.kind !== 'answered') throw new Error(`${method} ${path}: ${JSON.stringify(outcome)}`);
    return outcome;
  };
  try {
    let revoked = 0;
    for (const client of run.clients) {
      const listed = await call('GET', '/v1/me/sessions', { token: client.anchor.access });
      expect(listed.status).toBe(200);
      const live = client.sessions.filter((s) => !s.revoked);
      // Exactly the sessions the client was told of: none lost, none made behind its back.
      expect((listed.body.sessions as Array<{ id: string }>).map((s) => s.id).sort()).toEqual([client.anchor.id, ...live.map((s) => s.id)].sort());
      for (const session of live) {
        expect(await call('POST', '/v1/auth/refresh', { body: { refresh_token: session.refresh } }), `${client.email}'s last refresh token`).toMatchObject({
          status: 200,
        });
      }
      for (const session of client.sessions.filter((s) => s.revoked)) {
        revoked++;
        expect(await call('GET', '/v1/me', { token: session.access })).toMatchObject({ status: 401, body: { code: 'session_revoked' } });
        expect((await call('POST', '/v1/auth/refresh', { body: { refresh_token: session.refresh } })).status).toBe(401);
      }
    }

    // The read of the probe was answered just before SIGTERM; its activity was written at shutdown.
    const probe = await call('GET', '/v1/me/sessions', { token: run.probe.access });
    const probeSession = (probe.body.sessions as Array<{ id: string; last_active_at: string }>).find((s) => s.id === run.probe.id);
    expect(Date.parse(probeSession!.last_active_at)).toBeGreaterThanOrEqual(run.probeReadAt);

    // Every notification the outbox holds arrives, the ones in flight at the signal included,
    // and there is one per answered revocation: none for a revocation no client was told of.
    const store = await openStore(database.location);
    try {
      const rows = () => store.db.selectFrom('webhook_deliveries').select(['event_id', 'type', 'delivered_at']).execute();
      await vi.waitFor(async () => expect((await rows()).filter((r) => r.delivered_at === null)).toEqual([]), WAIT);
      const all = await rows();
      expect(all.filter((r) => r.type === 'sessions_revoked')).toHaveLength(revoked);
      expect([...receiver.acknowledged().keys()].sort()).toEqual(expect.arrayContaining(all.map((r) => r.event_id).sort()));
      console.log(
        `shutdown under load on ${kind}${run.server.logs.some((l) => l.includes('"role":"primary"')) ? ' (--workers 2)' : ''}: ` +
          `${run.tally.answered} requests answered (${run.tally.answeredAfterSigterm} after SIGTERM), ` +
          `${run.tally.refused.length} refused after SIGTERM (${[...new Set(run.tally.refused)].join(', ')}), ` +
          `${run.tally.failures.length} failed; ${all.length} notifications, all delivered`,
      );
    } finally {
      await store.close();
    }
  } finally {
    agent.destroy();
    expect(await server.stop()).toBe(0);
  }
}

/** How the server runs: alone, or as two workers under a supervising process. */
export type ServeMode = 'gatehouse serve' | 'gatehouse serve --workers 2';

const ARGV: Record<ServeMode, string[] | undefined> = {
  'gatehouse serve': undefined,
  'gatehouse serve --workers 2': [CLI, 'serve', '--workers', '2'],
};

/**
 * The test, for each database and way of serving in `cases`: `npm test` runs one
 * (test/cli/shutdown.process.test.ts), the slow suite the others (test/hostile/shutdown/).
 */
export function shutdownUnderLoadTests(cases: ReadonlyArray<readonly [DatabaseKind, ServeMode]>): void {
  describe.each(cases)('SIGTERM under load on %s', (kind, mode) => {
    it(`${mode} answers every request it read, refuses the rest, exits 0, and loses nothing it acknowledged`, async () => {
      const held = gate<number>();
      const receiver = await WebhookReceiver.start(() => held.promise);
      const { database, cwd, env, remove } = await environment(kind, receiver);
      try {
        const run = await loadAndStop(cwd, env, ARGV[mode], receiver, () => {
          receiver.answer = () => 204;
          held.open(204);
        });
        expect(run.tally.failures).toEqual([]);
        expect(run.exitCode).toBe(0);
        // Requests were in flight at the signal, and they were answered.
        expect(run.tally.answeredAfterSigterm).toBeGreaterThan(0);
        // Every loop (two per client) ended on a refused connection, none on a failure.
        expect(run.tally.refused).toHaveLength(2 * CLIENTS);
        const lines = run.server.logs.join('\n');
        expect(lines).toContain('"msg":"shutting down"');
        expect(lines).toContain('"msg":"stopped"');
        expect(lines).not.toContain('took longer than GATEHOUSE_SHUTDOWN_TIMEOUT');
        // The deliveries in flight at the signal were answered, and recorded before the database closed.
        expect(lines).not.toContain('webhook delivered but not recorded');
        await verifyAfterRestart(cwd, env, run, kind, receiver, database);
      } finally {
        await receiver.close();
        await remove();
      }
    }, 120_000);
  });
}
