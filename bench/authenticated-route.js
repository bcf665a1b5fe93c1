// Issue 4's throughput goals for Bearer routes, measured side by side in one run (design §8):
//   1. a client reusing its token: the full authenticator (verified-token cache, revocation
//      view) serves ≥ 0.6× the requests per second of an unauthenticated route on the same node;
//   2. a fresh token on every request (the cache cannot help): ≥ 0.9× the same route doing only
//      the raw signature check.
// Kept because they are cheap: the revocation lookup's own cost (the same authenticator with
// and without it, in a normal view and in one of 100,000 entries), GET /v1/me, and direct
// timings of the pieces (among them VerifiedTokenCache.set() on a full cache, which evicts).
//
//   npm run bench        (builds, then: node bench/authenticated-route.js)
//   BENCH_ROUNDS=20 BENCH_SECONDS=2 node bench/authenticated-route.js     (a longer look)
//   BENCH_PIN=0 …        (do not pin the nodes and the load generator to separate cores)
//
// Two Gatehouse nodes run in child processes (this file with `--serve`), on one SQLite file: one
// with its real revocation view, one whose view also holds 100,000 revoked sessions. Each adds
// bench-only routes to the app `createGatehouse` builds (so every request passes the app's own
// hooks): an unauthenticated one, Bearer ones guarded by `authenticator()` as the app wires it,
// one doing jose's `compactVerify` and nothing else, one doing `verifyAccessToken` without a
// cache (signature and claims, what a stateless JWT check costs). All answer the same small
// JSON. Fresh tokens are minted beforehand in the node with its own key ring for real sessions,
// three times as many as the cache holds, and each variant cycles through them in order, so a
// token comes back only after the cache (first in, first out) has forgotten it; the node counts
// cache hits during every run to show it. Load comes from autocannon's API in a third process
// (`--load`). The machine's speed drifts from one second to the next, so variants run in short
// measurements that alternate quickly, round after round, and medians are reported. Variants
// compared with each other share a process: two identical nodes in separate processes came out
// 5–10% apart for their whole lifetime.

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dist, fmt, machineCpu, machineLine, median, PIN, pin, requireBuild, runStamp, threadCpuMs, writeSection } from './lib.js';

// The defaults keep a run between two and three minutes.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 14);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 0.75);
const WARMUP_S = 1;
const CONNECTIONS = 10;
const REVOKED_ENTRIES = 100_000;
/** Real sessions the fresh tokens are minted for (each sign-in costs an argon2 hash). */
const TOKEN_SESSIONS = 16;
/** The pool of fresh tokens, in multiples of the verified-token cache's capacity. */
const POOL_PER_CAPACITY = 3;
const PASSWORD = 'bench-password-1234';
const GOALS = { reused: 0.6, fresh: 0.9 };
/** What the routes that know no session answer: as long as a real session id, so every answer has the same size. */
const FIXED_ANSWER = { session_id: 'A'.repeat(22) };

// ---------------------------------------------------------------------------------------------
// A node: Gatehouse as `npm start` builds it, plus bench-only routes.

async function serve(kind, databasePath) {
  const { loadConfig } = await import(dist('config.js'));
  const { createGatehouse } = await import(dist('gatehouse.js'));
  const { authenticator } = await import(dist('http/plugins/authenticate.js'));
  const { signAccessToken, verifyAccessToken } = await import(dist('core/access-token.js'));
  const { VerifiedTokenCache, DEFAULT_CACHE_CAPACITY } = await import(dist('core/verified-token-cache.js'));
  const { compactVerify } = await import('jose');
  // Timed directly without the hit counter's wrapper around it.
  const cacheSet = VerifiedTokenCache.prototype.set;
  const cacheStats = countCacheHits(VerifiedTokenCache);

  const gatehouse = await createGatehouse(loadConfig({ DATABASE_URL: `sqlite:${databasePath}`, LOG_LEVEL: 'silent' }));
  const { app, ctx, view, activity, sync } = gatehouse;
  if (kind === 'revoked100k') {
    // Shaped like real session ids (core/random.ts), revoked now so that pruning keeps them.
    const now = Date.now();
    view.revoked(Array.from({ length: REVOKED_ENTRIES }, () => ({ id: randomBytes(16).toString('base64url'), revokedAt: now })));
  }
  const publicKey = await ctx.keys.verificationKey(ctx.keys.signingKey().kid);
  const bearer = (request) => request.headers.authorization.slice('Bearer '.length);

  // The authenticator exactly as buildApp() wires it (its own verified-token cache per call).
  const full = () => authenticator(ctx, view, activity, sync);
  const answer = async (request) => ({ session_id: request.caller.sessionId });
  app.get('/bench/open', async () => FIXED_ANSWER);
  // The same with an empty async onRequest hook: the share of Fastify's hook machinery.
  app.get('/bench/hook', { onRequest: async () => {} }, async () => FIXED_ANSWER);
  app.get('/bench/check', { onRequest: full() }, answer);
  // The very same authenticator, with a view whose lookup answers "not revoked" without looking.
  app.get('/bench/nocheck', { onRequest: authenticator(ctx, { isRevoked: () => false }, activity, sync) }, answer);
  // Its own authenticator, so that fresh tokens never meet the reused token's cache.
  app.get('/bench/fresh', { onRequest: full() }, answer);
  // Signature and claims, no cache, no revocation: a stateless JWT check.
  app.get('/bench/jwt', async (request) => ({ session_id: (await verifyAccessToken(bearer(request), ctx.keys, ctx.tokens, ctx.clock.now())).sessionId }));
  // The raw signature check and nothing else.
  app.get('/bench/raw', async (request) => {
    await compactVerify(bearer(request), publicKey, { algorithms: ['EdDSA'] });
    return FIXED_ANSWER;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });

  // Garbage-collection pauses, to see whether a variant costs anything that way.
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });

  let pool = [];
  process.on('message', async (message) => {
    if (message.type === 'cpu') {
      process.send({
        type: 'cpu',
        total: process.cpuUsage(),
        mainThreadMs: threadCpuMs(`/proc/self/task/${process.pid}/stat`, 11),
        gcMs,
        cache: { ...cacheStats },
      });
    } else if (message.type === 'mint') {
      const t0 = performance.now();
      pool = await mint(message.subjects, message.count, (subject) => signAccessToken(ctx.keys, ctx.tokens, subject, ctx.clock.now()));
      process.send({ type: 'mint', tokens: pool, ms: performance.now() - t0 });
    } else if (message.type === 'micro') {
      const tools = { view, ctx, verifyAccessToken, VerifiedTokenCache, cacheSet, compactVerify, publicKey, authenticate: full() };
      process.send({ type: 'micro', ...(await micro(message, tools, pool)) });
    } else if (message.type === 'close') {
      await gatehouse.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: app.server.address().port, viewSize: view.size, capacity: DEFAULT_CACHE_CAPACITY });
}

