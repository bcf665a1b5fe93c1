import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { PASSWORD, USER_AGENTS } from '../../helpers/app.js';

/** No request of the race, crash and outage tests may take longer: one that does is a hang. */
export const REQUEST_BOUND_MS = 10_000;

/**
 * Where a request goes: the base URL of a server listening on a real port, or a node of this
 * process, reached through Fastify's inject (the whole app — hooks, schemas, error handler —
 * minus the socket, which costs the client several times what the request costs the server).
 */
export type Target = string | FastifyInstance;

/** One HTTP answer, or its absence (status 0: no connection, or no answer within the bound). */
export interface Answer {
  status: number;
  code: string | undefined;
  contentType: string;
  // JSON as the server sent it; the tests read the fields they expect.
  body: any;
  /** The Set-Cookie header, if any. */
  setCookie: string | undefined;
  /** performance.now() when it was sent, and how long the answer took (ms). */
  sentAt: number;
  ms: number;
  timedOut: boolean;
  error: string | undefined;
}

export interface AskOptions {
  token?: string;
  body?: unknown;
  userAgent?: string;
  /**
   * Browser mode (`Gatehouse-Refresh-Token: cookie`, from Gatehouse's own page), sending this
   * `name=value` refresh cookie, or none when empty.
   */
  browser?: string;
}

/** One request that never throws and never waits longer than REQUEST_BOUND_MS. */
export async function ask(target: Target, method: string, path: string, options: AskOptions = {}): Promise<Answer> {
  const sentAt = performance.now();
  const headers: Record<string, string> = {
    'user-agent': options.userAgent ?? USER_AGENTS.chromeWindows,
    ...(options.browser === undefined ? {} : { 'gatehouse-refresh-token': 'cookie', 'sec-fetch-site': 'same-origin' }),
    ...(options.browser ? { cookie: options.browser } : {}),
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  };
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  try {
    const { status, contentType, setCookie, text } =
      typeof target === 'string' ? await overHttp(target + path, method, headers, payload) : await injected(target, path, method, headers, payload);
    const body = text && /json/.test(contentType) ? JSON.parse(text) : undefined;
    const code = typeof body?.code === 'string' ? (body.code as string) : undefined;
    return { status, code, contentType, setCookie, body, sentAt, ms: performance.now() - sentAt, timedOut: false, error: undefined };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    const message = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
    return {
      status: 0,
      code: undefined,
      contentType: '',
      setCookie: undefined,
      body: undefined,
      sentAt,
      ms: performance.now() - sentAt,
      timedOut,
      error: message.trim(),
    };
  }
}

async function overHttp(url: string, method: string, headers: Record<string, string>, body: string | undefined) {
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    setCookie: response.headers.get('set-cookie') ?? undefined,
    text: await response.text(),
  };
}

async function injected(app: FastifyInstance, url: string, method: string, headers: Record<string, string>, payload: string | undefined) {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { name: 'TimeoutError' })), REQUEST_BOUND_MS);
  });
  try {
    const response = await Promise.race([app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) }), bound]);
    const setCookie = response.headers['set-cookie'];
    return {
      status: response.statusCode,
      contentType: String(response.headers['content-type'] ?? ''),
      setCookie: setCookie === undefined ? undefined : String(setCookie),
      text: response.body,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A browser's one refresh cookie, which every tab sends and every answer may replace, in the order answers arrive. */
export class CookieJar {
  /** `name=value` as the next request sends it; empty once cleared. */
  cookie = '';

  took(answer: Answer): void {
    if (answer.setCookie === undefined) return;
    const [pair = ''] = answer.setCookie.split(';');
    this.cookie = /Max-Age=0(;|$)/.test(answer.setCookie) ? '' : pair;
  }
}

/** `status code` of an answer, for readable failure messages and tallies. */
export function outcome(answer: Answer): string {
  if (answer.status === 0) return answer.timedOut ? 'no answer (timeout)' : `no answer (${answer.error})`;
  return answer.code ? `${answer.status} ${answer.code}` : String(answer.status);
}

/** The answer is a problem+json error with this status and code. */
export function expectRefusal(answer: Answer, status: number, code: string): void {
  expect(outcome(answer), JSON.stringify(answer.body)).toBe(`${status} ${code}`);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
}

export interface Tokens {
  sessionId: string;
  userId: string;
  access: string;
  refresh: string;
}

/** The tokens of a 200 from login or refresh. */
export function tokensOf(answer: Answer): Tokens {
  const body = answer.body as { access_token: string; refresh_token: string; session: { id: string }; user: { id: string } };
  return { sessionId: body.session.id, userId: body.user.id, access: body.access_token, refresh: body.refresh_token };
}

/** Registers `email` (201 expected). */
export async function registerAt(base: Target, email: string, password = PASSWORD): Promise<string> {
  const answer = await ask(base, 'POST', '/v1/auth/register', { body: { email, password } });
  expect(outcome(answer), JSON.stringify(answer.body)).toBe('201');
  return (answer.body as { user: { id: string } }).user.id;
}

/** Signs `email` in (200 expected) and returns the new session's tokens. */
export async function signInAt(base: Target, email: string, password = PASSWORD): Promise<Tokens> {
  const answer = await ask(base, 'POST', '/v1/auth/login', { body: { email, password } });
  expect(outcome(answer), JSON.stringify(answer.body)).toBe('200');
  return tokensOf(answer);
}

/**
 * Runs `round(0)` … `round(count - 1)`, `lanes` at a time: rounds of one race are independent
 * (each has its own account), and several in flight keep the database busier, as real traffic
 * would, while each round's own requests still start together.
 */
export async function repeatInLanes(count: number, lanes: number, round: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) await round(next++);
    }),
  );
}
