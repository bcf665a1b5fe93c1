// Issue 5's goals for sign-in, measured side by side in one run (design §8):
//   1. sign-in throughput (POST /v1/auth/login over HTTP, a real server) is ≥ 0.9× the raw
//      argon2id verification throughput at the same parameters, each at its best concurrency;
//   2. a flood of sign-ins does not more than double the p99 latency of authenticated requests
//      (GET /v1/me/sessions, a fixed request rate) running beside it on the same server.
//
//   npm run bench:sign-in        (builds, then: node bench/sign-in.js)
//   BENCH_ROUNDS=12 node bench/sign-in.js          (a longer look)
//   BENCH_POSTGRES=0 …   (SQLite only)    BENCH_PIN=0 …   (no CPU pinning)
//
// Two Gatehouse nodes, each in its own process (this file with `--serve`: `createGatehouse` and
// `listen`, as `npm start` does), on one database: *pool*, Gatehouse as it is (argon2 in its
// worker threads of low priority, src/passwords/argon2-pool.ts), and *libuv*, the same with a
// hasher that calls @node-rs/argon2's async functions (libuv's thread pool, as Gatehouse did
// before the pool), to show what the pool changes, side by side. The raw verifications run in a
// third process (`--raw`), @node-rs/argon2's `verify` on a hash Gatehouse made. All three are
// pinned to core 0 and this process, the load generator, to core 1, so the figures are per
// server core and the load never competes with the server.
// Authenticated load is open-loop at a fixed rate and its latency counts from the moment each
// request was due, not sent, so a stalled server cannot hide its stall by slowing the generator
// down (coordinated omission). The machine's speed drifts, so the variants alternate in short
// runs, round after round, and medians of per-round ratios are reported.

import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, fmt, machineLine, PIN, pin, requireBuild, runStamp, startPostgres, threadCpuMs, writeSection } from './lib.js';
import { renderSection } from './sign-in-report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const THROUGHPUT_S = Number(process.env.BENCH_SECONDS ?? 2.5);
const LATENCY_S = Number(process.env.BENCH_LATENCY_SECONDS ?? 3);
/** The authenticated requests' fixed rate: moderate, a tenth or so of what the route serves. */
const RATE = Number(process.env.BENCH_RATE ?? 250);
/** Sign-ins in flight during the flood: far more than the hashes one core can run at once. */
const FLOOD = Number(process.env.BENCH_FLOOD ?? 32);
const CONCURRENCIES = [1, 2, 4, 8, 32];
const USERS = 16;
const PASSWORD = 'bench-password-1234';
const GOALS = { throughput: 0.9, p99: 2 };
const SECTION = '## Sign-in';

// ---------------------------------------------------------------------------------------------
// The raw verifications, in a process of their own (`--raw`).

async function raw() {
  const { argon2Hasher } = await import(dist('passwords/argon2-hasher.js'));
  const { verify } = await import('@node-rs/argon2');
  const stored = await argon2Hasher().hash(PASSWORD);
  process.on('message', async ({ type, concurrency, seconds }) => {
    if (type === 'close') process.exit(0);
    const end = performance.now() + seconds * 1000;
    const start = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) if (await verify(stored, PASSWORD)) done++;
      }),
    );
    process.send({ rate: done / ((performance.now() - start) / 1000) });
  });
  process.send({ ready: true, parameters: stored.split('$')[3] });
}

