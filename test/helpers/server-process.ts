import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { USER_AGENTS } from './app.js';

/** The built entry points (test/helpers/global-setup.ts builds dist/ before any test runs). */
export const SERVER = resolve('dist/server.js');
export const CLI = resolve('dist/cli/gatehouse.js');

export interface RunningServer {
  child: ChildProcessWithoutNullStreams;
  url: string;
  logs: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  /** The script and its arguments; the default is `dist/server.js` (what `npm start` runs). */
  argv?: string[];
  /** How many "Server listening" lines to wait for: one per worker of `serve --workers N`. */
  listening?: number;
}

/**
 * Starts a real Gatehouse process (PORT=0 unless `env` says otherwise) and resolves once it
 * logs that it listens (as many times as `options.listening` says). Only PATH is inherited:
 * the test states every other variable.
 */
export async function startServer(cwd: string, env: Record<string, string>, options: StartOptions = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, options.argv ?? [SERVER], { cwd, env: { PATH: process.env.PATH ?? '', PORT: '0', ...env } });
  const logs: string[] = [];
  let listening = 0;
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        const address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
        if (address && ++listening === (options.listening ?? 1)) resolveUrl(address);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${logs.join('\n')}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    return code;
  };
  return { child, url, logs, stop };
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One HTTP request to a running server, as a browser on Windows would send it; JSON in and out. */
export async function call(base: string, method: string, path: string, options: CallOptions = {}) {
  const response = await fetch(base + path, {
    method,
    headers: {
      'user-agent': USER_AGENTS.chromeWindows,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const json = text && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, body: json, text };
}
