import { dereference } from '@readme/openapi-parser';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Check, Errors } from 'typebox/schema';
import { accountToken, type AccountTokenPurpose } from '../../src/core/account-tokens.js';
import { notMeLink } from '../../src/core/not-me-link.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { setRole } from '../../src/service/admin-users.js';
import { bearer, PASSWORD, registerUser, signIn, startTestGatehouse, type SignedIn, type TestGatehouse } from '../helpers/app.js';
import { instantHasher } from '../helpers/hashers.js';

const PUBLIC_URL = 'https://auth.example.com';
const SERVICE_KEY = 'service-key-' + 's'.repeat(32);
const METRICS_TOKEN = 'metrics-token-' + 'm'.repeat(32);

interface Media {
  schema: object;
}
type Responses = Record<string, { content?: Record<string, Media> }>;
type Paths = Record<string, Record<string, { responses: Responses }>>;

interface Call {
  params?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
  payload?: unknown;
}

/**
 * Real requests, each answer checked against what the document says of it: its status is
 * documented for the operation, its media type too, a JSON body fits the schema, and a
 * problem's code is one the document lists under that status. The document is only worth
 * something if the server answers as it says, including where a schema only documents a body
 * (config.docs `content`) rather than shaping it.
 */
describe('the answers of the server, against its OpenAPI document', () => {
  let t: TestGatehouse;
  let paths: Paths;
  const exercised = new Set<string>();
  let ada: SignedIn;

  beforeAll(async () => {
    t = await startTestGatehouse(
      'sqlite',
      {
        serviceKeys: [SERVICE_KEY],
        metricsToken: METRICS_TOKEN,
        publicUrl: PUBLIC_URL,
        webhookUrl: 'http://127.0.0.1:9/hooks',
        webhookSecret: 'whsec_' + 'w'.repeat(40),
      },
      { hasher: instantHasher() },
    );
    const document = (await t.app.inject({ url: '/openapi.json' })).json();
    paths = ((await dereference(document)) as { paths: Paths }).paths;
  });
  afterAll(() => t.close());

  /** Sends the request to `template` (an OpenAPI path), expects `status`, and checks the answer against the document. */
  async function call(method: string, template: string, status: number, request: Call = {}): Promise<LightMyRequestResponse> {
    const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(request.params?.[name] ?? 'x'));
    const response = await t.app.inject({
      method: method as 'GET',
      url: request.query ? `${path}?${request.query}` : path,
      headers: { 'user-agent': 'contract-test', ...request.headers },
      ...(request.payload === undefined ? {} : { payload: request.payload as string }),
    });
    const where = `${method} ${template} → ${response.statusCode}`;
    expect(response.statusCode, `${method} ${template}: ${response.body.slice(0, 200)}`).toBe(status);
    const operation = paths[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is documented`).toBeDefined();
    exercised.add(`${method} ${template}`);
    const documented = operation!.responses[String(response.statusCode)];
    expect(documented, `${where} is a documented status (${response.body.slice(0, 200)})`).toBeDefined();
    if (response.body === '' || method === 'HEAD') return response;
    const type = String(response.headers['content-type']).split(';')[0]!.trim();
    const media = Object.entries(documented!.content ?? {}).find(([key]) => key.split(';')[0]!.trim() === type)?.[1];
    expect(media, `${where}: ${type} is a documented media type`).toBeDefined();
    if (type.endsWith('json')) {
      const body = response.json();
      if (!Check(media!.schema, body)) {
        const [, errors] = Errors(media!.schema, body);
        expect.fail(
          `${where}: the body does not fit the documented schema: ${errors.map((e) => `${e.instancePath} ${e.message}`).join('; ')}\n${response.body.slice(0, 500)}`,
        );
      }
    }
    return response;
  }

  const json = (token?: string) => ({ 'content-type': 'application/json', ...(token ? bearer(token) : {}) });
  const service = { authorization: `Bearer ${SERVICE_KEY}` };

  it('answers the account routes as documented', async () => {
    const email = 'ada@example.com';
    await call('POST', '/v1/auth/register', 201, { headers: json(), payload: { email, password: PASSWORD, name: 'Ada' } });
    await call('POST', '/v1/auth/register', 409, { headers: json(), payload: { email, password: PASSWORD } });
    await call('POST', '/v1/auth/register', 400, { headers: json(), payload: { email: 'short@example.com', password: 'short' } });
    await call('POST', '/v1/auth/register', 400, { headers: json(), payload: '{"email":' });
    await call('POST', '/v1/auth/register', 415, { headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    ada = (await call('POST', '/v1/auth/login', 200, { headers: json(), payload: { email, password: PASSWORD } })).json();
    await call('POST', '/v1/auth/login', 401, { headers: json(), payload: { email, password: 'wrong password' } });
    await call('GET', '/v1/me', 200, { headers: bearer(ada.access_token) });
    await call('GET', '/v1/me', 401);
    await call('GET', '/v1/me', 401, { headers: bearer('not-a-token') });
    await call('POST', '/v1/me/password', 401, {
      headers: json(ada.access_token),
      payload: { current_password: 'wrong password', new_password: 'an entirely new passphrase' },
    });
    await call('GET', '/v1/me/sessions', 200, { headers: bearer(ada.access_token) });
    await call('GET', '/v1/me/activity', 200, { headers: bearer(ada.access_token), query: 'limit=5' });
    await call('GET', '/v1/me/activity', 400, { headers: bearer(ada.access_token), query: 'limit=500' });
    await call('DELETE', '/v1/me/sessions/{id}', 404, { headers: bearer(ada.access_token), params: { id: 'no-such-session' } });
    // Fastify reads a DELETE's body too, so the body codes are documented for DELETE as well.
    await call('DELETE', '/v1/me/sessions/{id}', 415, {
      headers: { ...bearer(ada.access_token), 'content-type': 'text/plain' },
      params: { id: 'x' },
      payload: 'x',
    });
    await call('POST', '/v1/auth/reauth', 204, { headers: json(ada.access_token), payload: { password: PASSWORD } });
    const other = await signIn(t.app, email);
    await call('DELETE', '/v1/me/sessions/{id}', 204, { headers: bearer(ada.access_token), params: { id: other.session.id } });
    await call('DELETE', '/v1/me/sessions', 200, { headers: bearer(ada.access_token), query: 'scope=others' });
    ada = (await call('POST', '/v1/auth/refresh', 200, { headers: json(), payload: { refresh_token: ada.refresh_token } })).json();
    await call('POST', '/v1/auth/refresh', 401, { headers: json(), payload: { refresh_token: 'not-a-refresh-token' } });
    await call('POST', '/v1/auth/refresh', 204, { headers: { 'gatehouse-refresh-token': 'cookie', 'sec-fetch-site': 'same-origin' } });
  });

  it('answers password reset by email as documented', async () => {
    const { id } = await registerUser(t.app, 'grace@example.com');
    await call('POST', '/v1/auth/password-reset', 202, { headers: json(), payload: { email: 'grace@example.com' } });
    await call('POST', '/v1/auth/password-reset', 202, { headers: json(), payload: { email: 'nobody@example.com' } });
    await call('POST', '/v1/auth/password-reset', 400, { headers: json(), payload: {} });
    const [link] = await (t.gatehouse.store as KyselyStore).db
      .selectFrom('account_tokens')
      .select('id')
      .where('user_id', '=', id)
      .where('purpose', '=', 'password_reset')
      .execute();
    const token = accountToken(t.gatehouse.ctx.mail!.tokenKey, 'password_reset', link!.id);
    const confirm = (payload: object, status: number) => call('POST', '/v1/auth/password-reset/confirm', status, { headers: json(), payload });
    await confirm({ token: 'not-a-token', new_password: 'a passphrase for grace' }, 400);
    await confirm({ token, new_password: '123456789012' }, 400);
    await confirm({ token, new_password: 'a passphrase for grace' }, 204);
    await confirm({ token, new_password: 'a passphrase for grace' }, 410);
  });

  it('answers the address routes (verification, change) as documented', async () => {
    const { id } = await registerUser(t.app, 'mary@example.com');
    const mary = await signIn(t.app, 'mary@example.com');
    const db = (t.gatehouse.store as KyselyStore).db;
    const link = async (purpose: AccountTokenPurpose) => {
      const row = await db
        .selectFrom('account_tokens')
        .select('id')
        .where('user_id', '=', id)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('voided_at', 'is', null)
        .executeTakeFirstOrThrow();
      return accountToken(t.gatehouse.ctx.mail!.tokenKey, purpose, row.id);
    };
    await call('POST', '/v1/auth/email-verification', 202, { headers: json(), payload: { email: 'mary@example.com' } });
    await call('POST', '/v1/auth/email-verification', 400, { headers: json(), payload: { email: 7 } });
    await call('POST', '/v1/me/email-verification', 202, { headers: bearer(mary.access_token) });
    await call('POST', '/v1/auth/email-verification/confirm', 400, { headers: json(), payload: { token: 'not-a-token' } });
    await call('POST', '/v1/auth/email-verification/confirm', 204, { headers: json(), payload: { token: await link('email_verification') } });
    await call('POST', '/v1/me/email', 401, { headers: json(mary.access_token), payload: { email: 'mary@new.example', password: 'not her password' } });
    await call('POST', '/v1/me/email', 409, { headers: json(mary.access_token), payload: { email: 'ada@example.com', password: PASSWORD } });
    await call('POST', '/v1/me/email', 202, { headers: json(mary.access_token), payload: { email: 'mary@new.example', password: PASSWORD } });
    const cancel = await link('email_change_cancel');
    await call('POST', '/v1/auth/email-change/confirm', 204, { headers: json(), payload: { token: await link('email_change') } });
    await call('POST', '/v1/auth/email-change/confirm', 400, { headers: json(), payload: { token: 'not-a-token' } });
    await call('POST', '/v1/auth/email-change/cancel', 204, { headers: json(), payload: { token: cancel } });
    await call('POST', '/v1/auth/email-change/cancel', 410, { headers: json(), payload: { token: cancel } });
  });

  it('answers the admin routes as documented', async () => {
    const { id } = await registerUser(t.app, 'root@example.com');
    await setRole(t.gatehouse.ctx, { kind: 'cli' }, id, 'admin');
    const token = (await signIn(t.app, 'root@example.com')).access_token;
    const user = { id: ada.user.id };
    await call('GET', '/v1/admin/users', 403, { headers: bearer(ada.access_token) });
    await call('GET', '/v1/admin/users', 200, { headers: bearer(token), query: 'email=ada' });
    await call('GET', '/v1/admin/users/{id}', 200, { headers: bearer(token), params: user });
    await call('GET', '/v1/admin/users/{id}', 404, { headers: bearer(token), params: { id: 'no-such-user' } });
    await call('GET', '/v1/admin/users/{id}/sessions', 200, { headers: bearer(token), params: user });
    await call('GET', '/v1/admin/users/{id}/activity', 200, { headers: bearer(token), params: user });
    const spare = await signIn(t.app, 'ada@example.com');
    await call('DELETE', '/v1/admin/users/{id}/sessions/{session_id}', 204, { headers: bearer(token), params: { ...user, session_id: spare.session.id } });
    await call('POST', '/v1/admin/users/{id}/password-reset', 202, { headers: json(token), params: user, payload: {} });
    await call('POST', '/v1/admin/users/{id}/password-reset', 404, { headers: json(token), params: { id: 'AAAAAAAAAAAAAAAAAAAAAA' }, payload: {} });
    await call('POST', '/v1/admin/users/{id}/disable', 200, { headers: json(token), params: user, payload: {} });
    await call('POST', '/v1/admin/users/{id}/enable', 200, { headers: json(token), params: user, payload: {} });
    await call('DELETE', '/v1/admin/users/{id}/sessions', 200, { headers: bearer(token), params: user });
    ada = await signIn(t.app, 'ada@example.com');
  });

  it('answers the routes for services and operators as documented', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await call('POST', '/v1/oauth/introspect', 200, { headers: { ...service, ...form }, payload: `token=${ada.access_token}` });
    await call('POST', '/v1/oauth/introspect', 200, { headers: { ...service, ...json() }, payload: { token: 'nothing' } });
    await call('POST', '/v1/oauth/introspect', 401, { headers: json(), payload: { token: 'nothing' } });
    await call('POST', '/v1/oauth/revoke', 200, { headers: form, payload: 'token=nothing' });
    await call('POST', '/v1/oauth/revoke', 400, { headers: form, payload: 'token=a&token=b' });
    await call('GET', '/v1/revocations', 200, { headers: service });
    await call('GET', '/v1/revocations', 400, { headers: service, query: 'since=soon' });
    await call('GET', '/v1/revocations', 401);
    await call('GET', '/.well-known/jwks.json', 200);
    await call('GET', '/healthz', 200);
    await call('GET', '/readyz', 200);
    await call('GET', '/metrics', 200, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    await call('GET', '/metrics', 401, { headers: { authorization: 'Bearer wrong' } });
  });

  it('answers the "this wasn\'t me" link as documented, with pages for a browser', async () => {
    const [signedIn] = await t.gatehouse.ctx.store.listUserEvents(ada.user.id, { types: ['signed_in'], limit: 1 });
    const token = notMeLink(t.gatehouse.ctx.notMeLinks!, signedIn!.id, signedIn!.at).url.split('/').at(-1)!;
    const browser = { accept: 'text/html' };
    await call('GET', '/v1/not-me/{token}', 200, { headers: browser, params: { token } });
    await call('POST', '/v1/not-me/{token}', 200, { params: { token } });
    await call('POST', '/v1/not-me/{token}', 410, { params: { token } });
    await call('POST', '/v1/not-me/{token}', 410, {
      headers: { ...browser, 'content-type': 'application/x-www-form-urlencoded' },
      params: { token },
      payload: '',
    });
    await call('GET', '/v1/not-me/{token}', 404, { headers: browser, params: { token: 'a.b.c' } });
    await call('GET', '/v1/not-me/{token}', 400, { headers: browser, params: { token: 'bad token!' } });
  });

  it('answers the page, its files and this documentation as documented', async () => {
    const page = await call('GET', '/', 200);
    await call('GET', '/', 304, { headers: { 'if-none-match': String(page.headers.etag) } });
    await call('GET', '/assets/{file}', 200, { params: { file: 'app.js' } });
    await call('GET', '/assets/{file}', 200, { params: { file: 'style.css' } });
    await call('GET', '/assets/{file}', 404, { params: { file: 'no-such-file.js' } });
    const reset = await call('GET', '/reset-password', 200);
    await call('GET', '/reset-password', 304, { headers: { 'if-none-match': String(reset.headers.etag) } });
    // The pages of the other links in mail: the same page, each on its own path.
    for (const path of ['/verify-email', '/confirm-email-change', '/cancel-email-change']) await call('GET', path, 200);
    await call('GET', '/openapi.json', 200);
    await call('GET', '/docs', 200);
    await call('GET', '/docs/style.css', 200);
    // The report above ended Ada's session: a new one to sign out of.
    const session = await signIn(t.app, 'ada@example.com');
    await call('POST', '/v1/auth/logout', 204, { headers: json(), payload: { refresh_token: session.refresh_token } });
    await call('POST', '/v1/auth/logout', 400, { headers: json(), payload: {} });
    await call('POST', '/v1/auth/logout', 401);
  });

  it('has had every documented operation answer', () => {
    const documented = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.filter((operation) => !exercised.has(operation))).toEqual([]);
  });
});
