import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/core/errors.js';
import { connect, type Connection } from '../../../src/storage/kysely/connect.js';
import { registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';
import { DATABASES, type DatabaseKind } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';

// Issue 8, item 2: every route of the OpenAPI document (which a test in test/http holds to
// every registered route) gets fuzzed bodies, queries, path parameters and headers. Whatever
// comes in: no 5xx, every error is problem+json with a known code (or, for a browser's request
// to a page, an HTML page), and a rejected request leaves the database as it was.

/** Cases per operation: enough to reach every branch of its validation, bounded for CI. */
const RUNS: Record<DatabaseKind, number> = { sqlite: 200, postgres: 60 };
const SERVICE_KEY = 'fuzz-service-key-0123456789abcdefghijklmnopqrstuvwxyz';

/** Rejections that are meant to leave a trace: the failure counters and history of sign-in attempts. */
const RECORDED_FAILURES = new Set(['sign_in_failed', 'account_locked', 'reauth_failed', 'password_change_failed']);
// Per-address and per-recipient counters count every attempt, refused or not (core/address-limits.ts).
const COUNTER_TABLES = new Set(['sign_in_failures', 'sign_in_address_failures', 'address_attempts']);
/**
 * Written by timers at any moment, whatever the request, so not part of a request's change: the
 * last-activity write, and the mail deliverer sending what accepted requests queued.
 */
const TIMER_COLUMNS = new Set(['last_active_at', 'idle_expires_at', 'attempts', 'next_attempt_at', 'claimed_until', 'sent_at', 'gave_up_at', 'last_error']);

interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  body?: Schema;
  /** It answers with HTML pages (the "this wasn't me" link). */
  pages: boolean;
}

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

const nasty = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\uFFFD',
  '\uD800',
  '../../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '%00',
  '%',
  '__proto__',
  'constructor',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  '9007199254740993',
  'a'.repeat(5000),
  '😀'.repeat(200),
  'null',
  'true',
  '<script>alert(1)</script>',
  'admin@example.com',
);
const text = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
const anyJson = fc.oneof(
  text,
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(JSON.parse('{"__proto__":{"role":"admin"}}')),
  fc.constant(JSON.parse('{"constructor":{"prototype":{"role":"admin"}}}')),
);

/** A value for `schema`: right-looking, of the wrong type, or hostile. */
function valueFor(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const near: fc.Arbitrary<unknown>[] = [];
  if (schema?.enum) near.push(fc.constantFrom(...schema.enum));
  if (schema?.const !== undefined) near.push(fc.constant(schema.const));
  const types = Array.isArray(schema?.type) ? schema.type : schema?.type ? [schema.type] : [];
  // Never the fuzz accounts' password: a fuzzed password change that succeeded would lock the
  // test out of its own accounts.
  if (types.includes('string')) near.push(fc.emailAddress(), fc.string({ minLength: 8, maxLength: 130 }));
  // Strings the schema lets through reach the code behind the validation (cursors, ids, tokens).
  if (types.includes('string') && schema?.pattern) near.push(fc.stringMatching(new RegExp(schema.pattern)));
  if (types.includes('integer') || types.includes('number')) near.push(fc.integer({ min: -5, max: 200 }), fc.double());
  if (types.includes('boolean')) near.push(fc.boolean());
  if (types.includes('object') && schema?.properties) near.push(objectFor(schema));
  return near.length ? fc.oneof(...near, anyJson) : anyJson;
}

/** An object with some of the schema's properties (each right-looking or not) and perhaps strangers. */
function objectFor(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, s]) => [name, valueFor(s)]));
  return fc
    .tuple(fc.record(properties, { requiredKeys: [] }), fc.dictionary(fc.oneof(nasty, fc.string({ maxLength: 10 })), anyJson, { maxKeys: 2 }))
    .map(([known, extra]) => ({ ...extra, ...known }));
}

