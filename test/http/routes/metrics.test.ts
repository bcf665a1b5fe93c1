import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatehouse, type Gatehouse } from '../../../src/gatehouse.js';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, testConfig, type TestGatehouse } from '../../helpers/app.js';
import { testClock } from '../../helpers/clock.js';
import { createTestDatabase, HTTP_DATABASES, type TestDatabase } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';
import { parseExposition, metricValue, type Exposition } from '../../metrics/exposition.js';

const TOKEN = 'a-metrics-token-of-at-least-32-characters';
const WEBHOOK_SECRET = 'a-long-random-webhook-secret-of-more-than-32-characters';

const FAMILIES = {
  gatehouse_http_requests_total: 'counter',
  gatehouse_http_request_duration_seconds: 'histogram',
  gatehouse_sign_ins_total: 'counter',
  gatehouse_revocations_total: 'counter',
  gatehouse_revocation_propagation_seconds: 'histogram',
  gatehouse_revocation_view_staleness_seconds: 'gauge',
  gatehouse_revocation_view_sessions: 'gauge',
  gatehouse_active_sessions: 'gauge',
  gatehouse_webhook_backlog: 'gauge',
  gatehouse_webhook_backlog_oldest_age_seconds: 'gauge',
  // The process's own, under prom-client's names (test/metrics/process-metrics.test.ts has them all).
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  process_start_time_seconds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
};

async function scrape(gatehouse: Pick<Gatehouse, 'app'>, headers: Record<string, string> = {}): Promise<Exposition> {
  const response = await gatehouse.app.inject({ method: 'GET', url: '/metrics', headers });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(response.body);
}

const login = (t: TestGatehouse, email: string, password = PASSWORD) =>
  t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: '203.0.113.7' });

