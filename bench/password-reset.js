// Issue 17's check that `POST /v1/auth/password-reset` tells nobody whether an address has an
// account: the answers for an account, an unknown address, a disabled account and a locked one
// must be byte-identical, and their median times within 10 % of each other. Measured from
// outside, on the built server (`node dist/server.js`, what `npm start` runs), on SQLite and on
// PostgreSQL, one request at a time over one keep-alive connection, the four kinds interleaved in
// a shuffled order round after round so that the machine's drift and the mail sent after an
// account's request (the deliverer writes it once the answer is out) fall on every kind alike.
// Each account is asked about once, so every one of its requests really queues a mail.
//
//   npm run bench:password-reset        (builds, then: node bench/password-reset.js)
//   BENCH_REQUESTS=1000 node bench/password-reset.js     (a longer look)

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { fmt, freePort, machineLine, median, percentile, PIN, pin, requireBuild, root, runStamp, startPostgres, writeSection } from './lib.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const WARMUP = 50;
const KINDS = ['account', 'unknown', 'disabled', 'locked'];
const LABELS = { account: 'an account', unknown: 'no account', disabled: 'a disabled account', locked: 'a locked account (sign-in refused)' };
const GOAL = 1.1;
const SECTION = '## Password reset: the same answer in the same time';

requireBuild('bench:password-reset');

const started = performance.now();
const loadStart = os.loadavg();
const results = [];
for (const database of ['sqlite', 'postgres']) results.push(await measure(database));
const seconds = Math.round((performance.now() - started) / 1000);
writeSection(SECTION, render(results, seconds, loadStart, os.loadavg()));
console.log(render(results, seconds, loadStart, os.loadavg()));

