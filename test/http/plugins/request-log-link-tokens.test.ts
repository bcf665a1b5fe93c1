import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notMeLink } from '../../../src/core/not-me-link.js';
import { createGatehouse, type Gatehouse } from '../../../src/gatehouse.js';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { registerUser, signIn, testConfig, USER_AGENTS } from '../../helpers/app.js';
import { testClock } from '../../helpers/clock.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';

const PUBLIC_URL = 'https://auth.example.com';
const BROWSER = { accept: 'text/html', 'user-agent': USER_AGENTS.safariIphone };

describe('the request log, for a "this wasn\'t me" link under any spelling', () => {
  let database: TestDatabase;
  let gatehouse: Gatehouse;
  const lines: Record<string, unknown>[] = [];
  /** The token of a working link: `<event id>.<expiry>.<signature>`. */
  let token: string;
  let signature: string;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    const config = testConfig({
      database: database.location,
      webhookUrl: 'http://127.0.0.1:9/hooks',
      webhookSecret: 'whsec_' + 'n'.repeat(40),
      publicUrl: PUBLIC_URL,
    });
    gatehouse = await createGatehouse(config, {
      clock: testClock(),
      store: await openStore(database.location),
      hasher: instantHasher(),
      logger: { level: 'info', stream: { write: (line: string) => lines.push(JSON.parse(line)) } },
    });
    const user = await registerUser(gatehouse.app, 'olga@example.com');
    await signIn(gatehouse.app, 'olga@example.com', { userAgent: USER_AGENTS.firefoxUbuntu });
    await signIn(gatehouse.app, 'olga@example.com', { userAgent: USER_AGENTS.chromeWindows });
    const [event] = await gatehouse.ctx.store.listUserEvents(user.id, { types: ['signed_in'], limit: 1 });
    token = notMeLink(gatehouse.ctx.notMeLinks!, event!.id, event!.at).url.split('/').pop()!;
    signature = token.split('.')[2]!;
  });

  afterAll(async () => {
    await gatehouse?.close();
    await database?.drop();
  });

  /** The request's answer and its one line in the request log. */
  async function request(method: 'GET' | 'POST', url: string) {
    const before = lines.length;
    const response = await gatehouse.app.inject({ method, url, headers: BROWSER });
    const logged = lines.slice(before).filter((line) => line.msg === 'request');
    expect(logged).toHaveLength(1);
    return { response, line: logged[0]!, text: JSON.stringify(lines.slice(before)) };
  }

  it.each([
    ['an escaped hyphen', (t: string) => `/v1/not%2Dme/${t}`],
    ['an escaped letter', (t: string) => `/v1/%6Eot-me/${t}`],
    ['an escaped version', (t: string) => `/%761/not-me/${t}`],
    ['escaped dots in the token', (t: string) => `/v1/not-me/${t.replaceAll('.', '%2E')}`],
  ])('reaches the link with %s, and is logged as the link without its token', async (_spelling, spell) => {
    const { response, line, text } = await request('GET', spell(token));
    expect(response.statusCode).toBe(200); // the confirmation page: the handler had the token
    expect(line.path).toBe('/v1/not-me/…');
    expect(text).not.toContain(signature);
  });

  it('keeps the token out of the log when the link is used under another spelling', async () => {
    const { response, line, text } = await request('POST', `/%761/not%2Dme/${token}`);
    expect(response.statusCode).toBe(200);
    expect(line).toMatchObject({ method: 'POST', path: '/v1/not-me/…', status: 200 });
    expect(text).not.toContain(signature);
  });

  it.each([
    ['in another case', (t: string) => `/V1/NOT-ME/${t}`, '/V1/NOT-ME/…'],
    ['after a doubled slash', (t: string) => `/v1//not-me/${t}`, '/v1//not-me/…'],
    ['with a trailing segment', (t: string) => `/v2/not-me/${t}/confirm`, '/v2/not-me/…/confirm'],
    ['under another route', (t: string) => `/v1/me/sessions/${t}`, '/v1/me/sessions/…'],
    ['with escaped dots', (t: string) => `/not-me/${t.replaceAll('.', '%2E')}`, '/not-me/…'],
    ['escaped twice', (t: string) => `/not-me/${t.replaceAll('.', '%252E')}`, '/not-me/…'],
  ])('drops a link-shaped token from a path %s', async (_where, spell, logged) => {
    const { line, text } = await request('GET', spell(token));
    expect(line.path).toBe(logged);
    expect(text).not.toContain(signature);
  });

  it('logs at most the first KiB of a long path, so a token past it is not logged either', async () => {
    const { line, text } = await request('GET', `/${'%25/'.repeat(4000)}${token}`);
    expect(line.path).toBe(`/${'%25/'.repeat(4000)}`.slice(0, 1024) + '…');
    expect(text).not.toContain(signature);
  });

  it('keeps paths without a token as they are', async () => {
    const { line } = await request('GET', '/v1/me/sessions/abc.def?x=1');
    expect(line.path).toBe('/v1/me/sessions/abc.def');
  });
});
