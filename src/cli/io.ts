import { loadConfigIn, type Config } from '../config.js';
import { systemClock, type Clock } from '../core/clock.js';

/** Where a command writes: stdout for its result, stderr for prompts, progress and failures. */
export interface CliOutput {
  write(text: string): unknown;
  /** A terminal: true. A pipe, a file, a CI log, a test: false or undefined. */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Where a command reads a password from: a terminal (raw mode, no echo) or a pipe. */
export type CliInput = NodeJS.ReadableStream & { readonly isTTY?: boolean; setRawMode?(mode: boolean): unknown };

/**
 * Everything a command takes from the world outside its arguments. The binary passes the
 * process's own (`processIo`); a test passes strings, a directory and a clock it controls, and
 * runs the command in-process.
 */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where `.env` is read from and relative paths start (DATABASE_URL=sqlite:./data/…). */
  readonly cwd: string;
  readonly stdin: CliInput;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly clock: Clock;
}

export function processIo(): CliIo {
  return { env: process.env, cwd: process.cwd(), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, clock: systemClock };
}

/** The configuration as the server would read it, from the command's environment and directory. */
export function configOf(io: CliIo): Readonly<Config> {
  return loadConfigIn(io.cwd, io.env);
}

/** Writes one line to stdout: a command's result. */
export function say(io: CliIo, line: string): void {
  io.stdout.write(`${line}\n`);
}

/** Writes one line to stderr: a failure, or a warning beside the result. */
export function complain(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

/** Rows as a table on stdout, each column as wide as its widest cell, two spaces between. */
export function sayTable(io: CliIo, rows: readonly (readonly string[])[]): void {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  for (const row of rows)
    say(
      io,
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}