/**
 * Counts lookups in every VerifiedTokenCache of this process that found the token, and the
 * largest size seen: a wrapper around `get` and `set` (a few nanoseconds a call).
 */
function countCacheHits(VerifiedTokenCache) {
  const stats = { hits: 0, misses: 0, largest: 0 };
  const { get, set } = VerifiedTokenCache.prototype;
  VerifiedTokenCache.prototype.get = function (token) {
    const found = get.call(this, token);
    if (found) stats.hits++;
    else stats.misses++;
    return found;
  };
  VerifiedTokenCache.prototype.set = function (token, verified) {
    set.call(this, token, verified);
    if (this.size > stats.largest) stats.largest = this.size;
  };
  return stats;
}

/** `count` distinct tokens, round robin over `subjects`, a batch at a time. */
async function mint(subjects, count, sign) {
  const tokens = [];
  for (let i = 0; i < count; i += 200) {
    const batch = Array.from({ length: Math.min(200, count - i) }, (_, k) => sign(subjects[(i + k) % subjects.length]));
    for (const signed of await Promise.all(batch)) tokens.push(signed.token);
  }
  return tokens;
}

/** Direct timings, after the load. */
async function micro({ token, all }, t, pool) {
  const timeNs = async (n, fn) => {
    for (let i = 0; i < Math.min(n, 1000); i++) await fn(i);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn(i);
    return Number(process.hrtime.bigint() - start) / n;
  };
  // Ids that are not in the view, as for a live token.
  const ids = Array.from({ length: 1024 }, () => randomBytes(16).toString('base64url'));
  let hits = 0;
  const lookups = 5_000_000;
  for (let i = 0; i < 200_000; i++) if (t.view.isRevoked(ids[i & 1023])) hits++;
  let start = process.hrtime.bigint();
  for (let i = 0; i < lookups; i++) if (t.view.isRevoked(ids[i & 1023])) hits++;
  const lookupNs = Number(process.hrtime.bigint() - start) / lookups;
  const result = { lookupNs, viewSize: t.view.size, hits };
  if (!all) return result;

  const { ctx } = t;
  // In alternating batches, so that the machine's drift hits both alike; medians of the batches.
  const verifyNs = [];
  const rawNs = [];
  for (let batch = 0; batch < 10; batch++) {
    verifyNs.push(await timeNs(300, () => t.verifyAccessToken(token, ctx.keys, ctx.tokens, ctx.clock.now())));
    rawNs.push(await timeNs(300, () => t.compactVerify(token, t.publicKey, { algorithms: ['EdDSA'] })));
  }
  result.verifyUs = median(verifyNs) / 1000;
  result.rawUs = median(rawNs) / 1000;
  result.verifyOverRawUs = median(verifyNs.map((ns, i) => ns - rawNs[i])) / 1000;
  const cache = new t.VerifiedTokenCache();
  result.cachedUs = (await timeNs(200_000, () => t.verifyAccessToken(token, ctx.keys, ctx.tokens, ctx.clock.now(), cache))) / 1000;
  const request = { query: {}, headers: { authorization: `Bearer ${token}` }, caller: null };
  result.authenticateUs = (await timeNs(200_000, () => t.authenticate(request, {}))) / 1000;
  // authenticate.ts's Bearer pattern (RFC 6750 §2.1), copied: what the parsing alone costs.
  const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
  let matched = 0;
  result.bearerRegexUs = (await timeNs(200_000, () => (matched += BEARER.exec(request.headers.authorization)[1].length))) / 1000;
  result.tokenLength = token.length;

  // A full cache evicting on every insert, as on the fresh-token route: the pool's tokens in
  // order, each one forgotten long before it comes back; the entry as verifyAccessToken makes it.
  const { claims, kid } = cache.get(token);
  const entry = { claims, kid };
  const full = new t.VerifiedTokenCache();
  const keys = pool.length > full.capacity ? pool : Array.from({ length: 3 * full.capacity }, () => randomBytes(360).toString('base64url'));
  for (let i = 0; i < keys.length; i++) t.cacheSet.call(full, keys[i], entry);
  const inserts = 300_000;
  start = process.hrtime.bigint();
  for (let i = 0; i < inserts; i++) t.cacheSet.call(full, keys[i % keys.length], entry);
  result.cacheSetNs = Number(process.hrtime.bigint() - start) / inserts;
  result.capacity = full.capacity;
  return result;
}

// ---------------------------------------------------------------------------------------------
// The load generator: autocannon's API in its own process, driven over IPC.