async function measure(database) {
  const cwd = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-reset-'));
  const postgres = database === 'postgres' ? await startPostgres({ pinToCore: 0 }) : undefined;
  const url = postgres ? postgres.url : `sqlite:${join(cwd, 'gatehouse.db')}`;
  const server = await startServer(cwd, {
    DATABASE_URL: url,
    // Mail as the quick start has it: .eml files, written by the deliverer after the answer.
    GATEHOUSE_PASSWORD_RESET_IP_MAX: '0',
    LOG_LEVEL: 'warn',
  });
  try {
    const now = Date.now();
    const total = REQUESTS + WARMUP;
    await seed(url, total, now);
    const timings = Object.fromEntries(KINDS.map((k) => [k, []]));
    const answers = new Set();
    for (let i = 0; i < total; i++) {
      for (const kind of shuffled(KINDS)) {
        const answer = await server.call('POST', '/v1/auth/password-reset', { email: `${kind}-${i}@bench.test` });
        if (answer.status !== 202) throw new Error(`${kind}: HTTP ${answer.status} ${answer.text}`);
        answers.add(`${answer.status} ${answer.type} ${answer.cache} ${answer.text}`);
        if (i >= WARMUP) timings[kind].push(answer.ms);
      }
    }
    const figures = Object.fromEntries(KINDS.map((k) => [k, { p50: median(timings[k]), p90: percentile(timings[k], 90) }]));
    const medians = KINDS.map((k) => figures[k].p50);
    return { database, figures, spread: Math.max(...medians) / Math.min(...medians), identical: answers.size === 1 };
  } finally {
    await server.stop();
    await postgres?.stop?.();
    rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * The accounts, written straight into the database the server made (its argon2 work is not
 * what is measured): `account-<i>`, `disabled-<i>` and `locked-<i>` (a sign-in lock of an hour
 * in its counters); `unknown-<i>` has none.
 */
async function seed(url, count, now) {
  const rows = [];
  for (const kind of ['account', 'disabled', 'locked']) {
    for (let i = 0; i < count; i++) {
      const email = `${kind}-${i}@bench.test`;
      rows.push({ id: `${kind}-${i}-${'x'.repeat(12)}`, email, disabled: kind === 'disabled' ? now : null, locked: kind === 'locked' });
    }
  }
  const users = `insert into users (id, email, email_key, name, password_hash, role, disabled_at, created_at, updated_at, password_changed_at)
                 values ($1, $2, $2, null, 'not-a-hash', 'user', $3, $4, $4, $4)`;
  const locks = `insert into sign_in_failures (email_key, consecutive, last_failure_at, window_start, window_count) values ($1, 60, $2, $2, 60)`;
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    // Named parameters: SQLite counts a repeated `$n` as one more to bind.
    const named = (sql, names) => db.prepare(sql.replace(/\$(\d)/g, (_, n) => `@${names[Number(n) - 1]}`));
    const insertUser = named(users, ['id', 'email', 'disabled', 'now']);
    const insertLock = named(locks, ['email', 'now']);
    db.transaction(() => {
      for (const r of rows) {
        insertUser.run({ id: r.id, email: r.email, disabled: r.disabled, now });
        if (r.locked) insertLock.run({ email: r.email, now });
      }
    })();
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  for (const r of rows) {
    await client.query(users, [r.id, r.email, r.disabled, now]);
    if (r.locked) await client.query(locks, [r.email, now]);
  }
  await client.query('commit');
  await client.end();
}

function shuffled(items) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** `node dist/server.js` on a port of its own (on core 0 when pinning), once it answers /readyz. */
async function startServer(cwd, env) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'dist', 'server.js')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (PIN) pin(child.pid, 0);
  const output = [];
  child.stdout.on('data', (chunk) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk) => output.push(chunk.toString()));
  const call = client(port);
  const stop = async () => {
    call.close();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  for (const deadline = performance.now() + 30_000; ; ) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${output.join('')}`);
    const ready = await call('GET', '/readyz').catch(() => undefined);
    if (ready?.status === 200) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`the server did not become ready: ${output.join('')}`);
    }
    await sleep(100);
  }
  return { call, stop };
}

/** One keep-alive connection; each answer with its status, the headers compared, its body and its time. */
function client(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
      const sentAt = performance.now();
      const request = http.request({ agent, host: '127.0.0.1', port, method, path, headers, timeout: 10_000 }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode,
            type: response.headers['content-type'],
            cache: response.headers['cache-control'],
            text: Buffer.concat(chunks).toString(),
            ms: performance.now() - sentAt,
          }),
        );
      });
      request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
      request.on('error', reject);
      request.end(payload);
    });
  call.close = () => agent.destroy();
  return call;
}

function render(results, seconds, loadStart, loadEnd) {
  const lines = [SECTION, ''];
  lines.push(`Script: \`bench/password-reset.js\` (\`npm run bench:password-reset\`). Run: ${runStamp()}, ${seconds} s in all.`);
  lines.push(
    `${machineLine().replace(/\.$/, '')}; load average ${loadStart.map((x) => fmt(x, 2)).join(' ')} at the start, ${loadEnd.map((x) => fmt(x, 2)).join(' ')} at the end.`,
  );
  lines.push('');
  lines.push(
    `Goal (issue 17): the answers for every kind of address byte-identical (status, content type, cache header, body), and their median times within ${Math.round((GOAL - 1) * 100)} % of each other. ${REQUESTS} requests of each kind per database, one at a time, interleaved in shuffled order; each account asked about once (so each queues a mail).`,
  );
  lines.push('');
  lines.push(`| ms, p50 / p90 | ${KINDS.map((k) => LABELS[k]).join(' | ')} | slowest / fastest p50 | answers identical |`);
  lines.push(`|---|${KINDS.map(() => '---:').join('|')}|---:|---|`);
  for (const r of results) {
    const cells = KINDS.map((k) => `${fmt(r.figures[k].p50)} / ${fmt(r.figures[k].p90)}`);
    const spread = `${fmt(r.spread)}×${r.spread <= GOAL ? '' : ' (**above the goal**)'}`;
    lines.push(`| ${r.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${cells.join(' | ')} | ${spread} | ${r.identical ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}
