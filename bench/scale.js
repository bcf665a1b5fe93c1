// Issue 16: does Gatehouse cost the same with a million users as with ten thousand? Measured
// from outside, on SQLite and PostgreSQL, with real HTTP against the real server process.
//
//   npm run bench:scale                  (builds, then: node bench/scale.js; 10k and 100k users)
//   node bench/scale.js --sizes 10000,100000,1000000 --databases sqlite,postgres   (the full run)
//   node bench/scale.js --sizes 10000 --databases sqlite --idle 10                (a quick look)
//   node bench/scale.js --generate-only …   (make the databases now, measure later)
//   node bench/scale.js --from /tmp/gatehouse-scale/results-….json   (the section again from a run's figures)
//
// Each size is a database of that many users with 3 sessions (2 live, 1 ended) and about 20
// history events each, plus an administrator and one user with 50,000 events; made once per
// database by scale-load.js, kept in --dir (default /tmp/gatehouse-scale) and reused while
// fresh. Every run works on a copy. On the copy, `gatehouse serve` (dist/) starts, and:
//
//   1. start: from spawning the process until GET /readyz answers 200;
//   2. idle: GET /v1/me every 50 ms for a minute, from 10 s after ready, while the background
//      jobs run (the expiry sweep and the first scheduled purge fire at 60 s); latencies count
//      from when each request was due, so a stalled server cannot hide its stall;
//   3. requests, one at a time: sign-in (from the device of one of the user's live sessions,
//      which it replaces), refresh, session list, history's first page, sign-out of the user's
//      other session, history's first page and a page 40,000 events deep of the long history,
//      the administrators' user search, and /metrics;
//   4. purge: `gatehouse purge` with the default retentions (90 days of ended sessions, a year
//      of history) while 20 sessions are refreshed 20 times a second beside it.
//
// The server itself keeps everything for ten years, so its own scheduled purge (60 s after
// start, in the idle minute) runs its statements but finds nothing to delete, and the purge
// in step 4 has all of it. Sign-ins come through GATEHOUSE_TRUST_PROXY=127.0.0.1 with the
// device's address in X-Forwarded-For, as behind a proxy. Gatehouse and PostgreSQL run on
// core 0, this process and the purge command on core 1 (BENCH_PIN=0: no pinning).

import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { childPids, fmt, freePort, machineLine, percentile, PIN, pin, requireBuild, root, runStamp, writeSection } from './lib.js';
import { startPostgresAt } from './postgres.js';
import { ADMIN_EMAIL, deviceOf, emailOf, HISTORY_EMAIL, PASSWORD } from './scale-data.js';
import { prepareDataset, workingCopy } from './scale-load.js';
import { renderSection } from './scale-report.js';

const SECTION = '## Scale';
const TEN_YEARS = String(3650 * 86_400);
/** The runs' PostgreSQL: a buffer cache of a size production would give it; lock waits and slow statements in logs/postgres.log. */
const POSTGRES_SETTINGS = ['shared_buffers=1GB', 'max_wal_size=8GB', 'log_lock_waits=on', 'log_min_duration_statement=1000'];
const IDLE_LEAD_MS = 10_000;
const IDLE_INTERVAL_MS = 50;
const MIN_SAMPLES = 20;
const PURGE_SESSIONS = 20;
const PURGE_RATE = 20;
const BEFORE_PURGE_MS = 3000;
const AFTER_PURGE_MS = 2000;
const CLI = join(root, 'dist', 'cli', 'gatehouse.js');

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    databases: { type: 'string', default: 'sqlite,postgres' },
    dir: { type: 'string', default: process.env.BENCH_SCALE_DIR ?? join(os.tmpdir(), 'gatehouse-scale') },
    samples: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    idle: { type: 'string', default: '60' },
    // A purge that takes longer is stopped (and reported so): a quadratic purge at 1M users must not hold the run for hours.
    'purge-timeout': { type: 'string', default: '1800' },
    'max-age-days': { type: 'string', default: '3' },
    regenerate: { type: 'boolean', default: false },
    'generate-only': { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    // The section again from a run's raw figures (results-….json in --dir), without measuring.
    from: { type: 'string' },
  },
});
const options = {
  sizes: flags.sizes.split(',').map(Number),
  databases: flags.databases.split(','),
  dir: flags.dir,
  samples: Number(flags.samples),
  seconds: Number(flags.seconds),
  idleSeconds: Number(flags.idle),
  purgeTimeoutSeconds: Number(flags['purge-timeout']),
  maxAgeDays: Number(flags['max-age-days']),
};
if (options.sizes.some((n) => !Number.isSafeInteger(n) || n < 1000) || options.databases.some((d) => !['sqlite', 'postgres'].includes(d))) {
  console.error(
    'usage: node bench/scale.js [--sizes 10000,100000,1000000] [--databases sqlite,postgres] [--dir D] [--samples N] [--seconds S] [--idle S] [--purge-timeout S] [--max-age-days D] [--regenerate] [--generate-only] [--no-docs] [--from results.json]',
  );
  process.exit(2);
}

