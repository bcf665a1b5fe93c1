import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD, USER_AGENTS } from '../helpers/app.js';
import { startServer, type RunningServer } from '../helpers/server-process.js';

/**
 * What the process tests of revocation share: two real Gatehouse processes on one database,
 * HTTP requests that record when they were sent and how they were answered, and a
 * "revoke on B, watch A" measurement.
 */

/** GATEHOUSE_REVOCATION_MAX_STALENESS as the nodes run it (the default, 5 s). */
export const STALENESS_BOUND_MS = 5000;

/** No request of these tests may take longer: one that does counts as a hang. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface TwoNodes {
  a: RunningServer;
  b: RunningServer;
  /** Stops both processes (SIGTERM) and removes their working directory. */
  stop(): Promise<void>;
}

/**
 * Starts two Gatehouse processes on `databaseUrl`, one after the other (the first creates the
 * schema and the signing key, the second finds them). Same-device replacement is off, so one
 * user can hold hundreds of sessions signed in from one browser.
 */
export async function startTwoNodes(databaseUrl: string): Promise<TwoNodes> {
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-nodes-'));
  const env = { DATABASE_URL: databaseUrl, GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false' };
  const started: RunningServer[] = [];
  const stop = async () => {
    for (const server of started) await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  };
  try {
    started.push(await startServer(cwd, env));
    started.push(await startServer(cwd, env));
  } catch (error) {
    await stop();
    throw error;
  }
  return { a: started[0]!, b: started[1]!, stop };
}

export interface Answer {
  status: number;
  code: string | undefined;
  detail: string | undefined;
  body: Record<string, unknown> | undefined;
  /** performance.now() when the request was sent, and how long its answer took (ms). */
  sentAt: number;
  ms: number;
  /** No answer within REQUEST_TIMEOUT_MS (status 0). */
  timedOut: boolean;
  /** The connection failed (status 0), e.g. the process is gone. */
  error: string | undefined;
}

/** One HTTP request that never throws and never waits longer than REQUEST_TIMEOUT_MS. */
export async function send(base: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> {
  const sentAt = performance.now();
  try {
    const response = await fetch(base + path, {
      method,
      headers: {
        'user-agent': USER_AGENTS.chromeWindows,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const body = text && /json/.test(response.headers.get('content-type') ?? '') ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
    return {
      status: response.status,
      code: str(body?.code),
      detail: str(body?.detail),
      body,
      sentAt,
      ms: performance.now() - sentAt,
      timedOut: false,
      error: undefined,
    };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    const message = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
    return { status: 0, code: undefined, detail: undefined, body: undefined, sentAt, ms: performance.now() - sentAt, timedOut, error: message };
  }
}

export interface Session {
  id: string;
  access: string;
}

/** Registers `email` on the first node. */
export async function register(node: RunningServer, email: string): Promise<void> {
  const answer = await send(node.url, 'POST', '/v1/auth/register', { body: { email, password: PASSWORD } });
  if (answer.status !== 201) throw new Error(`register ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/**
 * Signs `email` in `count` times, spread over `nodes` (each hashes its own share of the
 * argon2 work), a few sign-ins at a time.
 */
export async function signInMany(nodes: RunningServer[], email: string, count: number, concurrency = 4): Promise<Session[]> {
  const sessions: Session[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const node = nodes[i % nodes.length]!;
      const answer = await send(node.url, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
      if (answer.status !== 200) throw new Error(`sign-in ${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
      const body = answer.body as { access_token: string; session: { id: string } };
      sessions.push({ id: body.session.id, access: body.access_token });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sessions;
}

export interface Propagation {
  /** From node B's 2xx answer to node A's first `401 session_revoked` (ms); Infinity if A never refused. */
  delayMs: number;
  /** Node A's answers that were neither 200 (before it learnt) nor 401 session_revoked. */
  unexpected: Answer[];
  /** How many times B answered the sign-out with 503 (and it was sent again). */
  retriedOnB: number;
}

export interface WatchOptions {
  /** Pause between two requests to node A (ms). */
  pollEveryMs?: number;
  /** Stop asking A this long after B's answer. */
  giveUpMs?: number;
}

/**
 * Signs `session` out on node B (DELETE /v1/me/sessions/{id} with `by`, another session of the
 * same user), then asks node A with the signed-out access token, about once a millisecond,
 * until A refuses it or `giveUpMs` after B's answer. B must answer 204; a 503 from B
 * (its database unreachable) is retried, since the sign-out did not happen.
 */
export async function revokeOnBWatchA(a: RunningServer, b: RunningServer, session: Session, by: string, options: WatchOptions = {}): Promise<Propagation> {
  const { pollEveryMs = 1, giveUpMs = STALENESS_BOUND_MS + 2000 } = options;
  let revoked: Answer;
  let retriedOnB = 0;
  for (;;) {
    revoked = await send(b.url, 'DELETE', `/v1/me/sessions/${session.id}`, { token: by });
    if (revoked.status !== 503 || retriedOnB === 100) break;
    retriedOnB++;
    await sleep(20);
  }
  if (revoked.status !== 204) throw new Error(`revoking on B: ${revoked.status} ${revoked.error ?? JSON.stringify(revoked.body)}`);
  const answeredAt = revoked.sentAt + revoked.ms;
  const unexpected: Answer[] = [];
  while (performance.now() - answeredAt < giveUpMs) {
    const answer = await send(a.url, 'GET', '/v1/me', { token: session.access });
    if (answer.status === 401 && answer.code === 'session_revoked') return { delayMs: answer.sentAt + answer.ms - answeredAt, unexpected, retriedOnB };
    if (answer.status !== 200) unexpected.push(answer);
    if (answer.status === 0) break; // no answer: the node is gone or hangs, asking again tells nothing more
    await sleep(pollEveryMs);
  }
  return { delayMs: Infinity, unexpected, retriedOnB };
}

/** The q-quantile (0 < q ≤ 1) of `values`, nearest-rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'never');