async function generateLoad() {
  const { default: autocannon } = await import('autocannon');
  let pool = [];
  // Each variant walks the pool from where it stopped, so that a route sees every other token
  // of the pool before one comes back.
  const cursors = new Map();
  process.on('message', async (message) => {
    if (message.type === 'pool') {
      pool = message.tokens;
      return process.send({ type: 'pool' });
    }
    const { url, token, fresh, seconds, amount } = message;
    const options = {
      url,
      connections: CONNECTIONS,
      ...(amount ? { amount } : { duration: seconds }),
      headers: token ? { authorization: `Bearer ${token}` } : {},
    };
    const before = cursors.get(fresh) ?? 0;
    if (fresh) {
      let cursor = before;
      options.requests = [
        {
          setupRequest: (request) => {
            request.headers = { ...request.headers, authorization: `Bearer ${pool[cursor++ % pool.length]}` };
            return request;
          },
        },
      ];
      const result = await run(autocannon, options);
      cursors.set(fresh, cursor);
      return process.send({ type: 'run', ...result, tokensUsed: cursor - before });
    }
    process.send({ type: 'run', ...(await run(autocannon, options)) });
  });
  process.send({ type: 'ready' });
}

async function run(autocannon, options) {
  const cpu = process.cpuUsage();
  const result = await autocannon(options);
  const used = process.cpuUsage(cpu);
  return {
    total: result.requests.total,
    duration: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
    cpuMs: (used.user + used.system) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// Orchestration.

async function main() {
  const started = Date.now();
  requireBuild('bench');
  const tmp = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-'));
  const databasePath = join(tmp, 'gatehouse.db');
  const nodes = [];
  let loader;
  const loadAtStart = os.loadavg();
  try {
    loader = await startLoader();
    // 1. One user: one session whose token is reused, one signed out before the other node
    //    starts (so that both views know it: one fed by the revocation, one loaded from the
    //    database), and the sessions the fresh tokens belong to.
    const normal = await startNode('normal', databasePath);
    nodes.push(normal);
    const base = `http://127.0.0.1:${normal.port}`;
    const credentials = { email: 'bench@example.com', password: PASSWORD };
    await request(base, 'POST', '/v1/auth/register', { body: credentials, expect: 201 });
    // Distinct user agents: a second sign-in from the same device would replace the first session.
    const login = (device) => request(base, 'POST', '/v1/auth/login', { body: credentials, userAgent: `bench/${device}`, expect: 200 });
    const kept = await login('kept');
    const ended = await login('signed-out');
    await request(base, 'DELETE', `/v1/me/sessions/${ended.session.id}`, { token: kept.access_token, expect: 204 });
    const subjects = [];
    for (let i = 0; i < TOKEN_SESSIONS; i++) subjects.push(subjectOf((await login(`fresh-${i}`)).access_token));
    const big = await startNode('revoked100k', databasePath);
    nodes.push(big);
    const token = kept.access_token;

    // 2. The fresh tokens, minted by the normal node with its key ring, handed to the load process.
    const { capacity } = normal;
    const { tokens: pool, ms: mintMs } = await normal.ask({ type: 'mint', subjects, count: POOL_PER_CAPACITY * capacity }, 'mint');
    if (new Set(pool).size !== pool.length) throw new Error('the fresh tokens are not all distinct');
    await loader.ask({ type: 'pool', tokens: pool }, 'pool');

    // 3. Each route does what its name says.
    for (const node of nodes) {
      const url = `http://127.0.0.1:${node.port}`;
      for (const path of ['/bench/check', '/bench/nocheck', '/bench/fresh', '/bench/jwt', '/bench/raw', '/v1/me'])
        await request(url, 'GET', path, { token, expect: 200 });
      for (const path of ['/bench/check', '/bench/fresh', '/v1/me']) await request(url, 'GET', path, { token: ended.access_token, expect: 401 });
      for (const path of ['/bench/nocheck', '/bench/jwt', '/bench/raw']) await request(url, 'GET', path, { token: ended.access_token, expect: 200 });
      for (const path of ['/bench/check', '/bench/fresh', '/bench/jwt', '/bench/raw'])
        await request(url, 'GET', path, { token: `${token.slice(0, -4)}AAAA`, expect: [401, 500] });
      await request(url, 'GET', '/bench/check', { expect: 401 });
      await request(url, 'GET', '/bench/open', { expect: 200 });
      await request(url, 'GET', '/bench/hook', { token: ended.access_token, expect: 200 });
      await request(url, 'GET', '/bench/fresh', { token: pool[pool.length - 1], expect: 200 });
    }

    const n = REVOKED_ENTRIES.toLocaleString('en');
    const variants = [
      { id: 'open', label: 'no authentication (same answer)', node: normal, path: '/bench/open' },
      { id: 'hook', label: 'no authentication, an empty async onRequest hook, the same Bearer header sent', node: normal, path: '/bench/hook', token },
      { id: 'check', label: 'Bearer, full authenticator, reused token', node: normal, path: '/bench/check', token },
      { id: 'nocheck', label: 'Bearer, full authenticator without the revocation lookup, reused token', node: normal, path: '/bench/nocheck', token },
      { id: 'fresh', label: 'Bearer, full authenticator, fresh token each request', node: normal, path: '/bench/fresh', fresh: 'fresh' },
      { id: 'jwt', label: '`verifyAccessToken` without cache (signature + claims), fresh tokens', node: normal, path: '/bench/jwt', fresh: 'jwt' },
      { id: 'raw', label: 'raw signature check only (`compactVerify`), fresh tokens', node: normal, path: '/bench/raw', fresh: 'raw' },
      { id: 'check100k', label: `Bearer, full authenticator, reused token, ${n} revoked in view`, node: big, path: '/bench/check', token },
      { id: 'nocheck100k', label: `Bearer, without the revocation lookup, reused token, ${n} in view`, node: big, path: '/bench/nocheck', token },
      { id: 'me', label: 'GET /v1/me (full authenticator + one SQLite read), reused token', node: normal, path: '/v1/me', token },
    ];
    const byId = Object.fromEntries(variants.map((v) => [v.id, { ...v, runs: [] }]));
    // Variants compared with each other run back to back in one block; the order inside each
    // block and the order of the blocks rotate by round, so neither drift nor position favours one.
    const blocks = [['open', 'hook', 'check', 'nocheck'], ['fresh', 'jwt', 'raw'], ['check100k', 'nocheck100k'], ['me']];

    console.log(
      `gatehouse bench: nproc ${os.availableParallelism()}, node ${process.version}, ${PIN ? 'nodes on core 0, autocannon on core 1' : 'no CPU pinning'}; ` +
        `revoked sessions in the views: ${normal.viewSize} and ${big.viewSize.toLocaleString('en')}; ` +
        `${pool.length.toLocaleString('en')} fresh tokens minted in ${fmt(mintMs / 1000, 1)} s for ${TOKEN_SESSIONS} sessions (cache capacity ${capacity.toLocaleString('en')})`,
    );
    console.log(`warm-up ${WARMUP_S} s per variant, then ${ROUNDS} rounds × ${variants.length} variants × ${DURATION_S} s, ${CONNECTIONS} connections`);
    // The fresh route's warm-up fills its cache past capacity, so every measured run evicts.
    for (const v of variants) await loader.run(v, v.id === 'fresh' ? { amount: capacity + 2000 } : { seconds: WARMUP_S });

    for (let round = 0; round < ROUNDS; round++) {
      const order = blocks.map((_, k) => blocks[(round + k) % blocks.length]).flatMap((block) => block.map((_, k) => block[(round + k) % block.length]));
      for (const id of order) {
        const run = await measured(loader, byId[id]);
        byId[id].runs[round] = run;
        console.log(
          `  round ${String(round + 1).padStart(2)}  ${id.padEnd(12)}${fmt(run.rps, 0).padStart(7)} req/s  p99 ${String(run.p99).padStart(2)} ms  ` +
            `node ${fmt(run.cpuUs, 0)} µs/req, cache hits ${run.cacheHitRate === undefined ? '–' : `${fmt(run.cacheHitRate * 100, 1)}%`}; ` +
            `CPU, % of a core: node ${fmt(run.nodeCpu, 0)} (event loop ${fmt(run.loopCpu, 0)}, GC ${fmt(run.gc, 1)}), autocannon ${fmt(run.loadgenCpu, 0)}, other ${fmt(run.otherCpu, 0)}`,
        );
      }
    }

    const microNormal = await normal.ask({ type: 'micro', token, all: true }, 'micro');
    const microBig = await big.ask({ type: 'micro', token }, 'micro');
    const cacheAfter = (await normal.ask({ type: 'cpu' }, 'cpu')).cache;
    const report = {
      ...summarize(byId),
      microNormal,
      microBig,
      pool: { size: pool.length, capacity, mintMs, largestCache: cacheAfter.largest },
      load: { start: loadAtStart, end: os.loadavg() },
      seconds: Math.round((Date.now() - started) / 1000),
    };
    printReport(report);
    writeSection(SECTION, renderSection(report));
  } finally {
    for (const node of nodes) await stopNode(node);
    if (loader) loader.child.kill();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Who a token is for, from its payload (signature unchecked: we just received it from the node). */
function subjectOf(accessToken) {
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
  return { userId: claims.sub, sessionId: claims.sid, authTime: claims.auth_time * 1000 };
}

/** A child process running this file with `args`; `ask` sends a message and waits for the reply of that type. */
function startChild(args, core) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const waiting = new Map();
    const proc = {
      child,
      ask: (message, reply) =>
        new Promise((done, fail) => {
          waiting.set(reply, { done, fail });
          child.send(message);
        }),
    };
    child.on('message', (message) => {
      if (message.type !== 'ready') {
        const waiter = waiting.get(message.type);
        waiting.delete(message.type);
        return waiter?.done(message);
      }
      // Every thread of the process on its core; threads started later inherit it.
      pin(child.pid, core);
      resolve(Object.assign(proc, message));
    });
    child.once('exit', (code) => {
      const error = new Error(`${args.join(' ')} exited with ${code}`);
      reject(error);
      for (const waiter of waiting.values()) waiter.fail(error);
    });
  });
}

const startNode = (kind, databasePath) => startChild(['--serve', kind, databasePath], 0).then((node) => Object.assign(node, { kind }));

async function stopNode(node) {
  if (node.child.exitCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.send({ type: 'close' });
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function request(base, method, path, { body, token, userAgent, expect }) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  if (userAgent) headers['user-agent'] = userAgent;
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (![expect].flat().includes(response.status)) throw new Error(`${method} ${path}: expected ${expect}, got ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The load process; `run` measures one variant, and every response must be a 2xx. */
async function startLoader() {
  const loader = await startChild(['--load'], 1);
  loader.run = async (variant, { seconds, amount }) => {
    const result = await loader.ask(
      { url: `http://127.0.0.1:${variant.node.port}${variant.path}`, token: variant.token, fresh: variant.fresh, seconds, amount },
      'run',
    );
    const { non2xx, errors, timeouts } = result.failed;
    if (non2xx + errors + timeouts > 0) throw new Error(`${variant.id}: failed requests (non-2xx ${non2xx}, errors ${errors}, timeouts ${timeouts})`);
    return result;
  };
  return loader;
}

/** A measured run: autocannon's figures, and who used the CPU over the same window. */
async function measured(loader, variant) {
  const before = { node: await variant.node.ask({ type: 'cpu' }, 'cpu'), machine: machineCpu() };
  const t0 = process.hrtime.bigint();
  const result = await loader.run(variant, { seconds: DURATION_S });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = { node: await variant.node.ask({ type: 'cpu' }, 'cpu'), machine: machineCpu() };
  // Shares of one core over the run.
  const share = (ms) => (100 * ms) / wallMs;
  const nodeMs = (after.node.total.user + after.node.total.system - before.node.total.user - before.node.total.system) / 1000;
  const nodeCpu = share(nodeMs);
  const loadgenCpu = share(result.cpuMs);
  const machine = (after.machine.busy - before.machine.busy) / (after.machine.all - before.machine.all);
  const hits = after.node.cache.hits - before.node.cache.hits;
  const lookups = hits + after.node.cache.misses - before.node.cache.misses;
  return {
    rps: result.total / result.duration,
    p50: result.p50,
    p99: result.p99,
    // Node CPU per request served, over the run's wall time (a little idle time at both ends included).
    cpuUs: (nodeMs * 1000) / result.total,
    nodeCpu,
    loopCpu: share(after.node.mainThreadMs - before.node.mainThreadMs),
    gc: share(after.node.gcMs - before.node.gcMs),
    gcUs: ((after.node.gcMs - before.node.gcMs) * 1000) / result.total,
    loadgenCpu,
    // Everything else on the machine (other processes, this script), in % of one core.
    otherCpu: Math.max(0, machine * 100 * os.availableParallelism() - nodeCpu - loadgenCpu),
    cacheHitRate: lookups > 0 ? hits / lookups : undefined,
    cacheLookups: lookups,
    tokensUsed: result.tokensUsed,
  };
}

// ---------------------------------------------------------------------------------------------
// Summary and report.

const entries = (n) => `${n.toLocaleString('en')} entr${n === 1 ? 'y' : 'ies'}`;
const pct = (x, digits = 0) => (x === undefined ? '–' : `${fmt(x * 100, digits)}%`);

function summarize(byId) {
  const rows = Object.values(byId).map((v) => {
    const of = (key) => v.runs.map((r) => r[key]);
    const lookups = of('cacheLookups').reduce((a, b) => a + b, 0);
    const hits = v.runs.reduce((sum, r) => sum + (r.cacheHitRate ?? 0) * r.cacheLookups, 0);
    return {
      id: v.id,
      label: v.label,
      rps: median(of('rps')),
      rpsMin: Math.min(...of('rps')),
      rpsMax: Math.max(...of('rps')),
      p50: median(of('p50')),
      p99: median(of('p99')),
      cpuUs: median(of('cpuUs')),
      nodeCpu: median(of('nodeCpu')),
      loopCpu: median(of('loopCpu')),
      gc: median(of('gc')),
      gcUs: median(of('gcUs')),
      loadgenCpu: median(of('loadgenCpu')),
      loadgenCpuMax: Math.max(...of('loadgenCpu')),
      otherCpu: median(of('otherCpu')),
      otherCpuMax: Math.max(...of('otherCpu')),
      // Over all measured runs; only the authenticator's routes look in a cache.
      cacheHitRate: lookups > 0 ? Math.round(hits) / lookups : undefined,
      tokensPerRun: v.fresh ? median(of('tokensUsed')) : undefined,
      tokensMax: v.fresh ? Math.max(...of('tokensUsed')) : undefined,
    };
  });
  // Paired by round (the runs seconds apart), then the median of the per-round ratios.
  // Also by node CPU per request (b's over a's): what one core can serve of each, which holds
  // better than req/s when other work takes part of the node's core.
  const ratio = (a, b, note, goal) => {
    const perRound = byId[a].runs.map((r, i) => r.rps / byId[b].runs[i].rps);
    const perRoundCpu = byId[a].runs.map((r, i) => byId[b].runs[i].cpuUs / r.cpuUs);
    const cpuSaved = median(byId[a].runs.map((r, i) => byId[b].runs[i].cpuUs - r.cpuUs));
    const gcSaved = median(byId[a].runs.map((r, i) => byId[b].runs[i].gcUs - r.gcUs));
    return { name: `${a} / ${b}`, note, goal, median: median(perRound), perRound, cpu: median(perRoundCpu), perRoundCpu, cpuSaved, gcSaved };
  };
  const n = REVOKED_ENTRIES.toLocaleString('en');
  const ratios = [
    ratio('check', 'open', 'goal 1: reused token, full authenticator against no authentication', GOALS.reused),
    ratio('fresh', 'raw', 'goal 2: fresh tokens, full authenticator against the raw signature check', GOALS.fresh),
    ratio('jwt', 'raw', 'fresh tokens: claims checks and key lookup on top of the signature'),
    ratio('fresh', 'jwt', 'fresh tokens: cache miss and insert, revocation lookup, activity, on top of the JWT check'),
    ratio('check', 'hook', 'reused token: the authenticator against an empty hook, same header'),
    ratio('hook', 'open', 'an empty async onRequest hook and a 500-byte Authorization header'),
    ratio('check', 'fresh', 'what the cache gains: reused against fresh token'),
    ratio('check', 'nocheck', 'the revocation lookup, normal view (same process)'),
    ratio('check100k', 'nocheck100k', `the revocation lookup, ${n} entries in the view (same process)`),
    ratio('check100k', 'check', 'large view against normal view (two processes)'),
    ratio('me', 'check', 'a real route (one SQLite read) against the auth-only route'),
  ];
  return { rows, ratios };
}

const verdict = (q, x = q.median) => (q.goal === undefined ? '' : x >= q.goal ? 'pass' : 'MISS');
const mark = (q, x) => (verdict(q, x) === 'pass' ? 'pass' : '**miss**');

function printReport(report) {
  const { rows, ratios, microNormal: m, microBig, seconds } = report;
  console.log('');
  console.log(
    `${'variant'.padEnd(12)}${'req/s'.padStart(7)}  ${'min – max'.padEnd(15)}${'p50'.padStart(5)}${'p99'.padStart(5)}  µs/req  hits  CPU, % of a core: node (event loop, GC) / autocannon / other`,
  );
  for (const r of rows) {
    console.log(
      `${r.id.padEnd(12)}${fmt(r.rps, 0).padStart(7)}  ${`${fmt(r.rpsMin, 0)} – ${fmt(r.rpsMax, 0)}`.padEnd(15)}${String(r.p50).padStart(5)}${String(r.p99).padStart(5)}  ` +
        `${fmt(r.cpuUs, 0).padStart(6)}  ${pct(r.cacheHitRate).padStart(4)}  ${fmt(r.nodeCpu, 0)} (${fmt(r.loopCpu, 0)}, ${fmt(r.gc, 1)}) / ${fmt(r.loadgenCpu, 0)} / ${fmt(r.otherCpu, 0)}`,
    );
  }
  console.log('');
  for (const q of ratios) {
    console.log(
      `${q.name.padEnd(26)}${fmt(q.median, 3)} ${q.goal === undefined ? '' : `(goal ≥ ${q.goal}: ${verdict(q)}) `}  by CPU per request ${fmt(q.cpu, 3)} ${q.goal === undefined ? '' : `(${verdict(q, q.cpu)}) `}` +
        `  per round ${q.perRound.map((x) => fmt(x, 2)).join(', ')}   (${q.note})`,
    );
  }
  console.log('');
  console.log(
    `isRevoked(): ${fmt(m.lookupNs, 1)} ns per lookup with ${entries(m.viewSize)} in the view, ${fmt(microBig.lookupNs, 1)} ns with ${entries(microBig.viewSize)}`,
  );
  console.log(
    `one at a time, awaited: verifyAccessToken() ${fmt(m.verifyUs, 1)} µs uncached, ${fmt(m.cachedUs, 2)} µs cached; compactVerify() ${fmt(m.rawUs, 1)} µs; ` +
      `the authenticator on a reused token ${fmt(m.authenticateUs, 2)} µs (Bearer regex ${fmt(m.bearerRegexUs, 2)} µs); VerifiedTokenCache.set() when full ${fmt(m.cacheSetNs / 1000, 2)} µs`,
  );
  console.log('');
  console.log(reading(report));
  console.log('');
  console.log(`total ${seconds} s; written to docs/benchmarks.md`);
}

/** The reading, worded from this run's figures. */
function reading({ rows, ratios, microNormal: m, microBig, pool, load }) {
  const row = Object.fromEntries(rows.map((r) => [r.id, r]));
  const q = Object.fromEntries(ratios.map((r) => [r.name, r]));
  const range = (r) => `${fmt(Math.min(...r.perRound), 2)}–${fmt(Math.max(...r.perRound), 2)}`;
  const both = (r) => `${fmt(r.median, 2)}× by req/s, ${fmt(r.cpu, 2)}× by CPU per request`;
  const goal = (r) => {
    const [a, b] = [verdict(r), verdict(r, r.cpu)];
    return a === b
      ? `**${a === 'pass' ? 'pass' : 'miss'}**`
      : `**${a === 'pass' ? 'pass' : 'miss'}** by req/s, **${b === 'pass' ? 'pass' : 'miss'}** by CPU per request`;
  };
  const goal1 = q['check / open'];
  const goal2 = q['fresh / raw'];
  const us = (x) => `${fmt(x, Math.abs(x) < 10 ? 1 : 0)} µs`;
  // Node CPU per request that a fresh token adds, as medians of the per-round differences.
  const jwtOverRaw = -q['jwt / raw'].cpuSaved;
  const overJwt = -q['fresh / jwt'].cpuSaved;
  const hookOverOpen = Math.max(0, -q['hook / open'].cpuSaved);
  const gcOverJwt = -q['fresh / jwt'].gcSaved;
  // What the direct timings and the extra GC pauses leave of the authenticator's share.
  const unexplained = overJwt - m.cacheSetNs / 1000 - m.authenticateUs - hookOverOpen - Math.max(0, gcOverJwt);
  const text = [];
  text.push(
    `**Reading.** Goal 1, a reused token: the Bearer route with the full authenticator served ${both(goal1)} of the unauthenticated route on the same node ` +
      `(rounds ${range(goal1)}; goal ≥ ${GOALS.reused}×: ${goal(goal1)}).` +
      (row.open.loadgenCpuMax >= 90
        ? ` Autocannon used ${fmt(row.open.loadgenCpu, 0)}% of its core on the unauthenticated route (median; up to ${fmt(row.open.loadgenCpuMax, 0)}%), so in some runs that route may be under-measured by req/s; the ratio by CPU per request does not depend on it.`
        : ''),
  );
  text.push(
    `The node spent ${fmt(row.check.cpuUs, 1)} µs of CPU per request against ${fmt(row.open.cpuUs, 1)} µs unauthenticated (medians; a difference of ${fmt(row.check.cpuUs - row.open.cpuUs, 1)} µs) ` +
      `and ${fmt(row.hook.cpuUs, 1)} µs with only an empty async onRequest hook and the same header (hook / open: ${both(q['hook / open'])}; check / hook: ${both(q['check / hook'])}). ` +
      `Called directly on a cached token, without Fastify, the authenticator takes ${fmt(m.authenticateUs, 2)} µs ` +
      `(${fmt(m.cachedUs, 2)} µs of it in \`verifyAccessToken\`'s cache path, ${fmt(m.bearerRegexUs, 2)} µs in the Bearer regular expression over a ${m.tokenLength}-character token); cache hits ${pct(row.check.cacheHitRate, 1)}.`,
  );
  text.push(
    `Goal 2, a fresh token on every request: ${both(goal2)} of the route doing only \`compactVerify\` (rounds ${range(goal2)}; goal ≥ ${GOALS.fresh}×: ${goal(goal2)}). ` +
      `The cache found none of them (hits ${pct(row.fresh.cacheHitRate, 2)} over the measured runs; a run used at most ${row.fresh.tokensMax.toLocaleString('en')} tokens of the pool of ${pool.size.toLocaleString('en')}, ` +
      `and the cache held at most ${pool.largestCache.toLocaleString('en')} of its ${pool.capacity.toLocaleString('en')}). ` +
      `Where the node's extra CPU goes, per request, as medians of the per-round differences (runs seconds apart, so the machine's drift largely cancels; ` +
      `the per-variant medians in the table, ${us(row.raw.cpuUs)}, ${us(row.jwt.cpuUs)} and ${us(row.fresh.cpuUs)}, come from different rounds and do not subtract as cleanly): ` +
      `the JWT check costs ${us(jwtOverRaw)} more than the raw check (jwt / raw: ${both(q['jwt / raw'])}), and the full authenticator ${us(overJwt)} more than the JWT check (fresh / jwt: ${both(q['fresh / jwt'])}). ` +
      `The first part is \`verifyAccessToken\`'s own work around the signature (the key lookup by \`kid\`, \`jwtVerify\`'s payload parsing and claims checks, reading the claims; ` +
      `timed directly, one call at a time in alternating batches, it takes ${us(m.verifyOverRawUs)} more than \`compactVerify\`). ` +
      (q['jwt / raw'].median < GOALS.fresh + 0.02
        ? `That alone brings the JWT check to ${fmt(q['jwt / raw'].median, 2)}× the raw rate, so the ${GOALS.fresh}× goal leaves the rest of the authenticator next to no margin. `
        : '') +
      `Of the authenticator's ${us(overJwt)}: timed directly, inserting the token into the full cache, which evicts the oldest entry, takes ${us(m.cacheSetNs / 1000)}; ` +
      `the rest of the authenticator's per-request work (Bearer parsing, the cache lookup, the revocation and staleness checks, last activity) is about what it costs on a cached token, ${us(m.authenticateUs)}; ` +
      (hookOverOpen >= 0.5
        ? `and running as an async onRequest hook costs at most ${us(hookOverOpen)} (hook − open under load, which includes reading the header). `
        : `and running as an async onRequest hook cost nothing measurable here (hook / open: ${both(q['hook / open'])}). `) +
      (gcOverJwt >= 0.5
        ? `GC pauses took ${us(gcOverJwt)} more per request on the fresh-token route than on the JWT route (${us(row.fresh.gcUs)} against ${us(row.jwt.gcUs)}); the cache keeps the last ${pool.capacity.toLocaleString('en')} tokens and their claims alive, which the JWT route drops after each request. `
        : `GC pauses took no more on the fresh-token route than on the JWT route (${us(row.fresh.gcUs)} against ${us(row.jwt.gcUs)} per request). `) +
      (unexplained > 1
        ? `That leaves about ${us(unexplained)} per request that these timings do not account for; this benchmark does not break it down further.`
        : 'Together these account for the difference.'),
  );
  text.push(
    `The cache's gain on a reused token: check / fresh ${both(q['check / fresh'])}. ` +
      `The revocation lookup stays below what HTTP throughput can show: check / nocheck ${both(q['check / nocheck'])} in the normal view (rounds ${range(q['check / nocheck'])}), ` +
      `${both(q['check100k / nocheck100k'])} with ${entries(microBig.viewSize)} (rounds ${range(q['check100k / nocheck100k'])}); timed directly, a lookup takes ` +
      `${fmt(m.lookupNs, 0)} ns and ${fmt(microBig.lookupNs, 0)} ns, ${fmt((microBig.lookupNs / 1000 / row.check.cpuUs) * 100, 2)}% of a cached request's CPU. ` +
      `GET /v1/me, which adds one SQLite read, runs at ${both(q['me / check'])} of the auth-only route.`,
  );
  const otherMax = Math.max(...rows.map((r) => r.otherCpuMax));
  const swing = Math.max(...rows.map((r) => (r.rpsMax - r.rpsMin) / r.rps));
  const starved = Math.min(...rows.map((r) => r.nodeCpu));
  if (otherMax >= 15 || swing >= 0.2 || starved < 90) {
    text.push(
      `The machine was shared (load average ${fmt(load.start[0], 1)} at the start, ${fmt(load.end[0], 1)} at the end): other processes used up to ${fmt(otherMax, 0)}% of a core during some runs, ` +
        `a variant's throughput moved by up to ${fmt(swing * 100, 0)}% between rounds, and the node got as little as ${fmt(starved, 0)}% of its core (median of a variant), so absolute req/s are rough and ` +
        (starved < 90
          ? 'req/s ratios partly measure the scheduler; the ratios by CPU per request are the steadier figures here.'
          : 'the ratios, paired round by round, much less so.'),
    );
  }
  return text.join(' ');
}

// docs/benchmarks.md: this script owns one `## ` section; other sections are kept as they are.
const SECTION = '## Authenticated requests per second';

function renderSection(report) {
  const { rows, ratios, microNormal: m, microBig, pool, seconds } = report;
  const n = REVOKED_ENTRIES.toLocaleString('en');
  const lines = [SECTION, ''];
  lines.push(`Script: \`bench/authenticated-route.js\` (\`npm run bench\`). Run: ${runStamp()}, ${seconds} s in all.`);
  lines.push(machineLine(`SQLite (better-sqlite3); load average ${report.load.start.map((x) => fmt(x, 2)).join(' ')} at the start`));
  lines.push('');
  lines.push('| issue-4 goal | req/s ratio (median of per-round ratios) | rounds | result | by node CPU per request | result |');
  lines.push('|---|---:|---:|---|---:|---|');
  const goalRow = (text, q) =>
    `| ${text} | ${fmt(q.median, 2)}× | ${fmt(Math.min(...q.perRound), 2)}–${fmt(Math.max(...q.perRound), 2)} | ${mark(q, q.median)} | ${fmt(q.cpu, 2)}× | ${mark(q, q.cpu)} |`;
  lines.push(goalRow(`authenticated req/s with a reused token ≥ ${GOALS.reused}× an unauthenticated route (check / open)`, ratios[0]));
  lines.push(goalRow(`with a fresh token each request ≥ ${GOALS.fresh}× the raw signature check (fresh / raw)`, ratios[1]));
  lines.push('');
  lines.push(
    [
      '**Method.** Two Gatehouse nodes (`createGatehouse`, `LOG_LEVEL=silent`, one SQLite database in a temporary directory), each in its own process:',
      `*normal*, and *revoked100k*, whose view also holds ${n} random session ids added through \`gatehouse.view.revoked()\`.`,
      "Each node adds bench-only routes to the app it built, so every request also passes the app's own hooks; all answer `{session_id}` of the same size:",
      "`/bench/open`, unauthenticated; `/bench/hook`, the same behind an empty async `onRequest` hook (sent the reused token's header, unread); `/bench/check`, guarded by `authenticator(ctx, view, activity, sync)` from `dist/http/plugins/authenticate.js` as `buildApp` wires it",
      '(Bearer parsing, the verified-token cache or else the EdDSA signature and claims check, the revocation lookup, the staleness check, last activity);',
      '`/bench/nocheck`, the same with a view that answers "not revoked" without looking; `/bench/fresh`, another authenticator like `/bench/check`, with its own cache;',
      "`/bench/jwt`, `verifyAccessToken()` without a cache (signature and claims, a stateless JWT check); `/bench/raw`, jose's `compactVerify(token, publicKey, { algorithms: ['EdDSA'] })` and nothing else.",
      "GET /v1/me, a real route, adds one SQLite read. Before measuring, the script checks that a signed-out session's token gets 401 from the authenticator's routes and 200 from",
      'those that skip the lookup, and that a token with a broken signature is refused by all.',
      `*Reused token*: one live access token on every request. *Fresh tokens*: the normal node signs ${pool.size.toLocaleString('en')} distinct access tokens with its key ring`,
      `(\`signAccessToken\`, ${fmt(pool.mintMs / 1000, 1)} s) for ${TOKEN_SESSIONS} real sessions signed in beforehand, ${POOL_PER_CAPACITY}× the cache's capacity of ${pool.capacity.toLocaleString('en')};`,
      "autocannon's `setupRequest` gives each request the next token, each variant walking the pool from where it last stopped, so that the fresh route meets a token again",
      'only after its first-in-first-out cache has forgotten it. The node counts every lookup in its verified-token caches that finds the token (a wrapper around `get`), per run:',
      "column *cache hits*. The fresh route's warm-up fills its cache past capacity, so every measured run evicts.",
      `Load: autocannon (its API) in a separate, long-lived process, ${CONNECTIONS} connections;`,
      PIN
        ? 'the nodes (all their threads) pinned to core 0 and autocannon to core 1 (`taskset`), so load generator and server never compete and req/s are per server core.'
        : 'no CPU pinning.',
      `A ${WARMUP_S} s warm-up per variant, then ${ROUNDS} rounds of one ${DURATION_S} s run per variant. Variants compared with each other run back to back in one block`,
      "(open, hook, check, nocheck | fresh, jwt, raw | check100k, nocheck100k | me), the order inside each block and of the blocks rotating by round, because this machine's speed",
      'drifts from second to second (see min – max). Figures are medians over rounds; each ratio is the median of the per-round ratios, all from this one run.',
      "*Node CPU µs / request* is the node's CPU (all its threads) over the run divided by the requests served; a ratio *by node CPU per request* (the denominator's µs over the numerator's)",
      "compares what one core serves of each, which holds better than req/s when other work takes part of the node's core (node CPU below ~90%).",
      'CPU is in % of one core over each run: the node process (in brackets its event-loop thread and its GC pauses), autocannon, and everything else on the machine.',
    ].join(' '),
  );
  lines.push('');
  lines.push(
    '| variant | req/s (median) | min – max | p50 ms | p99 ms | node CPU µs / request | cache hits | node CPU (event loop, GC) | autocannon CPU | other CPU |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    lines.push(
      `| ${r.id}: ${r.label} | ${fmt(r.rps, 0)} | ${fmt(r.rpsMin, 0)} – ${fmt(r.rpsMax, 0)} | ${r.p50} | ${r.p99} | ${fmt(r.cpuUs, 0)} | ${pct(r.cacheHitRate, r.cacheHitRate > 0 && r.cacheHitRate < 1 ? 2 : 0)} | ` +
        `${fmt(r.nodeCpu, 0)}% (${fmt(r.loopCpu, 0)}%, ${fmt(r.gc, 1)}%) | ${fmt(r.loadgenCpu, 0)}% | ${fmt(r.otherCpu, 0)}% |`,
    );
  }
  lines.push('');
  lines.push('| ratio | what it shows | req/s ratio, median | goal | per round | by node CPU per request, median |');
  lines.push('|---|---|---:|---|---|---:|');
  for (const q of ratios) {
    lines.push(
      `| ${q.name} | ${q.note} | ${fmt(q.median, 3)} | ${q.goal === undefined ? '' : `≥ ${q.goal}: ${mark(q, q.median)}`} | ${q.perRound.map((x) => fmt(x, 2)).join(', ')} | ${fmt(q.cpu, 3)} |`,
    );
  }
  lines.push('');
  lines.push(
    `Timed directly in the normal node after the load, one call at a time, awaited: \`verifyAccessToken()\` ${fmt(m.verifyUs, 1)} µs uncached and ${fmt(m.cachedUs, 2)} µs on a cache hit; ` +
      `\`compactVerify()\` ${fmt(m.rawUs, 1)} µs; the authenticator itself on a reused token (a bare request object, no Fastify) ${fmt(m.authenticateUs, 2)} µs, the Bearer regular expression alone ${fmt(m.bearerRegexUs, 2)} µs; ` +
      `\`isRevoked()\` ${fmt(m.lookupNs, 1)} ns with ${entries(m.viewSize)} in the view and ${fmt(microBig.lookupNs, 1)} ns with ${entries(microBig.viewSize)} (ids not in the view, as for a live token); ` +
      `\`VerifiedTokenCache.set()\` on a full cache of ${m.capacity.toLocaleString('en')}, evicting on every insert as on the fresh-token route, ${fmt(m.cacheSetNs / 1000, 2)} µs.`,
  );
  lines.push('');
  lines.push(reading(report));
  lines.push('');
  return lines.join('\n');
}

// Last, so that every module-level constant above is initialised before either role runs.
if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--load') await generateLoad();
else await main();