function startRaw() {
  const child = fork(fileURLToPath(import.meta.url), ['--raw'], { stdio: 'inherit' });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  return next().then((hello) => {
    pin(child.pid, 0);
    return {
      parameters: hello.parameters,
      run: (concurrency, seconds) => (child.send({ type: 'run', concurrency, seconds }), next()).then((m) => m.rate),
      close: () => child.send({ type: 'close' }),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The server, and HTTP.

/** Server-side `--serve <hasher> <database url>`: a node as `npm start` builds it, on port 0. */
async function serve(hasherKind, databaseUrl) {
  const { loadConfig } = await import(dist('config.js'));
  const { createGatehouse } = await import(dist('gatehouse.js'));
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'warn',
    // In-flight attempts count as failures until they succeed (sign-in-limits.ts): raised so the
    // flood's own claims never trip a limit. Every sign-in here succeeds.
    GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES: '100',
    GATEHOUSE_SIGNIN_MAX_FAILURES_PER_HOUR: '100000',
    GATEHOUSE_SIGNIN_IP_MAX_FAILURES: '1000000',
    // Every account is registered from this one address.
    GATEHOUSE_REGISTER_IP_MAX: '0',
  });
  const gatehouse = await createGatehouse(config, hasherKind === 'libuv' ? { hasher: await libuvHasher() } : {});
  await gatehouse.app.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', async () => {
    await gatehouse.close();
    process.exit(0);
  });
  process.send({ port: gatehouse.app.server.address().port });
}

/** argon2Hasher as it was before the pool: @node-rs/argon2's async calls, on libuv's 4 threads. */
async function libuvHasher() {
  const { hash, verify } = await import('@node-rs/argon2');
  const options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  let decoy;
  return {
    hash: (password) => hash(password, options),
    verify: (stored, password) => verify(stored, password),
    async verifyNothing(password) {
      decoy ??= hash('decoy-password', options);
      await verify(await decoy, password);
      return false;
    },
    needsRehash: () => false,
  };
}