/** A generated value as query text: String() throws on an object whose toString is not a function. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** encodeURIComponent throws on a lone surrogate; the server never sees one in a URL anyway. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDFFF]/g, '\uFFFD');
}

function operationsOf(document: { paths: Record<string, Record<string, any>> }): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => {
        const content = (op.requestBody?.content ?? {}) as Record<string, { schema?: Schema }>;
        return {
          method: method.toUpperCase(),
          path,
          parameters: op.parameters ?? [],
          body: content['application/json']?.schema ?? Object.values(content)[0]?.schema,
          pages: Object.values((op.responses ?? {}) as Record<string, { content?: Record<string, unknown> }>).some((r) => 'text/html' in (r.content ?? {})),
        };
      }),
  );
}

describe.each(DATABASES)('every route, fuzzed, on %s', (kind) => {
  let t: TestGatehouse;
  let reader: Connection;
  let operations: Operation[];
  let userEmail: string;
  let adminEmail: string;
  let tables: string[];

  beforeAll(async () => {
    t = await startTestGatehouse(kind, { serviceKeys: [SERVICE_KEY] }, { hasher: instantHasher() });
    reader = connect(t.config.database);
    userEmail = 'fuzz-user@example.com';
    adminEmail = 'fuzz-admin@example.com';
    await registerUser(t.app, userEmail);
    const admin = await registerUser(t.app, adminEmail);
    // The admin routes are fuzzed past their role check too.
    await sql`update users set role = 'admin' where id = ${admin.id}`.execute(reader.db);
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    operations = operationsOf(document);
    tables =
      kind === 'sqlite'
        ? (
            await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(reader.db)
          ).rows.map((r) => r.name)
        : (
            await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
              reader.db,
            )
          ).rows.map((r) => r.name);
  });
  afterAll(async () => {
    await reader?.db.destroy();
    await t?.close();
  });

  // One session per account, reused while it lives: a sign-in per case would grow the tables
  // the snapshots read, and slow every later case.
  const tokens = new Map<'user' | 'admin', string>();
  async function tokenOf(who: 'user' | 'admin'): Promise<string> {
    let token = tokens.get(who);
    if (token === undefined) tokens.set(who, (token = (await signIn(t.app, who === 'user' ? userEmail : adminEmail)).access_token));
    return token;
  }
  /** A fuzzed request may have signed the account out (logout, "sign out everywhere"…). */
  async function forgetIfEnded(who: 'user' | 'admin'): Promise<void> {
    const check = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${tokens.get(who)}` } });
    if (check.statusCode !== 200) tokens.delete(who);
  }

  /** Every row of every table, minus what rejected requests are meant to record. */
  async function snapshot(): Promise<string> {
    const parts: string[] = [];
    for (const table of tables) {
      if (COUNTER_TABLES.has(table)) continue;
      const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(reader.db)).rows
        .filter((row) => table !== 'events' || !RECORDED_FAILURES.has(String(row.type)))
        .map((row) => JSON.stringify(Object.entries(row).filter(([column]) => !TIMER_COLUMNS.has(column))))
        .sort();
      parts.push(`${table}: ${rows.join('\n')}`);
    }
    return parts.join('\n\n');
  }

  it('has operations to fuzz: the document lists the routes', () => {
    expect(operations.length).toBeGreaterThan(15);
  });

  it('answers every fuzzed request to every operation without a 5xx, with a known problem, changing nothing when it refuses', async () => {
    let cases = 0;
    const statuses = new Map<number, number>();
    for (const op of operations) {
      const pathParams = op.parameters.filter((p) => p.in === 'path');
      const queryParams = op.parameters.filter((p) => p.in === 'query');
      const request = fc.record({
        path: fc
          .tuple(...pathParams.map(() => fc.oneof(text, fc.uuid())))
          .map((values) =>
            pathParams.reduce((path, p, i) => path.replace(`{${p.name}}`, encodeURIComponent(wellFormed(String(values[i] ?? ''))) || '%20'), op.path),
          ),
        query: fc
          .tuple(
            fc.record(Object.fromEntries(queryParams.map((p) => [p.name, fc.oneof(valueFor(p.schema).map(asText), text)])), { requiredKeys: [] }),
            fc.dictionary(
              fc.oneof(fc.constantFrom('limit', 'cursor', 'type', 'scope', 'email', 'since'), nasty),
              fc.oneof(text, fc.array(text, { maxLength: 3 })),
              { maxKeys: 2 },
            ),
          )
          .map(([documented, extra]) => ({ ...extra, ...documented }) as Record<string, string | string[]>),
        body: fc.oneof(
          { weight: 3, arbitrary: op.body ? valueFor(op.body).map((v) => ({ type: 'application/json', payload: JSON.stringify(v) })) : fc.constant(undefined) },
          { weight: 1, arbitrary: anyJson.map((v) => ({ type: 'application/json', payload: JSON.stringify(v) ?? 'null' })) },
          { weight: 1, arbitrary: text.map((s) => ({ type: 'application/json', payload: s })) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(
                fc.constantFrom(
                  'application/x-www-form-urlencoded',
                  'text/plain',
                  'multipart/form-data; boundary=x',
                  'application/xml',
                  'application/json; charset=utf-16',
                  'garbage',
                ),
                text,
              )
              .map(([type, payload]) => ({ type, payload })),
          },
          { weight: 1, arbitrary: fc.constant({ type: 'application/json', payload: JSON.stringify({ pad: 'x'.repeat(20_000) }) }) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        // Mostly signed in: most routes hide everything behind the token check.
        auth: fc.oneof(
          { weight: 3, arbitrary: fc.constant('user') },
          { weight: 3, arbitrary: fc.constant('admin') },
          fc.constantFrom('none', 'service', 'garbage', 'basic'),
        ),
        headers: fc.record(
          {
            accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/problem+json', 'x/y;;q=abc'),
            cookie: fc.oneof(text, fc.constant('gatehouse_refresh=abc.def')),
            'gatehouse-refresh-token': fc.oneof(fc.constant('cookie'), text),
            origin: fc.oneof(fc.constant('https://evil.example'), text),
            'sec-fetch-site': fc.constantFrom('cross-site', 'same-origin', 'none', 'garbage'),
            'x-forwarded-for': text,
            'user-agent': text,
          },
          { requiredKeys: [] },
        ),
      });

      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(r.headers)) headers[name] = value.replace(/[^\t\x20-\x7e]/g, '?');
          const who = r.auth === 'user' || r.auth === 'admin' ? r.auth : undefined;
          if (who) headers.authorization = `Bearer ${await tokenOf(who)}`;
          if (r.auth === 'service') headers.authorization = `Bearer ${SERVICE_KEY}`;
          if (r.auth === 'garbage') headers.authorization = 'Bearer eyJhbGciOiJub25lIn0.e30.';
          if (r.auth === 'basic') headers.authorization = 'Basic YWRtaW46YWRtaW4=';
          if (r.body) headers['content-type'] = r.body.type;
          const query = new URLSearchParams();
          for (const [name, value] of Object.entries(r.query)) for (const v of [value].flat()) query.append(name, v);
          const url = `${r.path}${query.size ? `?${query}` : ''}`;

          const before = await snapshot();
          const response = await t.app.inject({ method: op.method as 'GET', url, headers, ...(r.body ? { payload: r.body.payload } : {}) });
          cases++;
          if (who && (response.statusCode === 401 || op.method !== 'GET')) await forgetIfEnded(who);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const what = `${op.method} ${url} (${r.auth}) → ${response.statusCode} ${response.body.slice(0, 300)}`;
          expect(response.statusCode, what).toBeLessThan(500);
          if (response.statusCode < 400) return;
          const type = String(response.headers['content-type'] ?? '');
          if (type.startsWith('text/html')) {
            // Only a route that documents pages (the "this wasn't me" link) answers with one.
            expect(op.pages, what).toBe(true);
          } else {
            expect(type, what).toMatch(/^application\/problem\+json/);
            const problem = response.json();
            expect(ERROR_CODES, what).toContain(problem.code);
            expect(problem.status, what).toBe(response.statusCode);
          }
          expect(await snapshot(), what).toBe(before);
        }),
        { numRuns: RUNS[kind] },
      );
    }
    expect(cases).toBe(operations.length * RUNS[kind]);
    // The figures docs/reliability.md quotes.
    const counts = [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    console.log(`fuzz on ${kind}: ${operations.length} operations × ${RUNS[kind]} = ${cases} requests (${counts})`);
  });
});