const log = (line) => console.log(line);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const elapsed = (since) => (performance.now() - since) / 1000;

// ---------------------------------------------------------------------------------------------

async function main() {
  if (flags.from) {
    const section = renderSection(SECTION, JSON.parse(readFileSync(flags.from, 'utf8')));
    if (!flags['no-docs']) writeSection(SECTION, section);
    console.log(section);
    return;
  }
  requireBuild('bench:scale');
  const started = performance.now();
  const loadAtStart = os.loadavg();
  // Before this process is pinned to one core, which would make it count one.
  const machine = machineLine();
  mkdirSync(options.dir, { recursive: true });
  // The postgres user must pass through it to its cluster.
  chmodSync(options.dir, 0o711);
  mkdirSync(join(options.dir, 'logs'), { recursive: true });
  const postgres = options.databases.includes('postgres')
    ? await startPostgresAt(join(options.dir, 'postgres'), { settings: POSTGRES_SETTINGS, logFile: join(options.dir, 'logs', 'postgres.log') })
    : undefined;
  try {
    const ctx = { dir: options.dir, postgres, log };
    log(`datasets in ${options.dir}:`);
    const datasets = {};
    for (const database of options.databases) {
      for (const size of options.sizes) {
        datasets[`${database}-${size}`] = await prepareDataset(ctx, database, size, { regenerate: flags.regenerate, maxAgeDays: options.maxAgeDays });
      }
    }
    if (flags['generate-only']) return;

    const build = distStamp();
    if (PIN) pin(process.pid, 1);
    if (postgres) for (const p of [postgres.pid, ...childPids(postgres.pid)]) pin(p, 0);
    const runs = [];
    for (const database of options.databases) {
      for (const size of options.sizes) {
        // One size that fails (a server that would not start, a database out of disk) costs its own figures only.
        const run = await measure(ctx, database, size, datasets[`${database}-${size}`]).catch((error) => {
          log(`  failed: ${error.stack}`);
          return { database, size, error: error.message };
        });
        // Others may rebuild dist/ meanwhile (a shared checkout): such a run is marked, as its figures mix builds.
        if (distStamp() !== build) run.rebuilt = true;
        runs.push(run);
      }
    }
    const report = { runs, datasets, options, stamp: runStamp(), commit: commitLine(), machine, loadAtStart, loadAtEnd: os.loadavg() };
    report.seconds = elapsed(started);
    const resultsFile = join(options.dir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
    const section = renderSection(SECTION, report);
    if (!flags['no-docs']) writeSection(SECTION, section);
    console.log(`\n${section}\nraw figures: ${resultsFile}`);
  } finally {
    await postgres?.stop();
  }
}

/** The newest modification time of anything in dist/. */
function distStamp() {
  const base = join(root, 'dist');
  return Math.max(...readdirSync(base, { recursive: true }).map((file) => statSync(join(base, file)).mtimeMs));
}

function commitLine() {
  const git = (...args) => execFileSync('git', args, { cwd: root }).toString().trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no', 'src') ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** One database of one size: a fresh copy, a server on it, the four phases, then both gone. */
async function measure(ctx, database, size, dataset) {
  log(`\n${database}, ${size} users:`);
  const copy = await workingCopy(ctx, database, size);
  log(`  copied in ${fmt(copy.copySeconds, 1)} s; ${copy.settled} expiries since the data was made recorded in ${fmt(copy.settleSeconds, 1)} s`);
  const phases = { copy: copy.copySeconds, settle: copy.settleSeconds };
  try {
    const server = await startServer(copy.url, join(ctx.dir, 'logs', `${database}-${size}.log`));
    log(`  started in ${fmt(server.startMs, 0)} ms`);
    try {
      const call = client(server.port);
      const users = pickUsers(size);
      let t0 = performance.now();
      const idle = await idlePhase(call, users, server.readyAt);
      phases.idle = elapsed(t0);
      t0 = performance.now();
      const requests = await requestPhase(call, users, size, dataset);
      phases.requests = elapsed(t0);
      t0 = performance.now();
      const purge = await purgePhase(call, users, copy.url, ctx.dir);
      phases.purge = elapsed(t0);
      // A purge that stops early looks fast: what it should have deleted and left is counted too.
      purge.left = await copy.pastRetention(purge.startedAtMs);
      log(`    left past the retention: ${purge.left.sessions} ended sessions, ${purge.left.events} events`);
      return { database, size, schema: copy.schema, startMs: server.startMs, idle, requests, purge, phases };
    } finally {
      await server.stop();
    }
  } finally {
    await copy.remove();
  }
}

/** Distinct random users (by index), each used by one step only, so no step finds another's leftovers. */
function pickUsers(size) {
  const used = new Set();
  const next = () => {
    for (;;) {
      const index = randomInt(size);
      if (used.has(index)) continue;
      used.add(index);
      return { value: index, done: false };
    }
  };
  // An iterator without `return`: a loop that stops early leaves it usable by the next step.
  return { next, [Symbol.iterator]: () => ({ next }) };
}

// ---------------------------------------------------------------------------------------------
// The server, and HTTP.

/** `gatehouse serve` from dist/, as `npm start` runs it; ready once /readyz says so. */
async function startServer(databaseUrl, logFile) {
  const port = await freePort();
  mkdirSync(join(logFile, '..'), { recursive: true });
  const out = openSync(logFile, 'w');
  const spawned = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: options.dir,
    env: {
      ...environment(databaseUrl),
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEHOUSE_TRUST_PROXY: '127.0.0.1',
      // Nothing is old enough for the server's own purge: the measured purge (step 4) does it all.
      GATEHOUSE_SESSION_RETENTION: TEN_YEARS,
      GATEHOUSE_EVENT_RETENTION: TEN_YEARS,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const call = client(port);
  for (;;) {
    const answer = await Promise.race([call('GET', '/readyz'), exited.then((how) => ({ exited: how }))]);
    if (answer.exited !== undefined) throw new Error(`the server exited (${answer.exited}) before it was ready: see ${logFile}`);
    if (answer.status === 200) break;
    await sleep(20);
  }
  const readyAt = performance.now();
  pin(child.pid, 0);
  return {
    port,
    startMs: readyAt - spawned,
    readyAt,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What the server and the purge command are given: their database, and nothing of this process's environment but PATH. */
function environment(databaseUrl) {
  return { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', GATEHOUSE_SECRET: 'bench-scale-secret-0123456789abcdefghijklmnop' };
}

function client(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return (method, path, { body, token, device } = {}) =>
    new Promise((resolve) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = { 'user-agent': device?.userAgent ?? 'gatehouse-bench-scale/1.0' };
      if (device) headers['x-forwarded-for'] = device.ip;
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      if (token) headers.authorization = `Bearer ${token}`;
      const sent = performance.now();
      const request = http.request({ agent, host: '127.0.0.1', port, method, path, headers, timeout: 120_000 }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const json = text && response.headers['content-type']?.includes('json') ? JSON.parse(text) : undefined;
          resolve({ status: response.statusCode, json, text, ms: performance.now() - sent, at: performance.now() });
        });
      });
      request.on('timeout', () => request.destroy(new Error('no answer within 120 s')));
      request.on('error', (error) => resolve({ status: 0, text: error.message, ms: performance.now() - sent, at: performance.now() }));
      request.end(payload);
    });
}

async function signIn(call, index, email = emailOf(index)) {
  const device = deviceOf(index, 0);
  const answer = await call('POST', '/v1/auth/login', { body: { email, password: PASSWORD }, device });
  if (answer.status !== 200) return { answer };
  return { answer, session: { index, device, access: answer.json.access_token, refresh: answer.json.refresh_token } };
}

const summary = (ms) => ({ samples: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.length ? Math.max(...ms) : NaN });
const problem = (answer) => `${answer.status} ${answer.text.slice(0, 160)}`;

// ---------------------------------------------------------------------------------------------
// 2. Idle: a cheap request every 50 ms for a minute, while the background jobs run.

async function idlePhase(call, users, readyAt) {
  const { session, answer } = await signIn(call, users.next().value);
  if (!session) throw new Error(`sign-in for the idle phase: ${problem(answer)}`);
  await sleep(readyAt + IDLE_LEAD_MS - performance.now());
  log(`  idle: GET /v1/me every ${IDLE_INTERVAL_MS} ms for ${options.idleSeconds} s…`);
  const latencies = [];
  const failures = [];
  const pending = [];
  const first = performance.now() + 10;
  const count = Math.round((options.idleSeconds * 1000) / IDLE_INTERVAL_MS);
  for (let i = 0; i < count; i++) {
    const due = first + i * IDLE_INTERVAL_MS;
    await sleep(due - performance.now());
    pending.push(
      call('GET', '/v1/me', { token: session.access, device: session.device }).then((a) => {
        if (a.status === 200) latencies.push({ ms: a.at - due, at: (due - readyAt) / 1000 });
        else failures.push(problem(a));
      }),
    );
  }
  await Promise.all(pending);
  // The worst three, with when they were due (seconds after ready): the background job behind a stall runs at a known time.
  const worst = [...latencies].sort((a, b) => b.ms - a.ms).slice(0, 3);
  const result = { ...summary(latencies.map((l) => l.ms)), worst, failures: failures.length, firstFailure: failures[0] };
  log(
    `    p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms, worst ${worst.map((w) => `${fmt(w.ms)} ms at ${fmt(w.at, 1)} s`).join(', ')}; ${result.failures} failed`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------
// 3. Requests, one at a time.

/**
 * Runs `step` on each of `items` in turn until `options.samples` answers are timed, or the time
 * budget is spent and at least MIN_SAMPLES are; `step` answers the HTTP answer and whether it
 * is the one expected.
 */
async function timed(name, items, step) {
  const ms = [];
  const failures = [];
  const end = performance.now() + options.seconds * 1000;
  const iterator = items[Symbol.iterator]();
  for (let next = iterator.next(); !next.done; next = iterator.next()) {
    const item = next.value;
    if (ms.length >= options.samples || (performance.now() > end && ms.length >= MIN_SAMPLES) || failures.length >= MIN_SAMPLES) break;
    const { answer, ok } = await step(item);
    if (ok) ms.push(answer.ms);
    else failures.push(problem(answer));
  }
  const result = { ...summary(ms), failures: failures.length, firstFailure: failures[0] };
  log(
    `    ${name}: ${result.samples} × p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms${result.failures ? `, ${result.failures} failed: ${result.firstFailure}` : ''}`,
  );
  return result;
}

function* cycle(items) {
  while (items.length > 0) yield* items;
}

async function requestPhase(call, users, size, dataset) {
  log('  requests:');
  // Unmeasured: the first requests of each kind compile their code paths.
  for (let i = 0; i < 5; i++) {
    const { session } = await signIn(call, users.next().value);
    if (!session) continue;
    await call('POST', '/v1/auth/refresh', { body: { refresh_token: session.refresh }, device: session.device });
    await call('GET', '/v1/me/sessions', { token: session.access, device: session.device });
    await call('GET', '/v1/me/activity', { token: session.access, device: session.device });
  }
  const signedIn = [];
  const ops = {};
  ops.signIn = await timed('sign-in', users, async (index) => {
    const { answer, session } = await signIn(call, index);
    if (session) signedIn.push(session);
    return { answer, ok: Boolean(session) };
  });
  ops.refresh = await timed('refresh', cycle(signedIn), async (s) => {
    const answer = await call('POST', '/v1/auth/refresh', { body: { refresh_token: s.refresh }, device: s.device });
    if (answer.status === 200) Object.assign(s, { access: answer.json.access_token, refresh: answer.json.refresh_token });
    return { answer, ok: answer.status === 200 };
  });
  ops.sessionList = await timed('session list', cycle(signedIn), async (s) => {
    const answer = await call('GET', '/v1/me/sessions', { token: s.access, device: s.device });
    const others = answer.json?.sessions?.filter((x) => !x.current) ?? [];
    s.other ??= others[0]?.id;
    // The sign-in replaced the session of its device: none of the others may have its address and agent.
    const replaced = !others.some((x) => x.ip === s.device.ip && x.user_agent === s.device.userAgent);
    return { answer, ok: answer.status === 200 && replaced };
  });
  ops.activity = await timed('history, first page', cycle(signedIn), async (s) => {
    const answer = await call('GET', '/v1/me/activity', { token: s.access, device: s.device });
    return { answer, ok: answer.status === 200 && answer.json.events.length > 0 };
  });
  ops.signOut = await timed(
    'sign-out of a session',
    signedIn.filter((s) => s.other),
    async (s) => {
      const answer = await call('DELETE', `/v1/me/sessions/${s.other}`, { token: s.access, device: s.device });
      return { answer, ok: answer.status === 204 };
    },
  );

  const history = await signIn(call, size + 1, HISTORY_EMAIL);
  if (!history.session) throw new Error(`sign-in of ${HISTORY_EMAIL}: ${problem(history.answer)}`);
  const h = history.session;
  ops.historyFirst = await timed('long history, first page', cycle([h]), async () => {
    const answer = await call('GET', '/v1/me/activity', { token: h.access, device: h.device });
    return { answer, ok: answer.status === 200 && answer.json.events.length === 20 };
  });
  ops.historyDeep = await timed('long history, 40,000 deep', cycle([h]), async () => {
    const answer = await call('GET', `/v1/me/activity?cursor=${dataset.deepCursor}`, { token: h.access, device: h.device });
    return { answer, ok: answer.status === 200 && answer.json.events.length === 20 };
  });

  const admin = await signIn(call, size, ADMIN_EMAIL);
  if (!admin.session) throw new Error(`sign-in of ${ADMIN_EMAIL}: ${problem(admin.answer)}`);
  const a = admin.session;
  ops.adminSearch = await timed('admin user search', users, async (index) => {
    // `u0012` and the like: a hundred accounts start with it, whatever the size; a page of 20.
    const answer = await call('GET', `/v1/admin/users?email=${emailOf(index).slice(0, 6)}`, { token: a.access, device: a.device });
    return { answer, ok: answer.status === 200 && answer.json.users.length === 20 };
  });
  ops.metrics = await timed('/metrics', cycle([null]), async () => {
    const answer = await call('GET', '/metrics');
    return { answer, ok: answer.status === 200 };
  });
  return ops;
}

// ---------------------------------------------------------------------------------------------
// 4. The purge, with refreshes beside it.

async function purgePhase(call, users, databaseUrl, cwd) {
  const chains = [];
  while (chains.length < PURGE_SESSIONS) {
    const { session, answer } = await signIn(call, users.next().value);
    if (!session) throw new Error(`sign-in for the purge phase: ${problem(answer)}`);
    chains.push({ session, busy: Promise.resolve() });
  }
  log(`  purge: \`gatehouse purge\` with ${PURGE_SESSIONS} sessions refreshed ${PURGE_RATE} times a second beside it…`);
  const load = refreshLoad(call, chains);
  await sleep(BEFORE_PURGE_MS);
  const purge = await runPurge(databaseUrl, cwd);
  await sleep(AFTER_PURGE_MS);
  const samples = await load.stop();
  const during = samples.filter((s) => s.due >= purge.startedAt && s.due <= purge.endedAt && s.status === 200);
  const failed = samples.filter((s) => s.status !== 200);
  // The worst three, with the phase of the purge each was due in: which part of it holds requests up.
  const worst = [...during]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((s) => {
      const at = (s.due - purge.startedAt) / 1000;
      return { ms: s.ms, at, phase: purge.phases.find((p) => p.endsAt >= at)?.name ?? 'the command starting' };
    });
  const result = {
    startedAtMs: purge.startedAtMs,
    seconds: purge.seconds,
    exitCode: purge.code,
    phases: purge.phases,
    refresh: { ...summary(during.map((s) => s.ms)), worst },
    refreshes: samples.length,
    failures: failed.length,
    failureKinds: countBy(failed.map((s) => s.problem)),
    output: purge.code === 0 ? undefined : purge.stderr.slice(-500),
  };
  log(
    `    ${fmt(result.seconds, 1)} s (exit code ${purge.code}): ${purge.summary}; refresh meanwhile p50 ${fmt(result.refresh.p50)} ms, p99 ${fmt(result.refresh.p99)} ms; ${result.failures} of ${samples.length} refreshes failed`,
  );
  return result;
}

/**
 * Refreshes at PURGE_RATE a second, each chain of tokens in turn; a chain never has two in
 * flight (the next waits for the last), and each latency counts from when it was due.
 */
function refreshLoad(call, chains) {
  const samples = [];
  let stopped = false;
  const run = (async () => {
    const start = performance.now();
    for (let i = 0; !stopped; i++) {
      const due = start + (i * 1000) / PURGE_RATE;
      await sleep(due - performance.now());
      const chain = chains[i % chains.length];
      chain.busy = chain.busy.then(async () => {
        const s = chain.session;
        const answer = await call('POST', '/v1/auth/refresh', { body: { refresh_token: s.refresh }, device: s.device });
        // A refused refresh (503: the database was busy) changed nothing: the same token goes again next time.
        if (answer.status === 200) Object.assign(s, { access: answer.json.access_token, refresh: answer.json.refresh_token });
        samples.push({ due, ms: answer.at - due, status: answer.status, problem: answer.status === 200 ? undefined : problem(answer).slice(0, 80) });
      });
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await run;
      await Promise.all(chains.map((c) => c.busy));
      return samples;
    },
  };
}

/** `gatehouse purge` (dist/) with the default retentions; each phase timed by when its line comes. */
function runPurge(databaseUrl, cwd) {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const startedAtMs = Date.now();
    const child = spawn(process.execPath, [CLI, 'purge'], { cwd, env: environment(databaseUrl), stdio: ['ignore', 'pipe', 'pipe'] });
    // A process of its own gets a core of its own on any server: the load generator's, which
    // 20 refreshes a second leave nearly idle. What it makes the database do stays on core 0.
    pin(child.pid, 1);
    let stdout = '';
    let stderr = '';
    const phases = [];
    let last = startedAt;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      for (const match of String(chunk).matchAll(/purged ([^:\n]+): (\d+)/g)) {
        phases.push({ name: match[1], deleted: Number(match[2]), seconds: (performance.now() - last) / 1000, endsAt: (performance.now() - startedAt) / 1000 });
        last = performance.now();
      }
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), options.purgeTimeoutSeconds * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const endedAt = performance.now();
      const summary = /gatehouse: purged (.*)/.exec(stdout)?.[1] ?? stderr.trim().split('\n').at(-1);
      resolve({
        startedAtMs,
        code: signal ? `stopped after ${options.purgeTimeoutSeconds} s` : code,
        startedAt,
        endedAt,
        seconds: (endedAt - startedAt) / 1000,
        phases,
        summary,
        stderr,
      });
    });
  });
}

function countBy(items) {
  const counts = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

await main();
process.exit(0);