async function startServer(hasherKind, databaseUrl) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', hasherKind, databaseUrl], { stdio: 'inherit' });
  const { port } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the ${hasherKind} node exited (${code})`)));
  });
  // Pinned once it has started its threads; a thread started later (a worker) inherits it.
  pin(child.pid, 0);
  const stop = () => {
    if (child.exitCode !== null) return Promise.resolve();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send({ type: 'close' });
    return exited;
  };
  return { name: hasherKind, port, pid: child.pid, stop };
}

const agents = { sessions: new http.Agent({ keepAlive: true, maxSockets: 64 }), signIn: new http.Agent({ keepAlive: true, maxSockets: 64 }) };

function request(server, method, path, { body, token, userAgent, agent } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { 'user-agent': userAgent ?? 'gatehouse-bench-sign-in/1.0' };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    if (token) headers.authorization = `Bearer ${token}`;
    const req = http.request({ agent: agent ?? agents.sessions, host: '127.0.0.1', port: server.port, method, path, headers, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode, body: text && res.headers['content-type']?.includes('json') ? JSON.parse(text) : undefined, at: performance.now() });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Load.

let signIns = 0;
/** Sign-ins, `concurrency` at a time, closed loop, for `seconds`; distinct user agents, so no sign-in replaces another's session. */
async function signInFlood(server, concurrency, seconds, stop) {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  const failed = {};
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (stop ? !stop.now : performance.now() < end) {
        const n = signIns++;
        const body = { email: `user${n % USERS}@bench.example`, password: PASSWORD };
        const res = await request(server, 'POST', '/v1/auth/login', { body, userAgent: `bench-sign-in/${n}`, agent: agents.signIn }).catch((e) => ({
          status: e.message,
        }));
        if (res.status === 200) done++;
        else failed[res.status] = (failed[res.status] ?? 0) + 1;
      }
    }),
  );
  return { rate: done / ((performance.now() - start) / 1000), failed };
}

/** GET /v1/me/sessions at a fixed rate; each latency counts from when the request was due. */
async function fixedRate(server, token, seconds) {
  const interval = 1000 / RATE;
  const count = Math.round(RATE * seconds);
  const start = performance.now() + 10;
  const latencies = [];
  const failed = {};
  const pending = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait - 0.5);
    pending.push(
      request(server, 'GET', '/v1/me/sessions', { token }).then(
        (res) => (res.status === 200 ? latencies.push(res.at - due) : (failed[res.status] = (failed[res.status] ?? 0) + 1)),
        (e) => (failed[e.message] = (failed[e.message] ?? 0) + 1),
      ),
    );
  }
  await Promise.all(pending);
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1), served: sorted.length, failed };
}

/** The same fixed-rate load while a flood of sign-ins runs against the same server. */
async function withFlood(server, token, seconds) {
  const stop = { now: false };
  const flood = signInFlood(server, FLOOD, 0, stop);
  await sleep(500); // the flood fills the hashers' queue before the clock starts
  const latency = await fixedRate(server, token, seconds);
  stop.now = true;
  return { ...latency, flood: await flood };
}

/**
 * The server's CPU over a run (ms): all threads, its main thread (the event loop), and how long
 * the main thread was ready to run but waited for a core (schedstat: CPU starvation).
 */
function serverCpu(pid) {
  let waitMs = NaN;
  try {
    waitMs = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    // Not Linux, or no schedstat: the column shows n/a.
  }
  return { all: threadCpuMs(`/proc/${pid}/stat`), loop: threadCpuMs(`/proc/${pid}/task/${pid}/stat`), waitMs };
}

async function measured(server, work) {
  const before = serverCpu(server.pid);
  const t0 = performance.now();
  const result = await work();
  const after = serverCpu(server.pid);
  const ms = performance.now() - t0;
  return { ...result, cpu: (after.all - before.all) / ms, loopCpu: (after.loop - before.loop) / ms, loopWait: (after.waitMs - before.waitMs) / ms };
}

/** Nice values of a process's threads (Linux), to show what runs at which priority. */
function threadNices(pid) {
  try {
    const counts = {};
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const nice = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16];
      const key = Number(tid) === pid ? 'main thread' : `nice ${nice}`;
      counts[key] = Number(tid) === pid ? `nice ${nice}` : (counts[key] ?? 0) + 1;
    }
    return Object.entries(counts)
      .map(([key, n]) => (key === 'main thread' ? `main thread ${n}` : `${n} thread${n === 1 ? '' : 's'} at ${key}`))
      .join(', ');
  } catch {
    return 'n/a';
  }
}

// ---------------------------------------------------------------------------------------------
// One database: setup, calibration, rounds.

const HASHERS = ['pool', 'libuv'];

async function measureDatabase(name, databaseUrl, rawHasher) {
  const servers = {};
  try {
    for (const kind of HASHERS) servers[kind] = await startServer(kind, databaseUrl);
    const first = servers[HASHERS[0]];
    for (let i = 0; i < USERS; i++) await request(first, 'POST', '/v1/auth/register', { body: { email: `user${i}@bench.example`, password: PASSWORD } });
    await request(first, 'POST', '/v1/auth/register', { body: { email: 'reader@bench.example', password: PASSWORD } });
    const tokens = {};
    for (const kind of HASHERS) {
      const reader = await request(servers[kind], 'POST', '/v1/auth/login', {
        body: { email: 'reader@bench.example', password: PASSWORD },
        userAgent: `reader/${kind}`,
      });
      if (reader.status !== 200) throw new Error(`sign-in failed: ${reader.status}`);
      tokens[kind] = reader.body.access_token;
    }

    // The number in flight at which each gives its best throughput, found once (short runs).
    const calibration = { raw: {} };
    for (const kind of HASHERS) calibration[kind] = {};
    for (const c of CONCURRENCIES) {
      calibration.raw[c] = await rawHasher.run(c, 1);
      for (const kind of HASHERS) calibration[kind][c] = (await signInFlood(servers[kind], c, 1)).rate;
    }
    const best = (rates) => Number(Object.entries(rates).sort((a, b) => b[1] - a[1])[0][0]);
    const concurrency = Object.fromEntries(Object.entries(calibration).map(([k, rates]) => [k, best(rates)]));
    console.log(
      `${name}: calibration ${JSON.stringify(calibration, (_k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))} → ${JSON.stringify(concurrency)}`,
    );
    for (const kind of HASHERS) await fixedRate(servers[kind], tokens[kind], 1); // warm-up

    const variants = { raw: async () => ({ rate: await rawHasher.run(concurrency.raw, THROUGHPUT_S) }) };
    for (const kind of HASHERS) {
      const server = servers[kind];
      variants[`${kind}.signIn`] = () => measured(server, () => signInFlood(server, concurrency[kind], THROUGHPUT_S));
      variants[`${kind}.alone`] = () => measured(server, () => fixedRate(server, tokens[kind], LATENCY_S));
      variants[`${kind}.flood`] = () => measured(server, () => withFlood(server, tokens[kind], LATENCY_S));
    }
    const order = Object.keys(variants);
    const rounds = [];
    const nices = {};
    for (let r = 0; r < ROUNDS; r++) {
      const round = { raw: undefined };
      for (const kind of HASHERS) round[kind] = {};
      // Rotate the order by round so no variant always follows the same one.
      for (let k = 0; k < order.length; k++) {
        const v = order[(k + r) % order.length];
        const [kind, what] = v.split('.');
        const result = await variants[v]();
        if (what) round[kind][what] = result;
        else round.raw = result;
        if (what === 'flood' && !nices[kind]) nices[kind] = threadNices(servers[kind].pid);
      }
      const line = [`${name} round ${r + 1}: raw ${fmt(round.raw.rate, 1)}/s`];
      for (const kind of HASHERS) {
        const x = round[kind];
        x.throughputRatio = x.signIn.rate / round.raw.rate;
        x.p99Ratio = x.flood.p99 / x.alone.p99;
        line.push(
          `${kind}: sign-in ${fmt(x.signIn.rate, 1)}/s (${fmt(x.throughputRatio, 3)}×), p99 ${fmt(x.alone.p99)} → ${fmt(x.flood.p99)} ms (${fmt(x.p99Ratio, 2)}×), ` +
            `flood ${fmt(x.flood.flood.rate, 1)}/s ${JSON.stringify(x.flood.flood.failed)}, loop waited ${fmt(x.flood.loopWait * 100, 0)}%`,
        );
      }
      console.log(line.join('; '));
      rounds.push(round);
    }
    return { name, calibration, concurrency, rounds, nices };
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
}

async function main() {
  const started = Date.now();
  requireBuild('bench:sign-in');
  const machine = machineLine(); // before pinning: this process would see one core
  const tmp = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-sign-in-'));
  if (PIN) pin(process.pid, 1);
  const load = os.loadavg();
  const results = [];
  let rawHasher;
  let postgres;
  try {
    rawHasher = await startRaw();
    results.push(await measureDatabase('SQLite', `sqlite:${join(tmp, 'gatehouse.db')}`, rawHasher));
    if (process.env.BENCH_POSTGRES !== '0') {
      postgres = await startPostgres({ pinToCore: 0 });
      results.push(await measureDatabase('PostgreSQL', postgres.url, rawHasher));
    }
  } finally {
    rawHasher?.close();
    await postgres?.stop?.();
    rmSync(tmp, { recursive: true, force: true });
    for (const agent of Object.values(agents)) agent.destroy();
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const settings = { ROUNDS, THROUGHPUT_S, LATENCY_S, RATE, FLOOD, USERS, CONCURRENCIES, GOALS, PIN, HASHERS, parameters: rawHasher.parameters };
  const section = renderSection({ SECTION, results, settings, seconds, stamp: runStamp(), machine, loadStart: load, loadEnd: os.loadavg(), postgres });
  writeSection(SECTION, section);
  console.log(`\n${section}\ntotal ${seconds} s; written to docs/benchmarks.md`);
}

// Last, so that every module-level constant above is initialised before any role runs.
if (process.argv[2] === '--raw') await raw();
else if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4]);
else await main();
