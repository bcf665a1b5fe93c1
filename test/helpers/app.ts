import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { ErrorCode } from '../../src/core/errors.js';
import type { PasswordHasher } from '../../src/core/password-hasher.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { testClock, type TestClock } from './clock.js';
import { createTestDatabase, type DatabaseKind } from './databases.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { instantHasher } from './hashers.js';

export const USER_AGENTS = {
  firefoxUbuntu: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
};

export const PASSWORD = 'correct horse battery staple';

export interface TestGatehouse {
  gatehouse: Gatehouse;
  app: FastifyInstance;
  clock: TestClock;
  config: Config;
  close(): Promise<void>;
}

/**
 * Where test nodes write mail by default: `.eml` files, as a fresh install outside production
 * does, but under the system's temp directory rather than the checkout's ./data/mail. Tests
 * that read mail give a real SMTP server instead (helpers/smtp.ts).
 */
export const TEST_MAIL_DIR = join(tmpdir(), `gatehouse-test-mail-${process.pid}`);

/** Configuration as a fresh install has it, with the test's changes on top. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), logLevel: 'silent', mail: { kind: 'files', dir: TEST_MAIL_DIR }, ...overrides };
}

/**
 * A whole Gatehouse node on a new database of `kind`, with a clock the test controls, and a
 * hasher that costs nothing (test/helpers/hashers.ts): argon2id's ~30 ms a password is what the
 * password tests and one end-to-end test per flow are about, not every test that signs in. Those
 * pass `{ hasher: argon2Hasher() }`.
 */
export async function startTestGatehouse(
  kind: DatabaseKind,
  overrides: Partial<Config> = {},
  services: { hasher?: PasswordHasher } = {},
): Promise<TestGatehouse> {
  const database = await createTestDatabase(kind);
  const config = testConfig({ database: database.location, ...overrides });
  const clock = testClock();
  const store = await openStore(database.location);
  const gatehouse = await createGatehouse(config, { clock, store, logger: false, hasher: services.hasher ?? instantHasher() });
  return {
    gatehouse,
    app: gatehouse.app,
    clock,
    config,
    close: async () => {
      await gatehouse.close();
      await database.drop();
    },
  };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export async function registerUser(app: FastifyInstance, email: string, password = PASSWORD, name?: string): Promise<{ id: string }> {
  const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password, name } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().user;
}

export interface SignedIn {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  session: { id: string; [key: string]: unknown };
  user: { id: string; email: string };
}

/** POST /v1/auth/login from Firefox on Ubuntu at `ip`, whatever it answers. */
export function loginAttempt(app: FastifyInstance, email: string, password: string, ip = '203.0.113.7', userAgent: string = USER_AGENTS.firefoxUbuntu) {
  return app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, headers: { 'user-agent': userAgent }, remoteAddress: ip });
}

export async function signIn(app: FastifyInstance, email: string, options: { password?: string; userAgent?: string; ip?: string } = {}): Promise<SignedIn> {
  const response = await loginAttempt(app, email, options.password ?? PASSWORD, options.ip, options.userAgent);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

/** Asserts a problem+json answer with the given status and stable code. */
export function expectProblem(response: LightMyRequestResponse, status: number, code: ErrorCode): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(body).toMatchObject({ status, code, type: `urn:gatehouse:error:${code}` });
  expect(typeof body.title).toBe('string');
  expect(response.body).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack trace
}
