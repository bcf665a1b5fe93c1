// What does the per-request revocation check cost? Design §5 promises "no per-request database
// query on the hot path", only a lookup in the in-memory revocation view, so a Bearer route
// should serve about as many requests per second as one that verifies the token and stops there
// (goal: ≥ 0.9×). Design §8: benchmarks report ratios measured in one run.
//
//   npm run bench        (builds, then: node bench/authenticated-route.js)
//   BENCH_ROUNDS=10 BENCH_SECONDS=3 node bench/authenticated-route.js     (a longer look)
//   BENCH_PIN=0 …        (do not pin the nodes and the load generator to separate cores)
//
// Two Gatehouse nodes run in child processes (this file with `--serve`): one with its real
// revocation view, one whose view also holds 100,000 revoked sessions. Each serves the same
// bench-only Bearer route twice: once with the full check, once with the revocation lookup
// skipped. Check and no-check are compared inside one process, because separate processes
// differ by more than the lookup could cost: two identical nodes, each in its own process,
// came out 5–10% apart and stayed so for their lifetime. Load comes from autocannon's API in a
// third child process (this file with `--load`), which runs short measurements back to back:
// the machine's speed drifts from one second to the next, so the variants alternate quickly,
// round after round, and medians are reported.

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dist, fmt, machineCpu, machineLine, median, PIN, pin, requireBuild, runStamp, threadCpuMs, writeSection } from './lib.js';

// The defaults keep a run near two minutes.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 1);
const WARMUP_S = 1.5;
const CONNECTIONS = 10;
const REVOKED_ENTRIES = 100_000;
const PASSWORD = 'bench-password-1234';
// With two or more cores the nodes get core 0 and autocannon core 1 (bench/lib.js), so they never compete.

// ---------------------------------------------------------------------------------------------
// A node: Gatehouse as `npm start` builds it, plus two bench-only routes.

async function serve(kind, databasePath) {
  const { loadConfig } = await import(dist('config.js'));
  const { createGatehouse } = await import(dist('gatehouse.js'));
  const { authenticator } = await import(dist('http/plugins/authenticate.js'));
  const { verifyAccessToken } = await import(dist('core/access-token.js'));

  const gatehouse = await createGatehouse(loadConfig({ DATABASE_URL: `sqlite:${databasePath}`, LOG_LEVEL: 'silent' }));
  const { app, ctx, view } = gatehouse;
  if (kind === 'revoked100k') {
    // Shaped like real session ids (core/random.ts), revoked now so that pruning keeps them.
    const now = Date.now();
    view.revoked(Array.from({ length: REVOKED_ENTRIES }, () => ({ id: randomBytes(16).toString('base64url'), revokedAt: now })));
  }

  // The smallest Bearer route: its cost is Bearer parsing, the EdDSA signature and claims check,
  // the lookup and Fastify's own hooks. (GET /v1/me and /v1/me/sessions add a SQLite read.)
  const answer = async (request) => ({ session_id: request.caller.sessionId });
  app.get('/bench/check', { onRequest: authenticator(ctx, view) }, answer);
  // The very same authenticator, with a view whose lookup answers "not revoked" without looking.
  app.get('/bench/nocheck', { onRequest: authenticator(ctx, { isRevoked: () => false }) }, answer);
  await app.listen({ host: '127.0.0.1', port: 0 });

  // Garbage-collection pauses, to see whether the larger view costs anything that way.
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });

  process.on('message', async (message) => {
    if (message.type === 'cpu') {
      process.send({ type: 'cpu', total: process.cpuUsage(), mainThreadMs: threadCpuMs(`/proc/self/task/${process.pid}/stat`, 11), gcMs });
    } else if (message.type === 'micro') {
      process.send({ type: 'micro', ...(await micro(view, ctx, message.token, verifyAccessToken)) });
    } else if (message.type === 'close') {
      await gatehouse.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: app.server.address().port, viewSize: view.size });
}

