import { once } from 'node:events';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { PasswordHasher } from '../../src/core/password-hasher.js';
import { trackConnections } from '../../src/http/connection-drain.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { PASSWORD, registerUser, startTestGatehouse, USER_AGENTS, type TestGatehouse } from '../helpers/app.js';
import { HTTP_DATABASES } from '../helpers/databases.js';
import { instantHasher } from '../helpers/hashers.js';
import { gate } from '../webhooks/receiver.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the request went on a kept-alive connection that had carried one before. */
  reused: boolean;
}

/** One request through `agent` (keep-alive, one socket: every request after the first reuses it). */
function send(agent: Agent, base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method,
      agent,
      headers: { 'user-agent': USER_AGENTS.chromeWindows, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text, reused: req.reusedSocket }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const keptAlive = () => new Agent({ keepAlive: true, maxSockets: 1 });

/** Resolves with the error code of a connection attempt: what a client trying to reach a stopped node gets. */
function connectError(base: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/**
 * A client that sends a request body one byte every 100 ms, as a slow (or hostile) client
 * does: the request stays in flight for as long as it keeps at it, a minute at most.
 */
function trickler(base: string, path: string): { closed: Promise<unknown> } {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  const length = 600;
  socket.on('error', () => {});
  socket.write(`POST ${path} HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
  let sent = 0;
  const drip = setInterval(() => {
    if (socket.destroyed || ++sent > length) return clearInterval(drip);
    socket.write(' ');
  }, 100);
  // Not events.once: it rejects on the 'error' that a cut connection may raise first (ECONNRESET
  // when a write meets the reset), and a cut is what these tests wait for.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve())).finally(() => clearInterval(drip));
  trickles.push(socket);
  return { closed };
}
const trickles: Socket[] = [];
afterEach(() => {
  for (const socket of trickles.splice(0)) socket.destroy();
});

function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  void promise.finally(() => (done = true)).catch(() => {});
  return () => done;
}

describe('the connection drain of a plain HTTP server', () => {
  let server: Server;
  let base: string;
  const agents: Agent[] = [];
  const slow = gate();

  async function listen(idleGraceMs: number, deadline: { deadlineMs?: number; onDeadline?: (open: number) => void } = {}) {
    let stopping = false;
    server = createServer((req, res) => {
      // What Gatehouse's app does (app.ts): once stopping, every answer ends its connection.
      if (stopping) res.setHeader('connection', 'close');
      if (req.url === '/slow') void slow.promise.then(() => res.end('slow'));
      else if (req.url === '/upload') req.resume().on('end', () => res.end('uploaded'));
      else res.end('ok');
    });
    const drain = trackConnections(server, { idleGraceMs, ...deadline });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      ...drain,
      stopAccepting: () => {
        stopping = true;
        return drain.stopAccepting();
      },
    };
  }
  function agent() {
    const created = keptAlive();
    agents.push(created);
    return created;
  }
  afterEach(() => {
    for (const created of agents.splice(0)) created.destroy();
    server.closeAllConnections();
  });

  it('refuses new connections from the moment it stops accepting', async () => {
    const drain = await listen(60_000);
    expect(await connectError(base)).toBe('connected');
    void drain.stopAccepting();
    expect(await connectError(base)).toBe('ECONNREFUSED');
    await drain.closed();
  });

  it('answers a request sent on an idle kept-alive connection during the grace, and ends the grace once no connection is idle', async () => {
    const drain = await listen(60_000);
    const client = agent();
    expect((await send(client, base, 'GET', '/')).status).toBe(200);
    const stopped = drain.stopAccepting();
    const answer = await send(client, base, 'GET', '/');
    expect(answer).toMatchObject({ status: 200, body: 'ok', reused: true });
    expect(answer.headers.connection).toBe('close');
    // A minute's grace, yet both resolve now: the only connection has had its answer and closed.
    await stopped;
    await drain.closed();
  });

  it('closes a connection still idle when the grace ends', async () => {
    const drain = await listen(50);
    const client = agent();
    await send(client, base, 'GET', '/');
    const [socket] = Object.values(client.freeSockets).flat();
    const socketClosed = once(socket!, 'close');
    await drain.stopAccepting();
    await socketClosed;
    await drain.closed();
  });

  it('ends the grace at once when every connection has a request in flight, and resolves closed() only after their answers', async () => {
    const drain = await listen(60_000);
    const client = agent();
    const inFlight = send(client, base, 'GET', '/slow');
    await new Promise((resolve) => server.once('request', resolve));
    await drain.stopAccepting(); // a minute's grace, yet it resolves: nothing is idle
    const closed = settled(drain.closed());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed()).toBe(false);
    slow.open();
    expect(await inFlight).toMatchObject({ status: 200, body: 'slow' });
    await drain.closed();
  });

  it('cuts the connections still open at the deadline, a request body trickling in included, and says how many', async () => {
    const cut: number[] = [];
    const drain = await listen(20, { deadlineMs: 300, onDeadline: (open) => cut.push(open) });
    const trickle = trickler(base, '/upload');
    await new Promise((resolve) => server.once('request', resolve));
    await drain.stopAccepting();
    const closed = settled(drain.closed());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed()).toBe(false); // before the deadline, the request may still finish
    await drain.closed();
    await trickle.closed;
    expect(cut).toEqual([1]);
  });

  it('never cuts a request that has started to arrive, even after the grace', async () => {
    const drain = await listen(20);
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: gatehouse\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20)); // the server has read the first lines
    await drain.stopAccepting();
    await new Promise((resolve) => setTimeout(resolve, 100)); // well past the grace, several closes of idle connections
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.write('Connection: close\r\n\r\n');
    await once(socket, 'close');
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.endsWith('ok')).toBe(true);
    await drain.closed();
  });
});

/** Verifications wait for the test to let them through: a sign-in held in flight. */
function heldHasher(): { hasher: PasswordHasher; verifying: Promise<void>; release(): void } {
  const base = instantHasher();
  const started = gate();
  const release = gate();
  return {
    hasher: {
      ...base,
      verify: async (stored, password, work) => {
        started.open();
        await release.promise;
        return base.verify(stored, password, work);
      },
    },
    verifying: started.promise,
    release: () => release.open(),
  };
}

describe.each(HTTP_DATABASES)('a listening Gatehouse on %s, shutting down', (kind) => {
  let t: TestGatehouse | undefined;
  const agents: Agent[] = [];
  afterEach(async () => {
    for (const created of agents.splice(0)) created.destroy();
    await t?.close();
    t = undefined;
  });
  async function start(hasher: PasswordHasher = instantHasher(), config: Partial<Config> = {}) {
    t = await startTestGatehouse(kind, config, { hasher });
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const agent = keptAlive();
    agents.push(agent);
    return { t, base, agent };
  }

  it('answers a request on a kept-alive connection with `Connection: close`, fails /readyz, and refuses new connections', async () => {
    const { t, base, agent } = await start();
    const ready = await send(agent, base, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.headers.connection).toBe('keep-alive');

    const closed = t.gatehouse.close();
    expect(await connectError(base)).toBe('ECONNREFUSED');
    const going = await send(agent, base, 'GET', '/readyz');
    expect(going).toMatchObject({ status: 503, reused: true });
    expect(going.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(going.body)).toMatchObject({ code: 'unavailable', detail: 'Not ready: this node is shutting down.' });
    expect(going.headers.connection).toBe('close');
    await closed;
  });

  it('lets a sign-in in flight finish, answers it with `Connection: close`, and closes the database only after it is committed', async () => {
    const held = heldHasher();
    const { t, base, agent } = await start(held.hasher);
    await registerUser(t.app, 'ines@example.com');
    const login = send(agent, base, 'POST', '/v1/auth/login', { email: 'ines@example.com', password: PASSWORD });
    await held.verifying;

    const closing = t.gatehouse.close();
    const closed = settled(closing);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed()).toBe(false);
    held.release();
    const answer = await login;
    expect(answer).toMatchObject({ status: 200 });
    expect(answer.headers.connection).toBe('close');
    await closing;

    const store = await openStore(t.config.database);
    try {
      const session = await store.findSession((JSON.parse(answer.body) as { session: { id: string } }).session.id);
      expect(session?.revokedAt).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('writes the last activity of requests answered during the shutdown', async () => {
    const { t, base, agent } = await start();
    await registerUser(t.app, 'jon@example.com');
    const login = await send(agent, base, 'POST', '/v1/auth/login', { email: 'jon@example.com', password: PASSWORD });
    const { access_token: token, session } = JSON.parse(login.body) as { access_token: string; session: { id: string } };
    t.clock.advance(120);
    const closing = t.gatehouse.close();
    expect((await send(agent, base, 'GET', '/v1/me', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    await closing;

    const store = await openStore(t.config.database);
    try {
      expect((await store.findSession(session.id))?.lastActiveAt).toBe(t.clock.now());
    } finally {
      await store.close();
    }
  });

  it('does not let a client trickling a request body hold the stop past its deadline: it is cut, and the activity is still written and the database closed', async () => {
    // GATEHOUSE_SHUTDOWN_TIMEOUT's least: the connections get what the steps after them leave.
    const { t, base, agent } = await start(instantHasher(), { shutdownTimeoutSeconds: 5 });
    await registerUser(t.app, 'kim@example.com');
    const login = await send(agent, base, 'POST', '/v1/auth/login', { email: 'kim@example.com', password: PASSWORD });
    const { access_token: token, session } = JSON.parse(login.body) as { access_token: string; session: { id: string } };
    const trickle = trickler(base, '/v1/auth/login');
    await new Promise((resolve) => t.app.server.once('request', resolve));
    t.clock.advance(120);

    const closing = t.gatehouse.close();
    expect((await send(agent, base, 'GET', '/v1/me', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    // Fastify's own requestTimeout (30 s) would end the trickle far later than the process's timeout.
    const timeout = new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting at GATEHOUSE_SHUTDOWN_TIMEOUT')).then(String);
    expect(await Promise.race([closing.then(() => 'closed'), timeout])).toBe('closed');
    await trickle.closed;

    await expect(t.gatehouse.store.findSession(session.id)).rejects.toThrow();
    const store = await openStore(t.config.database);
    try {
      expect((await store.findSession(session.id))?.lastActiveAt).toBe(t.clock.now());
    } finally {
      await store.close();
    }
  });
});