describe.each(HTTP_DATABASES)('GET /metrics on %s', (kind) => {
  let t: TestGatehouse;
  afterEach(() => t.close());
  const start = async (overrides: Parameters<typeof startTestGatehouse>[1] = {}) => {
    t = await startTestGatehouse(kind, overrides, { hasher: instantHasher() });
    return t;
  };

  it('answers in the Prometheus text format with every family, named with its unit', async () => {
    await start();
    const metrics = await scrape(t);
    for (const [name, type] of Object.entries(FAMILIES)) {
      expect(metrics.types.get(name), name).toBe(type);
      expect(metrics.help.get(name), name).toMatch(/\S/);
    }
    for (const name of metrics.types.keys()) expect(name).toMatch(/^(gatehouse|process|nodejs)_/);
    expect(metricValue(metrics, 'gatehouse_active_sessions')).toBe(0);
    expect(metricValue(metrics, 'gatehouse_webhook_backlog')).toBe(0);
    expect(metricValue(metrics, 'gatehouse_revocation_view_staleness_seconds')).toBe(0);
    expect(metricValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts sign-ins by outcome: success, wrong password, rate limited, database unavailable', async () => {
    await start({ signInMaxConsecutiveFailures: 1 });
    await registerUser(t.app, 'ann@example.com');
    expect((await login(t, 'ann@example.com')).statusCode).toBe(200);
    expectProblem(await login(t, 'ann@example.com', 'not the password'), 401, 'invalid_credentials');
    expectProblem(await login(t, 'ann@example.com', 'not the password'), 429, 'rate_limited');
    expectProblem(await login(t, 'nobody@example.com', 'not the password'), 401, 'invalid_credentials');
    let metrics = await scrape(t);
    expect(metricValue(metrics, 'gatehouse_sign_ins_total', { outcome: 'success' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_sign_ins_total', { outcome: 'invalid_credentials' })).toBe(2);
    expect(metricValue(metrics, 'gatehouse_sign_ins_total', { outcome: 'rate_limited' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_sign_ins_total', { outcome: 'unavailable' })).toBe(0);
    expect(metricValue(metrics, 'gatehouse_http_requests_total', { route: '/v1/auth/login', method: 'POST', status: '401' })).toBe(2);

    t.gatehouse.ctx.hasher.saturated = () => true; // every password check is busy: 503
    expectProblem(await login(t, 'ann@example.com'), 503, 'unavailable');
    metrics = await scrape(t);
    expect(metricValue(metrics, 'gatehouse_sign_ins_total', { outcome: 'unavailable' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_sign_ins_total', { outcome: 'success' })).toBe(1);
  });

  it("keeps the database's last readings while the database cannot answer", async () => {
    await start();
    await registerUser(t.app, 'al@example.com');
    await signIn(t.app, 'al@example.com');
    expect(metricValue(await scrape(t), 'gatehouse_active_sessions')).toBe(1);
    await t.gatehouse.store.close();
    t.clock.advance(60);
    const metrics = await scrape(t);
    expect(metricValue(metrics, 'gatehouse_active_sessions')).toBe(1);
    expect(metricValue(metrics, 'gatehouse_sign_ins_total', { outcome: 'success' })).toBe(1);
  });

  it('counts the sessions each sign-out ends, by reason, on the node that commits it', async () => {
    await start();
    await registerUser(t.app, 'bob@example.com');
    const phone = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.1' });
    const laptop = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.2' });
    const tablet = await signIn(t.app, 'bob@example.com', { ip: '198.51.100.3' });
    const before = await scrape(t);
    expect(metricValue(before, 'gatehouse_revocations_total', { reason: 'remote_logout' })).toBe(0);

    const remote = await t.app.inject({ method: 'DELETE', url: `/v1/me/sessions/${tablet.session.id}`, headers: bearer(phone.access_token) });
    expect(remote.statusCode).toBe(204);
    await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(laptop.access_token) });
    await signIn(t.app, 'bob@example.com', { ip: '198.51.100.1' }); // the same device again: replaces the phone's session

    const metrics = await scrape(t);
    expect(metricValue(metrics, 'gatehouse_revocations_total', { reason: 'remote_logout' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_revocations_total', { reason: 'logout' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_revocations_total', { reason: 'replaced' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_revocations_total', { reason: 'password_changed' })).toBe(0);
    expect(metricValue(metrics, 'gatehouse_revocation_view_sessions')).toBe(3);
    // Its own sign-outs reached its view at once: nothing to time.
    expect(metricValue(metrics, 'gatehouse_revocation_propagation_seconds_count')).toBe(0);
  });

  it('labels requests with the route pattern, never the URL, and counts and times them', async () => {
    await start();
    await registerUser(t.app, 'cy@example.com');
    const { access_token: token } = await signIn(t.app, 'cy@example.com');
    const id = randomBytes(12).toString('hex');
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/v1/me/sessions/${id}`, headers: bearer(token) }), 404, 'not_found');
    expectProblem(await t.app.inject({ method: 'GET', url: `/no/such/${id}` }), 404, 'not_found');

    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.body).not.toContain(id);
    const metrics = parseExposition(response.body);
    expect(metricValue(metrics, 'gatehouse_http_requests_total', { route: '/v1/me/sessions/:id', method: 'DELETE', status: '404' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_http_request_duration_seconds_count', { route: '/v1/auth/login', method: 'POST' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_http_request_duration_seconds_bucket', { route: '/v1/auth/login', method: 'POST', le: '+Inf' })).toBe(1);
    expect(metricValue(metrics, 'gatehouse_http_request_duration_seconds_sum', { route: '/v1/auth/login', method: 'POST' })).toBeGreaterThan(0);
  });

  it('reads active sessions from the database at most every 15 s, however often it is scraped', async () => {
    await start();
    await registerUser(t.app, 'dee@example.com');
    await signIn(t.app, 'dee@example.com', { ip: '198.51.100.1' });
    expect(metricValue(await scrape(t), 'gatehouse_active_sessions')).toBe(1);

    const second = await signIn(t.app, 'dee@example.com', { ip: '198.51.100.2' });
    t.clock.advance(14);
    expect(metricValue(await scrape(t), 'gatehouse_active_sessions')).toBe(1);
    t.clock.advance(1);
    expect(metricValue(await scrape(t), 'gatehouse_active_sessions')).toBe(2);

    await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(second.access_token) });
    t.clock.advance(15);
    expect(metricValue(await scrape(t), 'gatehouse_active_sessions')).toBe(1);
  });

  it('reports the webhook backlog and how long its oldest notification has waited', async () => {
    await start({ webhookUrl: 'http://127.0.0.1:9/never', webhookSecret: WEBHOOK_SECRET });
    await t.gatehouse.webhooks!.close(); // nothing is sent: the notification stays in the outbox
    await registerUser(t.app, 'eve@example.com');
    await signIn(t.app, 'eve@example.com'); // a new device: one notification
    t.clock.advance(20);
    const metrics = await scrape(t);
    expect(metricValue(metrics, 'gatehouse_webhook_backlog')).toBe(1);
    expect(metricValue(metrics, 'gatehouse_webhook_backlog_oldest_age_seconds')).toBe(20);
  });

  it('reports how long ago the revocation view was confirmed', async () => {
    await start();
    t.gatehouse.sync.stop(); // no catch-up from here on
    t.clock.advance(3);
    expect(metricValue(await scrape(t), 'gatehouse_revocation_view_staleness_seconds')).toBe(3);
    await t.gatehouse.sync.catchUp();
    expect(metricValue(await scrape(t), 'gatehouse_revocation_view_staleness_seconds')).toBe(0);
  });
});

describe.each(HTTP_DATABASES)('revocation propagation between two nodes on one %s database', (kind) => {
  let database: TestDatabase;
  const nodes: Gatehouse[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close().catch(() => {});
    await database.drop();
  });

  it("times how long after the sign-out on one node the other node's view learnt it", async () => {
    database = await createTestDatabase(kind);
    // B's clock runs 2 s ahead of A's: whenever B's catch-up (poll, notice or ours) learns of
    // A's sign-out, it does so 2 s after the revocation's time on B's clock.
    const clocks = [testClock(), testClock(Date.parse('2026-11-27T09:00:02Z'))] as const;
    for (const clock of clocks) {
      nodes.push(
        await createGatehouse(testConfig({ database: database.location }), {
          clock,
          store: await openStore(database.location),
          logger: false,
          hasher: instantHasher(),
        }),
      );
    }
    const [a, b] = nodes as [Gatehouse, Gatehouse];
    await registerUser(a.app, 'fay@example.com');
    const session = await signIn(a.app, 'fay@example.com');
    await a.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(session.access_token) });
    await b.sync.catchUp();
    clocks[1].advance(1); // past the grace in which a revocation from the database may turn out to be B's own

    const learnt = await scrape(b);
    expect(metricValue(learnt, 'gatehouse_revocation_propagation_seconds_count')).toBe(1);
    expect(metricValue(learnt, 'gatehouse_revocation_propagation_seconds_sum')).toBe(2);
    expect(metricValue(learnt, 'gatehouse_revocation_propagation_seconds_bucket', { le: '1.5' })).toBe(0);
    expect(metricValue(learnt, 'gatehouse_revocation_propagation_seconds_bucket', { le: '2' })).toBe(1);
    expect(metricValue(learnt, 'gatehouse_revocations_total', { reason: 'logout' })).toBe(0); // committed on A, not here

    const committed = await scrape(a);
    expect(metricValue(committed, 'gatehouse_revocations_total', { reason: 'logout' })).toBe(1);
    expect(metricValue(committed, 'gatehouse_revocation_propagation_seconds_count')).toBe(0);
  });
});

describe('GET /metrics with GATEHOUSE_METRICS_TOKEN', () => {
  let t: TestGatehouse;
  afterEach(() => t.close());

  it('answers only the configured Bearer token, with a challenge otherwise', async () => {
    t = await startTestGatehouse('sqlite', { metricsToken: TOKEN });
    const missing = await t.app.inject({ method: 'GET', url: '/metrics' });
    expectProblem(missing, 401, 'token_missing');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.body).not.toContain('gatehouse_');

    for (const header of [`Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Bearer ${'x'.repeat(TOKEN.length)}`, 'Bearer !!']) {
      const wrong = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: header } });
      expectProblem(wrong, 401, 'token_invalid');
      expect(wrong.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    }
    expectProblem(await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Basic ${TOKEN}` } }), 401, 'token_missing');

    const metrics = await scrape(t, { authorization: `Bearer ${TOKEN}` });
    expect(metricValue(metrics, 'gatehouse_http_requests_total', { route: '/metrics', method: 'GET', status: '401' })).toBe(6);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200); // probes need no token
  });

  it('is open to whoever can reach it when no token is configured', async () => {
    t = await startTestGatehouse('sqlite');
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});
