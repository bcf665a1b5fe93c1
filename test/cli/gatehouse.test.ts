import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGatehouse, spawnGatehouse, type Run } from '../helpers/cli.js';
import { CLI } from '../helpers/server-process.js';

const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/**
 * Runs `gatehouse …args` in-process (runCli), in an empty directory with only `env` set: the
 * same code the binary runs, without a Node.js start for each case.
 */
function gatehouse(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runGatehouse(args, { cwd, env });
}

/**
 * Runs the real binary (dist/cli/gatehouse.js) the way a script would, in the same directory
 * with only PATH and `env` set. This file is about the binary itself, so a few cases still
 * spawn it: that its exit code and output reach the shell for help (0), a usage error (2) and
 * a failure (1), and what only a real process shows (forking workers).
 */
function spawned(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return spawnGatehouse(args, { cwd, env });
}

describe('the gatehouse command', () => {
  it('is an executable script: the compiled file keeps its shebang', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  // `--help` on the real binary (exit status 0, stdout); the other ways of asking in-process.
  it.each([
    [['--help'], spawned],
    [['-h'], gatehouse],
    [['help'], gatehouse],
    [['help', '--help'], gatehouse],
  ])('prints its commands and exit codes for `gatehouse %j`, on stdout, with 0', async (args, run) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: gatehouse <command> \[options\]\n/);
    // Names are padded to the longest, which grows as commands are added.
    expect(stdout).toMatch(/^ {2}serve +run the server/m);
    expect(stdout).toMatch(/^ {2}migrate +apply pending database migrations/m);
    expect(stdout).toContain(
      'Exit codes:\n  0  done\n  1  failed: configuration error, cannot start, database error\n  2  wrong usage: unknown command or option, bad value\n',
    );
  });

  it.each([
    [['serve', '--help']],
    [['serve', '-h']],
    [['help', 'serve']],
    // Help wins over a value it would otherwise refuse: asking how is never a mistake.
    [['serve', '--workers', 'lots', '--help']],
  ])('prints the help of serve for `gatehouse %j`, with --workers and what 0 means', async (args) => {
    const { code, stdout, stderr } = await gatehouse(args);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: gatehouse serve \[--workers N\]\n/);
    expect(stdout).toMatch(/^ {2}--workers N {2}run N worker processes \(1 to 64\)/m);
    expect(stdout).toMatch(/^ {2}-h, --help {3}show this help$/m);
    expect(stdout).toContain('  0  stopped cleanly by SIGTERM or SIGINT\n  1  failed');
  });

  it('prints the help of migrate', async () => {
    const { code, stdout } = await gatehouse(['migrate', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: gatehouse migrate\n/);
    expect(stdout).toContain('  0  migrated, or nothing to do\n');
  });

  // One usage error on the real binary (exit status 2, one line on stderr); the rest in-process.
  it.each([
    [[], 'gatehouse: no command given (see: gatehouse --help)', gatehouse],
    [['start'], 'gatehouse: unknown command "start" (see: gatehouse --help)', spawned],
    [['help', 'start'], 'gatehouse: unknown command "start" (see: gatehouse --help)', gatehouse],
    [['serve', '--port', '80'], 'gatehouse: unknown option --port (see: gatehouse serve --help)', gatehouse],
    [['serve', 'now'], 'gatehouse: unexpected argument "now" (see: gatehouse serve --help)', gatehouse],
    [['serve', '--workers'], 'gatehouse: --workers needs a value: --workers N (see: gatehouse serve --help)', gatehouse],
    [['serve', '--workers', '0'], 'gatehouse: --workers must be a whole number from 1 to 64; got "0" (see: gatehouse serve --help)', gatehouse],
    [['serve', '--workers', 'abc'], 'gatehouse: --workers must be a whole number from 1 to 64; got "abc" (see: gatehouse serve --help)', gatehouse],
    [['serve', '--workers=65'], 'gatehouse: --workers must be a whole number from 1 to 64; got "65" (see: gatehouse serve --help)', gatehouse],
    [['serve', '--workers', '2', '--workers', '3'], 'gatehouse: --workers is given more than once (see: gatehouse serve --help)', gatehouse],
    // The first mistake is the one reported, whatever follows it.
    [['keys', 'retire', '--kid', 'a', '--kid', 'b', '--bogus'], 'gatehouse: --kid is given more than once (see: gatehouse keys retire --help)', gatehouse],
    [['keys', 'retire', '--force=1', '--bogus'], 'gatehouse: --force takes no value (see: gatehouse keys retire --help)', gatehouse],
    [['serve', '-h', '--help'], 'gatehouse: --help is given more than once (see: gatehouse serve --help)', gatehouse],
    [['migrate', '--workers', '2'], 'gatehouse: unknown option --workers (see: gatehouse migrate --help)', gatehouse],
  ])('refuses `gatehouse %j` with one line on stderr and exit code 2', async (args, line, run) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${line}\n`);
  });

  it('stops `serve --workers 2` on a configuration mistake with one line and exit code 1, before forking or touching the database', async () => {
    // Spawned: `serve` is the command that forks and exits the process itself.
    const { code, stdout, stderr } = await spawned(['serve', '--workers', '2'], { GATEHOUSE_ACCESS_TOKEN_TTL: 'ten minutes' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('gatehouse: configuration error: GATEHOUSE_ACCESS_TOKEN_TTL must be a whole number from 1 to 86400; got "ten minutes"\n');
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('stops `migrate` on a configuration mistake with one line and exit code 1', async () => {
    // Spawned: a failure's exit status 1, as the shell sees it.
    const { code, stderr } = await spawned(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^gatehouse: configuration error: DATABASE_URL must be [^\n]*\n$/);
  });

  it('stops `serve --workers 2` with exit code 1 and the reason on stderr when its workers cannot listen', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      // Spawned: the workers are forked processes, and their failure must end the primary's.
      const { code, stderr } = await spawned(['serve', '--workers', '2'], { PORT: String(port), DATABASE_URL: `sqlite:${join(cwd, 'taken.db')}` });
      expect(code).toBe(1);
      // Once, not once per worker: the first worker starts alone.
      expect(stderr).toMatch(/^gatehouse: cannot start: [^\n]*EADDRINUSE[^\n]*\n$/);
    } finally {
      taken.close();
    }
  });
});
