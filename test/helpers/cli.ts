import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { CLI } from './server-process.js';

/** What a `gatehouse` command did: its exit code and all it wrote. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The working directory: where `.env` is read from and relative paths start. */
  cwd: string;
  /** The whole environment the command sees (nothing of this process's). */
  env?: Record<string, string>;
  /** stdin, then closed; closed at once when undefined. */
  input?: string;
  clock?: Clock;
  /** stdout and stderr say they are a terminal (80 columns), as for a person at one. */
  terminal?: boolean;
}

/**
 * Runs `gatehouse …args` in this process, through the same `runCli` the binary calls, with its
 * own environment, directory, stdin and clock: what a script would see, at the cost of a
 * function call instead of a Node.js start.
 */
export async function runGatehouse(args: string[], options: RunOptions): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const isTTY = options.terminal === true;
  const code = await runCli(args, {
    env: options.env ?? {},
    cwd: options.cwd,
    stdin: Readable.from(options.input === undefined ? [] : [options.input]),
    stdout: { write: (text: string) => (stdout += text), isTTY, columns: 80 },
    stderr: { write: (text: string) => (stderr += text), isTTY, columns: 80 },
    clock: options.clock ?? systemClock,
  });
  return { code, stdout, stderr };
}

/**
 * Runs the real binary (dist/cli/gatehouse.js) as a script would: a child process with only
 * PATH and `env` set. For what only a process shows: exit codes, the shebang, signals.
 */
export function spawnGatehouse(args: string[], options: Omit<RunOptions, 'clock' | 'terminal'>): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
