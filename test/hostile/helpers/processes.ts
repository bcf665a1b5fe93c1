import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseLocation } from '../../../src/storage/kysely/connect.js';
import { startServer, type RunningServer } from '../../helpers/server-process.js';
import { ask, outcome, type Tokens } from './ask.js';

/** GATEHOUSE_REVOCATION_MAX_STALENESS as these processes run it (the default). */
export const STALENESS_BOUND_MS = 5000;

/** DATABASE_URL for a test database. */
export function databaseUrl(location: DatabaseLocation): string {
  return location.kind === 'postgres' ? location.url : `sqlite:${location.path}`;
}

export interface Processes {
  servers: RunningServer[];
  /** The base URL for the i-th request of a burst: the burst is spread over every process. */
  at(i: number): string;
  /** Stops every process still running (SIGTERM) and removes their working directory. */
  stop(): Promise<void>;
}

/**
 * Real Gatehouse processes (dist/server.js) on one database, started one after the other (the
 * first migrates and creates the signing key). Only the variables in `env` are set.
 */
export async function startProcesses(count: number, env: Record<string, string>): Promise<Processes> {
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-hostile-'));
  const servers: RunningServer[] = [];
  const stop = async () => {
    for (const server of servers) await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) servers.push(await startServer(cwd, env));
  } catch (error) {
    await stop();
    throw error;
  }
  return { servers, at: (i) => servers[i % servers.length]!.url, stop };
}

/** Kills the process outright, as a power cut or the OOM killer would: no shutdown code runs. */
export async function killHard(server: RunningServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill('SIGKILL');
  await exited;
}

/**
 * Waits until every process answers the session's access token as `expected` says (200, or 401
 * session_revoked), as each learns of revocations within the staleness bound; throws with the
 * last answers if one still disagrees after it. An ended session that is ever served again
 * after being refused fails at once.
 */
export async function untilEverywhere(urls: string[], tokens: Tokens, expected: 'alive' | 'ended'): Promise<void> {
  const want = expected === 'alive' ? '200' : '401 session_revoked';
  const deadline = performance.now() + STALENESS_BOUND_MS + 1500;
  const refused = new Set<string>();
  for (;;) {
    const answers = await Promise.all(urls.map(async (url) => outcome(await ask(url, 'GET', '/v1/me', { token: tokens.access }))));
    for (const [i, answer] of answers.entries()) {
      if (expected === 'ended' && answer === '200' && refused.has(urls[i]!))
        throw new Error(`session ${tokens.sessionId} served again by ${urls[i]} after refusing it`);
      if (answer === want) refused.add(urls[i]!);
    }
    if (answers.every((answer) => answer === want)) return;
    const unexpected = answers.filter((answer) => answer !== '200' && answer !== want);
    if (unexpected.length > 0 || performance.now() > deadline)
      throw new Error(`session ${tokens.sessionId}: expected ${want} everywhere, got ${answers.join(', ')}`);
    await sleep(25);
  }
}
