import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../../src/core/errors.js';
import { statusOf } from '../../../src/http/problem.js';
import type { KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, USER_AGENTS, type SignedIn, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';

/**
 * Bad input gets a clear answer and changes nothing: every malformed request to every route is
 * a 4xx problem+json with a stable code, and every table reads the same before and after it.
 */

const KiB = 1024;
const PROBLEM_KEYS = ['type', 'title', 'status', 'code', 'detail', 'errors'];
/** A refresh token shaped like ours but issued by no one. */
const UNKNOWN_REFRESH_TOKEN = `${'A'.repeat(22)}.${'A'.repeat(71)}`;
const chars = (n: number) => 'x'.repeat(n);
const emailOf = (n: number) => `${'a'.repeat(n - '@example.com'.length)}@example.com`;

interface Route {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** `{id}` stands for another live session of the caller's. */
  path: string;
  bearer: boolean;
  /** A body the route would accept and act on, so a wrongly accepted request shows in the tables. */
  valid?: Record<string, unknown>;
  /** An OAuth endpoint: reads forms too, and ignores parameters it does not know (RFC 6749 §3.1). */
  oauth?: boolean;
}

const ROUTES: Route[] = [
  {
    name: 'POST /v1/auth/register',
    method: 'POST',
    path: '/v1/auth/register',
    bearer: false,
    valid: { email: 'newcomer@example.com', password: PASSWORD, name: 'Newcomer' },
  },
  { name: 'POST /v1/auth/login', method: 'POST', path: '/v1/auth/login', bearer: false, valid: { email: 'ann@example.com', password: PASSWORD } },
  { name: 'POST /v1/auth/refresh', method: 'POST', path: '/v1/auth/refresh', bearer: false, valid: { refresh_token: UNKNOWN_REFRESH_TOKEN } },
  { name: 'POST /v1/auth/logout', method: 'POST', path: '/v1/auth/logout', bearer: true, valid: { refresh_token: UNKNOWN_REFRESH_TOKEN } },
  { name: 'POST /v1/auth/reauth', method: 'POST', path: '/v1/auth/reauth', bearer: true, valid: { password: PASSWORD } },
  { name: 'GET /v1/me', method: 'GET', path: '/v1/me', bearer: true },
  {
    name: 'POST /v1/me/password',
    method: 'POST',
    path: '/v1/me/password',
    bearer: true,
    valid: { current_password: PASSWORD, new_password: 'an entirely new passphrase' },
  },
  { name: 'GET /v1/me/sessions', method: 'GET', path: '/v1/me/sessions', bearer: true },
  { name: 'DELETE /v1/me/sessions?scope=others', method: 'DELETE', path: '/v1/me/sessions?scope=others', bearer: true },
  { name: 'DELETE /v1/me/sessions/{id}', method: 'DELETE', path: '/v1/me/sessions/{id}', bearer: true },
  { name: 'POST /v1/oauth/revoke', method: 'POST', path: '/v1/oauth/revoke', bearer: false, valid: { token: UNKNOWN_REFRESH_TOKEN }, oauth: true },
];
const route = (name: string): Route => ROUTES.find((r) => r.name === name) as Route;

interface BadRequest {
  name: string;
  payload?: string;
  headers?: Record<string, string>;
  status: number;
  code: ErrorCode;
}

/** Sent exactly as written and labelled JSON: how malformed JSON reaches the server. */
const json = (text: string) => ({ payload: text, headers: { 'content-type': 'application/json' } });

const MULTIPART = '--gatehouse\r\nContent-Disposition: form-data; name="email"\r\n\r\nann@example.com\r\n--gatehouse--\r\n';

/** Bodies no route can read, whatever it expects. */
const UNREADABLE: BadRequest[] = [
  { name: 'invalid JSON text', ...json('{"email": "ann@example.com", "password": '), status: 400, code: 'invalid_json' },
  { name: 'JSON with a trailing comma', ...json('{"email": "ann@example.com", "password": "x",}'), status: 400, code: 'invalid_json' },
  { name: 'JSON with single quotes', ...json("{'email': 'ann@example.com'}"), status: 400, code: 'invalid_json' },
  { name: 'an empty body labelled JSON', ...json(''), status: 400, code: 'invalid_json' },
  { name: 'only whitespace labelled JSON', ...json(' \n\t '), status: 400, code: 'invalid_json' },
  { name: 'a __proto__ key', ...json('{"__proto__": {"role": "admin"}, "email": "ann@example.com"}'), status: 400, code: 'invalid_json' },
  { name: 'a nested __proto__ key', ...json('{"password": {"__proto__": {"role": "admin"}}}'), status: 400, code: 'invalid_json' },
  { name: 'a constructor.prototype key', ...json('{"constructor": {"prototype": {"role": "admin"}}}'), status: 400, code: 'invalid_json' },
  {
    name: 'a text/plain body',
    payload: '{"email": "ann@example.com"}',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a form-encoded body',
    payload: 'email=ann%40example.com&password=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a multipart body',
    payload: MULTIPART,
    headers: { 'content-type': 'multipart/form-data; boundary=gatehouse' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'an XML body',
    payload: '<email>ann@example.com</email>',
    headers: { 'content-type': 'application/xml' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a look-alike JSON media type',
    payload: '{}',
    headers: { 'content-type': 'application/json-patch+json' },
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'a body without any content type', payload: '{"email": "ann@example.com"}', status: 415, code: 'unsupported_media_type' },
  { name: 'a 17 KiB JSON body', ...json(JSON.stringify({ email: 'ann@example.com', password: chars(17 * KiB) })), status: 413, code: 'payload_too_large' },
  {
    name: 'a Content-Length promising more than is sent',
    payload: '{}',
    headers: { 'content-type': 'application/json', 'content-length': '100' },
    status: 400,
    code: 'validation_failed',
  },
];

/** Well-formed JSON of the wrong shape for `r`, each refused by the route's schema. */
function wrongShapes(r: Route): BadRequest[] {
  const valid = r.valid ?? {};
  const optional = r.name === 'POST /v1/auth/register' ? ['name'] : [];
  const nullable = optional;
  const invalid = (name: string, body: unknown): BadRequest => ({ name, ...json(JSON.stringify(body)), status: 400, code: 'validation_failed' });
  const cases = [
    invalid('a JSON array', [valid]),
    invalid('a JSON string', 'ann@example.com'),
    invalid('a JSON number', 42),
    invalid('JSON true', true),
    invalid('an empty object', {}),
  ];
  if (!r.oauth)
    cases.push(invalid('an unknown field role', { ...valid, role: 'admin' }), invalid('an unknown field id', { ...valid, id: 'chosen-by-the-client' }));
  // Logout with only a Bearer token sends no body, which reaches validation as null.
  if (r.name !== 'POST /v1/auth/logout') cases.push(invalid('JSON null', null));
  for (const field of Object.keys(valid)) {
    if (!optional.includes(field)) cases.push(invalid(`no ${field}`, { ...valid, [field]: undefined }));
    cases.push(
      invalid(`${field} as a number`, { ...valid, [field]: 12345678 }),
      invalid(`${field} as a boolean`, { ...valid, [field]: true }),
      invalid(`${field} as an array`, { ...valid, [field]: [valid[field]] }),
      invalid(`${field} as an object`, { ...valid, [field]: { value: valid[field] } }),
      invalid(`${field} of 5,000 characters`, { ...valid, [field]: field === 'email' ? emailOf(5000) : chars(5000) }),
    );
    if (!nullable.includes(field)) cases.push(invalid(`${field} as null`, { ...valid, [field]: null }));
  }
  return cases;
}

/** Table rows with their name (and an optional suffix) first, so titles read without quotes. */
function titled<T extends { name: string }>(rows: T[], suffix: (row: T) => string = () => ''): [string, T][] {
  return rows.map((row) => [`${row.name}${suffix(row)}`, row]);
}

/** Asserts a 4xx problem+json in the contract's vocabulary, with nothing of the server's insides. */
function expectClientProblem(response: LightMyRequestResponse, status?: number, code?: ErrorCode): void {
  if (status !== undefined && code !== undefined) expectProblem(response, status, code);
  expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, response.body).toBeLessThan(500);
  expect(response.headers['content-type'], response.body).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(ERROR_CODES).toContain(body.code);
  expect(body).toMatchObject({ type: `urn:gatehouse:error:${body.code}`, status: response.statusCode, title: expect.any(String) });
  expect(statusOf(body.code)).toBe(response.statusCode);
  expect(PROBLEM_KEYS).toEqual(expect.arrayContaining(Object.keys(body)));
  for (const error of body.errors ?? []) expect(error).toEqual({ pointer: expect.stringMatching(/^\//), detail: expect.any(String) });
  expect(response.body).not.toMatch(/FST_ERR|node_modules|\/src\/|\bat .+\.(ts|js):\d+/);
  if (response.statusCode === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
}

describe.each(HTTP_DATABASES)('bad requests on %s', (kind) => {
  let t: TestGatehouse;
  /** The caller of every Bearer route. */
  let ann: SignedIn;
  /** Another of Ann's sessions: what DELETE /v1/me/sessions/{id} and scope=others would end. */
  let laptop: SignedIn;

  beforeAll(async () => {
    t = await startTestGatehouse(kind);
    await registerUser(t.app, 'ann@example.com');
    ann = await signIn(t.app, 'ann@example.com', { userAgent: USER_AGENTS.firefoxUbuntu, ip: '198.51.100.1' });
    laptop = await signIn(t.app, 'ann@example.com', { userAgent: USER_AGENTS.chromeWindows, ip: '198.51.100.2' });
    // Still fresh for scope=others, but a wrongly accepted reauth would now move authenticated_at.
    t.clock.advance(60);
  });
  afterAll(() => t.close());

  /** Every row of every table, in primary-key order. */
  async function snapshot() {
    const db = (t.gatehouse.store as KyselyStore).db;
    const [users, sessions, signingKeys] = await Promise.all([
      db.selectFrom('users').selectAll().orderBy('id').execute(),
      db.selectFrom('sessions').selectAll().orderBy('id').execute(),
      db.selectFrom('signing_keys').selectAll().orderBy('kid').execute(),
    ]);
    return { users, sessions, signing_keys: signingKeys };
  }

  function requestTo(r: Route, extra: { payload?: string; headers?: Record<string, string | undefined> } = {}): InjectOptions {
    const headers: Record<string, string> = { 'user-agent': USER_AGENTS.safariIphone };
    if (r.bearer) headers.authorization = `Bearer ${ann.access_token}`;
    for (const [name, value] of Object.entries(extra.headers ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    return {
      method: r.method,
      url: r.path.replace('{id}', laptop.session.id),
      headers,
      remoteAddress: '203.0.113.99',
      ...(extra.payload === undefined ? {} : { payload: extra.payload }),
    };
  }

  /** Sends `request`, expects a 4xx problem (exactly `status`/`code` when given), and no change to any table. */
  async function expectRefusedAndNothingChanged(request: InjectOptions, status?: number, code?: ErrorCode): Promise<LightMyRequestResponse> {
    const before = await snapshot();
    const response = await t.app.inject(request);
    expectClientProblem(response, status, code);
    expect(await snapshot()).toEqual(before);
    return response;
  }

  describe.each(titled(ROUTES.filter((r) => r.method !== 'GET')))('%s refuses an unreadable body', (_name, r) => {
    // An OAuth endpoint reads the form, then finds no `token` in it.
    const unreadable = (c: BadRequest): BadRequest => (r.oauth && c.name === 'a form-encoded body' ? { ...c, status: 400, code: 'validation_failed' } : c);
    it.each(titled(UNREADABLE.map(unreadable), (c) => ` with ${c.status} ${c.code}`))('%s', async (_title, { payload, headers, status, code }) => {
      await expectRefusedAndNothingChanged(requestTo(r, { payload, headers }), status, code);
    });
  });

  describe.each(titled(ROUTES.filter((r) => r.valid)))('%s refuses JSON of the wrong shape', (_name, r) => {
    it.each(titled(wrongShapes(r)))('%s with 400 validation_failed', async (_title, { payload, headers, status, code }) => {
      const response = await expectRefusedAndNothingChanged(requestTo(r, { payload, headers }), status, code);
      expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: expect.stringMatching(/^\/body/) })]));
    });
  });

  describe.each(titled(ROUTES.filter((r) => r.method === 'GET')))('%s, which takes no body', (_name, r) => {
    const ignored = UNREADABLE.filter((c) => ['invalid JSON text', 'a text/plain body', 'a 17 KiB JSON body'].includes(c.name));
    it.each(titled(ignored))('ignores %s and answers as usual, changing nothing', async (_title, { payload, headers }) => {
      const before = await snapshot();
      const response = await t.app.inject(requestTo(r, { payload, headers }));
      expect(response.statusCode, response.body).toBe(200);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('validation errors', () => {
    it('point at each offending field of the body: /body/email, /body/password, /body/name', async () => {
      const response = await expectRefusedAndNothingChanged(
        requestTo(route('POST /v1/auth/register'), json(JSON.stringify({ email: 42, password: ['x'], name: { first: 'Ann' } }))),
        400,
        'validation_failed',
      );
      const { detail, errors } = response.json();
      const pointers = errors.map((e: { pointer: string }) => e.pointer);
      expect(pointers).toEqual(expect.arrayContaining(['/body/email', '/body/password', '/body/name']));
      expect(detail).toMatch(/^\/body\/email /);
    });

    it('point at an unknown field by its name', async () => {
      const response = await expectRefusedAndNothingChanged(
        requestTo(route('POST /v1/auth/register'), json(JSON.stringify({ email: 'eve@example.com', password: PASSWORD, role: 'admin' }))),
        400,
        'validation_failed',
      );
      expect(response.json().errors).toEqual([{ pointer: '/body/role', detail: 'is not an allowed field' }]);
    });

    it('name a missing field', async () => {
      const response = await expectRefusedAndNothingChanged(requestTo(route('POST /v1/auth/login'), json('{"password": "x"}')), 400, 'validation_failed');
      expect(response.json().errors).toContainEqual({ pointer: '/body/email', detail: 'is required' });
    });

    it('never echo a submitted password', async () => {
      const secret = 'my-very-secret-passphrase';
      const response = await expectRefusedAndNothingChanged(
        requestTo(route('POST /v1/auth/login'), json(JSON.stringify({ email: 'ann@example.com', password: secret, remember: true }))),
        400,
        'validation_failed',
      );
      expect(response.body).not.toContain(secret);
    });

    // core/errors.ts documents pointers as `/body/email`, and schema errors use that form; the
    // rules in core/ (email syntax, password policy, name) answer `/email`, `/password`, `/name`.
    // A client mapping errors onto form fields must not need two conventions.
    it.each([
      ['an email the email rule refuses', 'POST /v1/auth/register', { email: 'not-an-email', password: PASSWORD }, 400, 'validation_failed', '/body/email'],
      ['a password the policy finds weak', 'POST /v1/auth/register', { email: 'weak@example.com', password: 'short' }, 400, 'weak_password', '/body/password'],
      [
        'a name with a control character',
        'POST /v1/auth/register',
        { email: 'ctl@example.com', password: PASSWORD, name: 'Ann\u0007' },
        400,
        'validation_failed',
        '/body/name',
      ],
      ['a weak new password', 'POST /v1/me/password', { current_password: PASSWORD, new_password: 'short' }, 400, 'weak_password', '/body/new_password'],
    ] as const)('use the same /body/… pointer for %s as the schema does', async (_label, routeName, body, status, code, pointer) => {
      const response = await expectRefusedAndNothingChanged(requestTo(route(routeName), json(JSON.stringify(body))), status, code);
      expect(response.json().errors).toContainEqual(expect.objectContaining({ pointer }));
    });
  });

  describe('POST /v1/auth/register', () => {
    const invalidEmails = ['', ' ', 'not-an-email', 'a@b', 'ann@@example.com', '<ann@example.com>', 'ann@exam\nple.com', 'ann\u0000@example.com'];
    it.each([...invalidEmails.map((email) => [JSON.stringify(email), email]), ['a 300-character address', emailOf(300)]])(
      'refuses the invalid email %s and creates no account',
      async (_label, email) => {
        await expectRefusedAndNothingChanged(
          requestTo(route('POST /v1/auth/register'), json(JSON.stringify({ email, password: PASSWORD }))),
          400,
          'validation_failed',
        );
      },
    );

    it('refuses a name of 5,000 characters, or one of 101 that the schema lets through', async () => {
      for (const name of [chars(5000), chars(101)]) {
        await expectRefusedAndNothingChanged(
          requestTo(route('POST /v1/auth/register'), json(JSON.stringify({ email: 'named@example.com', password: PASSWORD, name }))),
          400,
          'validation_failed',
        );
      }
    });
  });

  describe('POST /v1/auth/login', () => {
    it('refuses a 16,000-character password, just under the body limit, by validation and not by hashing it', async () => {
      const payload = JSON.stringify({ email: 'ann@example.com', password: chars(16_000) });
      expect(payload.length).toBeLessThan(16 * KiB);
      await expectRefusedAndNothingChanged(requestTo(route('POST /v1/auth/login'), json(payload)), 400, 'validation_failed');
    });

    it.each(['not-an-email', 'ann@', '@example.com'])('answers the malformed email %j like any unknown one', async (email) => {
      await expectRefusedAndNothingChanged(
        requestTo(route('POST /v1/auth/login'), json(JSON.stringify({ email, password: PASSWORD }))),
        401,
        'invalid_credentials',
      );
    });
  });

  describe('POST /v1/auth/logout with only a refresh token', () => {
    const logout = (refreshToken: unknown) =>
      requestTo({ ...route('POST /v1/auth/logout'), bearer: false }, json(JSON.stringify({ refresh_token: refreshToken })));

    it.each([
      ['garbage', 'garbage'],
      ['no dot', chars(66)],
      ['a dot alone', '.'],
      ['__proto__ parts', '__proto__.constructor'],
      ['a NUL byte', `${'\u0000'.repeat(22)}.${'A'.repeat(71)}`],
      ['256 characters', chars(256)],
      ['the shape of ours but issued by no one', UNKNOWN_REFRESH_TOKEN],
    ])('refuses a refresh token with %s as invalid_refresh_token', async (_label, token) => {
      await expectRefusedAndNothingChanged(logout(token), 401, 'invalid_refresh_token');
    });

    it('refuses a real session id with a forged secret, and that session stays signed in', async () => {
      await expectRefusedAndNothingChanged(logout(`${laptop.session.id}.${'A'.repeat(71)}`), 401, 'invalid_refresh_token');
      expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${laptop.access_token}` } })).statusCode).toBe(200);
    });

    it.each([
      ['empty', ''],
      ['of 257 characters', chars(257)],
      ['of 15 KiB', chars(15 * KiB)],
    ])('refuses a refresh token %s as validation_failed', async (_label, token) => {
      await expectRefusedAndNothingChanged(logout(token), 400, 'validation_failed');
    });
  });

  describe('DELETE /v1/me/sessions', () => {
    const revokeAll = (query: string) => requestTo({ ...route('DELETE /v1/me/sessions?scope=others'), path: `/v1/me/sessions${query}` });

    it.each([
      ['no scope at all', ''],
      ['scope=everyone', '?scope=everyone'],
      ['scope=ALL', '?scope=ALL'],
      ['an empty scope', '?scope='],
      ['scope given twice', '?scope=others&scope=all'],
      ['scope given twice with one value', '?scope=others&scope=others'],
      ['scope[] as an array', '?scope[]=all'],
      ['an extra parameter', '?scope=others&force=1'],
      ['a 5,000-character scope', `?scope=${chars(5000)}`],
      ['a NUL byte after the scope', '?scope=others%00'],
    ])('refuses %s as validation_failed, pointing into the query', async (_label, query) => {
      const response = await expectRefusedAndNothingChanged(revokeAll(query), 400, 'validation_failed');
      expect(response.json().errors).toContainEqual(expect.objectContaining({ pointer: expect.stringMatching(/^\/querystring/) }));
    });
  });

  describe('DELETE /v1/me/sessions/{id}', () => {
    const revoke = (id: string) => requestTo({ ...route('DELETE /v1/me/sessions/{id}'), path: `/v1/me/sessions/${id}` });

    it('refuses a 65-character id as validation_failed at /params/id', async () => {
      const response = await expectRefusedAndNothingChanged(revoke(chars(65)), 400, 'validation_failed');
      expect(response.json().errors).toContainEqual(expect.objectContaining({ pointer: '/params/id' }));
    });

    it.each([
      ['an id no session has', 'A'.repeat(22)],
      ['__proto__', '__proto__'],
      ['constructor', 'constructor'],
    ])('answers %s with not_found', async (_label, id) => {
      await expectRefusedAndNothingChanged(revoke(id), 404, 'not_found');
    });

    // A 404 or a 400 are both right here; what matters is a problem, not Fastify's own JSON.
    // (Fastify answers the last four before routing, outside setErrorHandler, unless
    // `frameworkErrors` is set.)
    it.each([
      ['a path-traversal id', '..%2F..%2Fusers'],
      ['a percent-encoded slash', '%2F'],
      ['a 500-character id', chars(500)],
      ['a 101-character id', chars(101)],
      ['broken percent-encoding', '%E0%A4%A'],
      ['percent-encoding of a lone surrogate', '%ED%A0%80'],
    ])('refuses %s with a 4xx problem', async (_label, id) => {
      await expectRefusedAndNothingChanged(revoke(id));
    });
  });

  // PostgreSQL text cannot hold U+0000: a query carrying one fails, which must not become a 500.
  describe('a NUL character that would reach a PostgreSQL query', () => {
    it('in a session id is refused with a 4xx', async () => {
      await expectRefusedAndNothingChanged(requestTo({ ...route('DELETE /v1/me/sessions/{id}'), path: '/v1/me/sessions/ab%00cd' }));
    });

    it('in a sign-in email is refused with a 4xx', async () => {
      await expectRefusedAndNothingChanged(
        requestTo(route('POST /v1/auth/login'), json(JSON.stringify({ email: 'ann\u0000@example.com', password: PASSWORD }))),
      );
    });
  });

  describe('unknown routes and methods', () => {
    it.each([
      ['GET', '/v1/nope'],
      ['POST', '/v1/auth/signup'],
      ['POST', '/v1/auth/register/'],
      ['GET', '/V1/ME'],
      ['GET', '/v2/me'],
      ['GET', '/v1/me/sessions/abc/extra'],
      ['GET', '/../../etc/passwd'],
      ['GET', '/.env'],
      ['PUT', '/v1/me'],
      ['PATCH', '/v1/me'],
      ['DELETE', '/v1/me'],
      ['GET', '/v1/auth/login'],
      ['DELETE', '/v1/auth/register'],
      ['PUT', '/v1/me/password'],
      ['POST', '/v1/me/sessions'],
      ['PATCH', '/v1/me/sessions/AAAAAAAAAAAAAAAAAAAAAA'],
      ['OPTIONS', '/v1/auth/login'],
      ['TRACE', '/v1/me'],
      ['PROPFIND', '/v1/me'],
    ] as const)('answer %s %s with not_found', async (method, url) => {
      const response = await expectRefusedAndNothingChanged(
        {
          method,
          url,
          headers: { authorization: `Bearer ${ann.access_token}`, 'content-type': 'application/json' },
          payload: JSON.stringify(ROUTES[0]?.valid),
        },
        404,
        'not_found',
      );
      expect(response.json().detail).toContain(method);
    });
  });

  describe.each(titled(ROUTES.filter((r) => r.bearer)))('%s with a bad Authorization header', (_name, r) => {
    // A body the route would act on, so only the header can be the reason for the refusal.
    const withHeader = (authorization: string | undefined) =>
      r.valid && r.name !== 'POST /v1/auth/logout'
        ? { payload: JSON.stringify(r.valid), headers: { 'content-type': 'application/json', authorization } }
        : { headers: { authorization } };
    it.each([
      ['none at all', 'token_missing', undefined],
      ['a Basic credential', 'token_missing', 'Basic YW5uQGV4YW1wbGUuY29tOnB3'],
      ['garbage without a scheme', 'token_missing', 'garbage'],
      ['100 kB without a scheme', 'token_missing', chars(100_000)],
      ['the scheme alone', 'token_invalid', 'Bearer'],
      ['garbage after Bearer', 'token_invalid', 'Bearer not.a.jwt'],
      ['characters no token has', 'token_invalid', 'Bearer <script>alert(1)</script>'],
      ['non-ASCII after Bearer', 'token_invalid', 'Bearer ÿÿÿÿ'],
      ['a 100 kB token', 'token_invalid', `Bearer ${'A'.repeat(100_000)}`],
      ['a 100 kB token shaped like a JWT', 'token_invalid', `Bearer eyJhbGciOiJFZERTQSJ9.${'A'.repeat(100_000)}.AAAA`],
    ] as const)('answers %s with %s', async (_label, code, authorization) => {
      await expectRefusedAndNothingChanged(requestTo(r, withHeader(authorization)), 401, code);
    });

    it('answers two tokens in one header with token_invalid', async () => {
      await expectRefusedAndNothingChanged(requestTo(r, withHeader(`Bearer ${ann.access_token} ${ann.access_token}`)), 401, 'token_invalid');
    });
  });

  it('leaves the caller signed in on both sessions after all of it', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: { authorization: `Bearer ${ann.access_token}` } });
    expect(list.statusCode).toBe(200);
    expect(
      list
        .json()
        .sessions.map((s: { id: string }) => s.id)
        .sort(),
    ).toEqual([ann.session.id, laptop.session.id].sort());
    const onLaptop = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${laptop.access_token}` } });
    expect(onLaptop.statusCode).toBe(200);
    const { users } = await snapshot();
    expect(users.map((u) => u.email)).toEqual(['ann@example.com']);
  });
});