/** Direct timings, after the load: the lookup alone, and one token verification. */
async function micro(view, ctx, token, verifyAccessToken) {
  // Ids that are not in the view, as for a live token.
  const ids = Array.from({ length: 1024 }, () => randomBytes(16).toString('base64url'));
  const lookups = 5_000_000;
  let hits = 0;
  for (let i = 0; i < 200_000; i++) if (view.isRevoked(ids[i & 1023])) hits++;
  let start = process.hrtime.bigint();
  for (let i = 0; i < lookups; i++) if (view.isRevoked(ids[i & 1023])) hits++;
  const lookupNs = Number(process.hrtime.bigint() - start) / lookups;

  const verifications = 3000;
  for (let i = 0; i < 300; i++) await verifyAccessToken(token, ctx.keys, ctx.tokens, ctx.clock.now());
  start = process.hrtime.bigint();
  for (let i = 0; i < verifications; i++) await verifyAccessToken(token, ctx.keys, ctx.tokens, ctx.clock.now());
  const verifyUs = Number(process.hrtime.bigint() - start) / verifications / 1000;
  return { lookupNs, verifyUs, viewSize: view.size, hits };
}

// ---------------------------------------------------------------------------------------------
// The load generator: autocannon's API in its own process, driven over IPC.

async function generateLoad() {
  const { default: autocannon } = await import('autocannon');
  process.on('message', async ({ url, token, seconds }) => {
    const cpu = process.cpuUsage();
    const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const used = process.cpuUsage(cpu);
    process.send({
      total: result.requests.total,
      duration: result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      failed: { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
      cpuMs: (used.user + used.system) / 1000,
    });
  });
  process.send({ ready: true });
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
  try {
    loader = await startLoader();
    // 1. One user with two sessions; the second is signed out before the other node starts,
    //    so that both views know it (one fed by the revocation, one loaded from the database).
    const normal = await startNode('normal', databasePath);
    nodes.push(normal);
    const base = `http://127.0.0.1:${normal.port}`;
    const credentials = { email: 'bench@example.com', password: PASSWORD };
    await request(base, 'POST', '/v1/auth/register', { body: credentials, expect: 201 });
    // Distinct user agents: a second sign-in from the same device would replace the first session.
    const kept = await request(base, 'POST', '/v1/auth/login', { body: credentials, userAgent: 'bench/1 (kept)', expect: 200 });
    const ended = await request(base, 'POST', '/v1/auth/login', { body: credentials, userAgent: 'bench/2 (signed out)', expect: 200 });
    await request(base, 'DELETE', `/v1/me/sessions/${ended.session.id}`, { token: kept.access_token, expect: 204 });
    const big = await startNode('revoked100k', databasePath);
    nodes.push(big);
    const token = kept.access_token;

    // 2. Each route does what its name says.
    for (const node of nodes) {
      const url = `http://127.0.0.1:${node.port}`;
      for (const path of ['/bench/check', '/bench/nocheck', '/v1/me']) await request(url, 'GET', path, { token, expect: 200 });
      await request(url, 'GET', '/bench/check', { token: ended.access_token, expect: 401 });
      await request(url, 'GET', '/v1/me', { token: ended.access_token, expect: 401 });
      await request(url, 'GET', '/bench/nocheck', { token: ended.access_token, expect: 200 });
    }
    await request(base, 'GET', '/healthz', { expect: 200 });

    const n = REVOKED_ENTRIES.toLocaleString('en');
    const variants = [
      { id: 'check', label: 'Bearer, full check', node: normal, path: '/bench/check', token },
      { id: 'nocheck', label: 'Bearer, no revocation check', node: normal, path: '/bench/nocheck', token },
      { id: 'check100k', label: `Bearer, full check, ${n} revoked in view`, node: big, path: '/bench/check', token },
      { id: 'nocheck100k', label: `Bearer, no revocation check, ${n} in view`, node: big, path: '/bench/nocheck', token },
      { id: 'me', label: 'GET /v1/me (full check + one SQLite read)', node: normal, path: '/v1/me', token },
      { id: 'healthz', label: 'GET /healthz (no authentication)', node: normal, path: '/healthz' },
    ];
    const byId = Object.fromEntries(variants.map((v) => [v.id, { ...v, runs: [] }]));
    // Each check runs right next to its no-check twin, the pair's order alternating by round,
    // the blocks' order rotating, so that neither drift nor position favours a variant.
    const blocks = [['check', 'nocheck'], ['check100k', 'nocheck100k'], ['me'], ['healthz']];

    console.log(
      `gatehouse bench: nproc ${os.availableParallelism()}, node ${process.version}, ${PIN ? 'nodes on core 0, autocannon on core 1' : 'no CPU pinning'}; ` +
        `revoked sessions in the views: ${normal.viewSize} and ${big.viewSize.toLocaleString('en')}`,
    );
    console.log(`warm-up ${WARMUP_S} s per variant, then ${ROUNDS} rounds × ${variants.length} variants × ${DURATION_S} s, ${CONNECTIONS} connections`);
    for (const v of variants) await loader.run(v, WARMUP_S);

    for (let round = 0; round < ROUNDS; round++) {
      const order = blocks.map((_, k) => blocks[(round + k) % blocks.length]).flatMap((block) => (round % 2 ? [...block].reverse() : block));
      for (const id of order) {
        const run = await measured(loader, byId[id]);
        byId[id].runs[round] = run;
        console.log(
          `  round ${round + 1}  ${id.padEnd(12)}${fmt(run.rps, 0).padStart(7)} req/s  p99 ${String(run.p99).padStart(2)} ms  ` +
            `CPU, % of a core: node ${fmt(run.nodeCpu, 0)} (event loop ${fmt(run.loopCpu, 0)}, GC ${fmt(run.gc, 1)}), autocannon ${fmt(run.loadgenCpu, 0)}, other ${fmt(run.otherCpu, 0)}`,
        );
      }
    }

    const microNormal = await normal.ask({ type: 'micro', token }, 'micro');
    const microBig = await big.ask({ type: 'micro', token }, 'micro');
    const report = { ...summarize(byId), microNormal, microBig, seconds: Math.round((Date.now() - started) / 1000) };
    printReport(report);
    writeReport(report);
  } finally {
    for (const node of nodes) await stopNode(node);
    if (loader) loader.child.kill();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function startNode(kind, databasePath) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, databasePath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const waiting = new Map();
    const node = {
      kind,
      child,
      ask: (message, reply) =>
        new Promise((done) => {
          waiting.set(reply, done);
          child.send(message);
        }),
    };
    child.on('message', (message) => {
      if (message.type !== 'ready') return waiting.get(message.type)?.(message);
      // Every thread of the node (event loop, V8 and libuv workers) on core 0; threads started
      // later inherit it.
      pin(child.pid, 0);
      resolve(Object.assign(node, { port: message.port, viewSize: message.viewSize }));
    });
    child.once('exit', (code) => reject(new Error(`node ${kind} exited with ${code} before it was ready`)));
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

async function request(base, method, path, { body, token, userAgent, expect }) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  if (userAgent) headers['user-agent'] = userAgent;
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The load process; `run` measures one variant, and every response must be a 2xx. */
function startLoader() {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let pending = reject;
    child.once('exit', (code) => pending(new Error(`the load process exited with ${code}`)));
    child.once('message', () => {
      pin(child.pid, 1);
      const run = (variant, seconds) =>
        new Promise((done, fail) => {
          pending = fail;
          child.once('message', (result) => {
            const { non2xx, errors, timeouts } = result.failed;
            if (non2xx + errors + timeouts === 0) return done(result);
            fail(new Error(`${variant.id}: failed requests (non-2xx ${non2xx}, errors ${errors}, timeouts ${timeouts})`));
          });
          child.send({ url: `http://127.0.0.1:${variant.node.port}${variant.path}`, token: variant.token, seconds });
        });
      resolve({ child, run });
    });
  });
}

/** A measured run: autocannon's figures, and who used the CPU over the same window. */
async function measured(loader, variant) {
  const before = { node: await variant.node.ask({ type: 'cpu' }, 'cpu'), machine: machineCpu() };
  const t0 = process.hrtime.bigint();
  const result = await loader.run(variant, DURATION_S);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = { node: await variant.node.ask({ type: 'cpu' }, 'cpu'), machine: machineCpu() };
  // Shares of one core over the run.
  const share = (ms) => (100 * ms) / wallMs;
  const nodeCpu = share((after.node.total.user + after.node.total.system - before.node.total.user - before.node.total.system) / 1000);
  const loadgenCpu = share(result.cpuMs);
  const machine = (after.machine.busy - before.machine.busy) / (after.machine.all - before.machine.all);
  return {
    rps: result.total / result.duration,
    p50: result.p50,
    p99: result.p99,
    nodeCpu,
    loopCpu: share(after.node.mainThreadMs - before.node.mainThreadMs),
    gc: share(after.node.gcMs - before.node.gcMs),
    loadgenCpu,
    // Everything else on the machine (other processes, this script), in % of one core.
    otherCpu: Math.max(0, machine * 100 * os.availableParallelism() - nodeCpu - loadgenCpu),
  };
}

// ---------------------------------------------------------------------------------------------
// Summary and report.

const entries = (n) => `${n.toLocaleString('en')} entr${n === 1 ? 'y' : 'ies'}`;

function summarize(byId) {
  const rows = Object.values(byId).map((v) => {
    const of = (key) => v.runs.map((r) => r[key]);
    return {
      id: v.id,
      label: v.label,
      rps: median(of('rps')),
      rpsMin: Math.min(...of('rps')),
      rpsMax: Math.max(...of('rps')),
      p50: median(of('p50')),
      p99: median(of('p99')),
      nodeCpu: median(of('nodeCpu')),
      loopCpu: median(of('loopCpu')),
      gc: median(of('gc')),
      loadgenCpu: median(of('loadgenCpu')),
      otherCpu: median(of('otherCpu')),
      otherCpuMax: Math.max(...of('otherCpu')),
    };
  });
  // Paired by round (the two runs seconds apart), then the median of the per-round ratios.
  const ratio = (a, b, note) => {
    const perRound = byId[a].runs.map((r, i) => r.rps / byId[b].runs[i].rps);
    return { name: `${a} / ${b}`, note, median: median(perRound), perRound };
  };
  const ratios = [
    ratio('check', 'nocheck', 'the check, normal view (same process)'),
    ratio('check100k', 'nocheck100k', `the check, ${REVOKED_ENTRIES.toLocaleString('en')} entries in the view (same process)`),
    ratio('check100k', 'check', 'large view against normal view (two processes)'),
    ratio('check', 'healthz', 'authenticated against unauthenticated route'),
    ratio('me', 'check', 'a real route against the auth-only route'),
  ];
  return { rows, ratios };
}

function printReport(report) {
  const { rows, ratios, microNormal, microBig, seconds } = report;
  console.log('');
  console.log(`${'variant'.padEnd(48)}${'req/s'.padStart(7)}  ${'min – max'.padEnd(15)}${'p50 ms'.padStart(7)}${'p99 ms'.padStart(7)}  CPU, % of a core: node (event loop, GC) / autocannon / other`);
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(48)}${fmt(r.rps, 0).padStart(7)}  ${`${fmt(r.rpsMin, 0)} – ${fmt(r.rpsMax, 0)}`.padEnd(15)}${String(r.p50).padStart(7)}${String(r.p99).padStart(7)}  ` +
        `${fmt(r.nodeCpu, 0)} (${fmt(r.loopCpu, 0)}, ${fmt(r.gc, 1)}) / ${fmt(r.loadgenCpu, 0)} / ${fmt(r.otherCpu, 0)}`,
    );
  }
  console.log('');
  for (const q of ratios) console.log(`${q.name.padEnd(26)}${fmt(q.median, 3)}   per round ${q.perRound.map((x) => fmt(x, 3)).join(', ')}   (${q.note})`);
  console.log('');
  console.log(`isRevoked(): ${fmt(microNormal.lookupNs, 1)} ns per lookup with ${entries(microNormal.viewSize)} in the view, ${fmt(microBig.lookupNs, 1)} ns with ${entries(microBig.viewSize)}`);
  console.log(`verifyAccessToken(): ${fmt(microNormal.verifyUs, 1)} µs per token (one at a time, awaited)`);
  console.log('');
  console.log(reading(report));
  console.log('');
  console.log(`total ${seconds} s; written to docs/benchmarks.md`);
}

/** The one-paragraph reading, worded from this run's figures. */
function reading({ rows, ratios, microNormal, microBig }) {
  const row = Object.fromEntries(rows.map((r) => [r.id, r]));
  const q = Object.fromEntries(ratios.map((r) => [r.name, r]));
  const range = (r) => `${fmt(Math.min(...r.perRound), 2)}–${fmt(Math.max(...r.perRound), 2)}`;
  const straddles = (r) => Math.min(...r.perRound) <= 1 && Math.max(...r.perRound) >= 1;
  const goal = (x) => (x >= 0.9 ? 'met' : 'NOT met');
  const small = q['check / nocheck'];
  const large = q['check100k / nocheck100k'];
  const costUs = (row.check.nodeCpu / 100 / row.check.rps) * 1e6;
  const text = [];
  text.push(
    `**Reading.** With the revocation check, the auth-only route served ${fmt(small.median, 2)}× the requests per second of the same route, in the same process, without it ` +
      `(goal ≥ 0.9×: ${goal(small.median)}; rounds ${range(small)}), and ${fmt(large.median, 2)}× on the node whose view held ${entries(microBig.viewSize)} ` +
      `(${goal(large.median)}; rounds ${range(large)}).`,
  );
  const both = straddles(small) && straddles(large);
  text.push(
    both
      ? 'In both, the rounds fall on either side of 1: what separates check from no check is run-to-run noise, not a cost HTTP throughput can show.'
      : `Not every pair of ratios straddles 1 (normal view ${straddles(small) ? 'does' : 'does not'}, large view ${straddles(large) ? 'does' : 'does not'}); with ${ROUNDS} rounds on a shared machine, a one-sided run of a few per cent is still within what such runs show, and it is far more than the lookup's directly timed cost below.`,
  );
  text.push(
    `Timed directly, one lookup took ${fmt(microNormal.lookupNs, 0)} ns in a view of ${entries(microNormal.viewSize)} and ${fmt(microBig.lookupNs, 0)} ns in one of ${entries(microBig.viewSize)} ` +
      `(a hash lookup does not search longer; the larger table misses the CPU cache more), against about ${fmt(costUs, 0)} µs of node CPU per authenticated request: ` +
      `${fmt((microBig.lookupNs / 1000 / costUs) * 100, 3)}% of it.`,
  );
  text.push(
    `Across the two processes, the large-view node served ${fmt(q['check100k / check'].median, 2)}× the normal one (GC took ${fmt(row.check100k.gc, 1)}% against ${fmt(row.check.gc, 1)}% of the time), ` +
      'a comparison that also carries whatever makes one process faster than another.',
  );
  const bound = row.healthz.loadgenCpu >= 90 ? ' (autocannon was near a full core there, so /healthz is if anything under-measured)' : '';
  text.push(
    `What does cost is the signature: the Bearer route runs at ${fmt(q['check / healthz'].median, 2)}× the rate of unauthenticated GET /healthz${bound}; while serving it, ` +
      `the event loop was busy ${fmt(row.check.loopCpu, 0)}% of the time out of the node's ${fmt(row.check.nodeCpu, 0)}%, the rest being mostly WebCrypto's Ed25519 ` +
      `verification on libuv worker threads (${fmt(microNormal.verifyUs, 0)} µs per token timed alone). GET /v1/me, which adds one SQLite read, runs at ${fmt(q['me / check'].median, 2)}× the auth-only route.`,
  );
  const otherMax = Math.max(...rows.map((r) => r.otherCpuMax));
  const swing = Math.max(...rows.map((r) => (r.rpsMax - r.rpsMin) / r.rps));
  if (otherMax >= 15 || swing >= 0.2) {
    text.push(
      `The machine was shared: other processes used up to ${fmt(otherMax, 0)}% of a core during some runs, and a variant's throughput moved by up to ${fmt(swing * 100, 0)}% between rounds, ` +
        'so absolute req/s are rough; the paired ratios much less so.',
    );
  }
  return text.join(' ');
}

// docs/benchmarks.md: this script owns one `## ` section; other sections are kept as they are.
const SECTION = '## Authenticated route: the cost of the revocation check';

function writeReport(report) {
  writeSection(SECTION, renderSection(report));
}

function renderSection(report) {
  const { rows, ratios, microNormal, microBig, seconds } = report;
  const n = REVOKED_ENTRIES.toLocaleString('en');
  const lines = [SECTION, ''];
  lines.push(`Script: \`bench/authenticated-route.js\` (\`npm run bench\`). Run: ${runStamp()}, ${seconds} s in all.`);
  lines.push(machineLine('SQLite (better-sqlite3)'));
  lines.push('');
  lines.push(
    [
      '**Method.** Two Gatehouse nodes (`createGatehouse`, `LOG_LEVEL=silent`, one SQLite database in a temporary directory),',
      `each in its own process: *normal*, and *revoked100k*, whose view also holds ${n} random session ids added through`,
      '`gatehouse.view.revoked()`. Each node has two bench-only routes answering `{session_id}`: `GET /bench/check`, guarded by',
      '`authenticator(ctx, gatehouse.view)` from `dist/http/plugins/authenticate.js`, and `GET /bench/nocheck`, guarded by',
      "`authenticator(ctx, { isRevoked: () => false })`: the same code, with the Map lookup skipped. The routes' cost is Bearer",
      "parsing, the EdDSA signature and claims check, the lookup and Fastify's own hooks; GET /v1/me and /v1/me/sessions",
      'would add a SQLite read, so GET /v1/me is measured separately as a real route, with GET /healthz as the',
      'unauthenticated one. Check and no-check are compared within one process: while this benchmark was built, two identical nodes in separate',
      'processes came out 5–10% apart for their whole lifetime, more than the lookup could cost. (Sharing one process, the',
      "authenticator's call to `isRevoked` sees two object shapes; a polymorphic call costs about a nanosecond.) Before",
      "measuring, the script checks on both nodes that a signed-out session's token gets 401 from /bench/check and",
      '/v1/me and 200 from /bench/nocheck. Load: autocannon (its API) in a separate, long-lived process, one live',
      `access token, ${CONNECTIONS} connections;`,
      PIN
        ? 'the nodes (all their threads) pinned to core 0 and autocannon to core 1 (`taskset`), so load generator and server never compete and req/s are per server core.'
        : 'no CPU pinning.',
      `A ${WARMUP_S} s warm-up per variant, then ${ROUNDS} rounds of one ${DURATION_S} s run per variant, back to back. Short runs,`,
      "because this machine's speed drifts from second to second (see min – max); each check runs right next to its",
      'no-check twin, the pair order alternating and the order of pairs rotating by round. Figures are medians over rounds;',
      'each ratio is the median of the per-round ratios, all from this one run. CPU is in % of one core over each run:',
      'the node process (in brackets its event-loop thread and its GC pauses), autocannon, and everything else on the machine.',
    ].join(' '),
  );
  lines.push('');
  lines.push('| variant | req/s (median) | min – max | p50 ms | p99 ms | node CPU (event loop, GC) | autocannon CPU | other CPU |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${fmt(r.rps, 0)} | ${fmt(r.rpsMin, 0)} – ${fmt(r.rpsMax, 0)} | ${r.p50} | ${r.p99} | ${fmt(r.nodeCpu, 0)}% (${fmt(r.loopCpu, 0)}%, ${fmt(r.gc, 1)}%) | ${fmt(r.loadgenCpu, 0)}% | ${fmt(r.otherCpu, 0)}% |`,
    );
  }
  lines.push('');
  lines.push('| ratio of req/s | what it shows | median | per round |');
  lines.push('|---|---|---:|---|');
  for (const q of ratios) lines.push(`| ${q.name} | ${q.note} | ${fmt(q.median, 3)} | ${q.perRound.map((x) => fmt(x, 3)).join(', ')} |`);
  lines.push('');
  lines.push(
    `Timed directly in the nodes after the load: \`isRevoked()\` ${fmt(microNormal.lookupNs, 1)} ns per lookup with ${entries(microNormal.viewSize)} in the view, ` +
      `${fmt(microBig.lookupNs, 1)} ns with ${entries(microBig.viewSize)} (ids not in the view, as for a live token); ` +
      `\`verifyAccessToken()\` ${fmt(microNormal.verifyUs, 1)} µs per token, one at a time, awaited.`,
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
