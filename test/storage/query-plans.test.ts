import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createGatehouse, purgePhases, type Gatehouse } from '../../src/gatehouse.js';
import { accountToken, type AccountTokenPurpose } from '../../src/core/account-tokens.js';
import { recordSessionExpiries } from '../../src/service/housekeeping.js';
import { connect } from '../../src/storage/kysely/connect.js';
import { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { SqliteSync } from '../../src/storage/kysely/sqlite-sync.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { bearer, PASSWORD, registerUser, testConfig, USER_AGENTS } from '../helpers/app.js';
import { testClock, type TestClock } from '../helpers/clock.js';
import { createTestDatabase, DATABASES, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { instantHasher } from '../helpers/hashers.js';
import { planReader, recordStatements, type BigTables, type PlanReader, type Recorded } from '../helpers/query-plans.js';

/**
 * Issue 16, a plan check: every statement Gatehouse runs for the routes and the background jobs
 * (recorded as the database is sent it while one workload runs) is asked for its plan, on SQLite
 * and on PostgreSQL, and none may scan `users`, `sessions`, `events` or the webhook outbox,
 * count the first three, or sort rows of them: the cost of each must be bounded by what it
 * returns, whatever the number of users (test/helpers/query-plans.ts says what each database's
 * plan may not hold). The statements that still do are listed below, each with the reason; a
 * listed statement that no longer scans fails the test too, so the list only shrinks. Every
 * statement recorded is judged: one the database cannot plan fails the test, but for those
 * listed as having no plan, which read no rows of a table.
 */

const BIG_TABLES: BigTables = {
  read: ['users', 'sessions', 'events', 'webhook_deliveries', 'mail_outbox', 'account_tokens'],
  counted: ['users', 'sessions', 'events'],
};

/** Statements that read more than they return, by a fragment of their SQL (on `only` that database), and why. */
const KNOWN: Array<{ fragment: string; why: string; only?: DatabaseKind }> = [
  {
    fragment: 'select count(*) as "pending", min("created_at") as "oldest" from "webhook_deliveries"',
    why: "the webhook backlog gauge reads every pending delivery, on the index that holds only them: bounded by the backlog it reports, not by the outbox's size",
  },
  {
    fragment: 'select count(*) as "pending", min("created_at") as "oldest" from "mail_outbox"',
    why: 'the mail backlog gauge, likewise: it reads the pending messages on the index that holds only them',
  },
  ...[
    'select count(*) as events from "events_',
    'delete from webhook_deliveries where event_id in (select id from "events_',
    'delete from sign_in_reports where event_id in (select id from "events_',
  ].map((fragment) => ({ fragment, why: 'dropping a month reads it whole: that is what a drop is for (event-months.ts)', only: 'postgres' as const })),
];

/** Statements no database plans (EXPLAIN takes none of them), by their whole text, and why each reads no rows of a big table. */
const WITHOUT_PLANS: Array<{ pattern: RegExp; why: string; only?: DatabaseKind }> = [
  { pattern: /^(begin|start transaction\b.*|commit|rollback)$/i, why: 'a transaction begun or ended' },
  { pattern: /^set local \w+ = '[^']*'$/, why: "a setting of the transaction's own", only: 'postgres' },
  { pattern: /^LISTEN \w+$/, why: 'the revocation view listens for revocations (a channel, no table)', only: 'postgres' },
  { pattern: /^create table "events_\d{4}_\d{2}" \(like events including defaults\)$/, why: 'a month made ahead, empty (event-months.ts)', only: 'postgres' },
  {
    pattern: /^lock table "events_(\d{4}_\d{2}|default)" in share row exclusive mode$/,
    why: 'a month, or the default partition, locked before a move or a drop (event-months.ts)',
    only: 'postgres',
  },
  {
    pattern: /^alter table events attach partition "events_\d{4}_\d{2}" for values from \(\d+\) to \(\d+\)$/,
    why: 'attaching a month reads the default partition for rows of it, and it holds next to nothing (event-months.ts)',
    only: 'postgres',
  },
  { pattern: /^drop table "events_\d{4}_\d{2}"$/, why: 'a month dropped whole reads no row (event-months.ts)', only: 'postgres' },
];

/** What a statement's plan holds that it may not, or why it has none, or why the database would not plan it. */
type Verdict = { problems: string[] } | { withoutPlan: string } | { unplanned: string };

/** Every route that reads or writes sessions, users or history, then the background jobs. */
async function workload({ app, ctx, view, mail: deliverer }: Gatehouse, clock: TestClock, config: Config): Promise<void> {
  // Its claims are made below, by hand: the node's own must not take the reset mail first.
  await deliverer?.close();
  const ann = await registerUser(app, 'ann@example.com');
  const login = async (userAgent: string, password = PASSWORD) => {
    const answer = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: 'ann@example.com', password },
      headers: { 'user-agent': userAgent },
    });
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json() as { access_token: string; refresh_token: string; session: { id: string } };
  };
  await login(USER_AGENTS.chromeWindows);
  const laptop = await login(USER_AGENTS.chromeWindows); // the same device again: replaces the first
  const phone = await login(USER_AGENTS.safariIphone);
  await login(USER_AGENTS.firefoxUbuntu);
  await login(USER_AGENTS.firefoxUbuntu);
  const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: phone.refresh_token } });
  expect(refreshed.statusCode).toBe(200);
  const token = laptop.access_token;
  for (const url of ['/v1/me', '/v1/me/sessions', '/v1/me/activity?limit=2'])
    expect((await app.inject({ method: 'GET', url, headers: bearer(token) })).statusCode).toBe(200);
  const page = (await app.inject({ method: 'GET', url: '/v1/me/activity?limit=2', headers: bearer(token) })).json() as { next_cursor: string };
  expect((await app.inject({ method: 'GET', url: `/v1/me/activity?limit=2&cursor=${page.next_cursor}`, headers: bearer(token) })).statusCode).toBe(200);
  expect((await app.inject({ method: 'DELETE', url: `/v1/me/sessions/${phone.session.id}`, headers: bearer(token) })).statusCode).toBe(204);
  expect((await app.inject({ method: 'DELETE', url: '/v1/me/sessions?scope=others', headers: bearer(token) })).statusCode).toBe(200);
  const changed = await app.inject({
    method: 'POST',
    url: '/v1/me/password',
    headers: bearer(token),
    payload: { current_password: PASSWORD, new_password: 'an entirely new passphrase' },
  });
  expect(changed.statusCode).toBe(204);
  expect((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(token) })).statusCode).toBe(204);
  expect(ann.id).toBeTypeOf('string');

  // Password reset by email: a request for an account and for no account, then the link used.
  for (const email of ['ann@example.com', 'nobody@example.com'])
    expect((await app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email } })).statusCode).toBe(202);
  const claimed = await ctx.store.claimMail(clock.now(), 10, 60_000);
  const linkOf = (kind: string, purpose: AccountTokenPurpose) =>
    accountToken(ctx.mail!.tokenKey, purpose, String(claimed.find((m) => m.kind === kind)?.data.token_id));
  const mail = claimed[0];
  const link = linkOf('password_reset', 'password_reset');
  const verified = await app.inject({
    method: 'POST',
    url: '/v1/auth/email-verification/confirm',
    payload: { token: linkOf('email_verification', 'email_verification') },
  });
  expect(verified.statusCode, verified.body).toBe(204);
  const reset = await app.inject({
    method: 'POST',
    url: '/v1/auth/password-reset/confirm',
    payload: { token: link, new_password: 'reset to a new passphrase' },
  });
  expect(reset.statusCode, reset.body).toBe(204);
  // The address changed, confirmed and the change cancelled from the old address.
  const again = await login(USER_AGENTS.firefoxUbuntu, 'reset to a new passphrase');
  const change = await app.inject({
    method: 'POST',
    url: '/v1/me/email',
    headers: bearer(again.access_token),
    payload: { email: 'ann@new.example', password: 'reset to a new passphrase' },
  });
  expect(change.statusCode, change.body).toBe(202);
  claimed.push(...(await ctx.store.claimMail(clock.now(), 10, 60_000)));
  for (const [url, kind, purpose] of [
    ['/v1/auth/email-change/confirm', 'email_change', 'email_change'],
    ['/v1/auth/email-change/cancel', 'email_change_notice', 'email_change_cancel'],
  ] as const) {
    const used = await app.inject({ method: 'POST', url, payload: { token: linkOf(kind, purpose) } });
    expect(used.statusCode, used.body).toBe(204);
  }
  await app.inject({ method: 'POST', url: '/v1/auth/email-verification', payload: { email: 'ann@example.com' } });
  // The mail deliverer's statements.
  await ctx.store.markMailSent(mail!.id, clock.now());
  await ctx.store.markMailFailed('no-such-mail', { at: clock.now(), error: '451', nextAttemptAt: null, claimedUntil: clock.now() });
  await ctx.store.mailBacklog();

  // The webhook deliverer's statements (it runs only with GATEHOUSE_WEBHOOK_URL), on an empty outbox.
  const { store } = ctx;
  await store.claimWebhookDeliveries(clock.now(), 10, 60_000);
  await store.markWebhookDelivered('no-such-event', clock.now());
  await store.markWebhookFailed('no-such-event', { at: clock.now(), error: 'HTTP 503', nextAttemptAt: null, claimedUntil: clock.now() });
  await store.webhookBacklog();

  clock.advance(400 * 86_400); // past every session's end and the retentions
  await recordSessionExpiries(ctx);
  for (const phase of purgePhases(config)) await phase.run(ctx);
  await store.countOpenSessions();
  await store.listRevokedSince(view.horizon()); // as the revocation view loads at start
}

describe.each(DATABASES)('the plans of the statements Gatehouse runs, on %s', (kind) => {
  let database: TestDatabase;
  let gatehouse: Gatehouse;
  let plans: PlanReader;
  let statements: Map<string, Recorded>;
  const verdicts = new Map<string, Verdict>();

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const connection = connect(database.location);
    await migrateToLatest(connection.db);
    const recording = recordStatements(connection);
    statements = recording.statements;
    const store = new KyselyStore(connection.db, connection.dialect, connection.sqlite && new SqliteSync(connection.db, connection.sqlite));
    const clock = testClock();
    const config = testConfig({ database: database.location, maxSessions: 3 });
    gatehouse = await createGatehouse(config, { clock, store, logger: false, hasher: instantHasher() });
    try {
      await workload(gatehouse, clock, config);
    } finally {
      recording.stop();
    }
    plans = await planReader(database.location, connection, BIG_TABLES, clock.now());
    for (const statement of statements.values()) {
      const listed = WITHOUT_PLANS.find((w) => (w.only ?? kind) === kind && w.pattern.test(statement.sql.trim()));
      verdicts.set(
        statement.sql,
        listed
          ? { withoutPlan: listed.why }
          : await plans.problems(statement).then(
              (problems) => ({ problems }),
              (error: unknown) => ({ unplanned: String(error) }),
            ),
      );
    }
  });

  afterAll(async () => {
    await plans?.close();
    await gatehouse?.close();
    await database?.drop();
  });

  it('recorded the statements of the workload', () => {
    expect(statements.size).toBeGreaterThan(20);
  });

  it('have a plan each, but for the statements listed as having none', () => {
    const unplanned = [...verdicts].flatMap(([sql, verdict]) => ('unplanned' in verdict ? [`${verdict.unplanned}\n    ${sql}`] : []));
    expect(unplanned).toEqual([]);
    const judged = [...verdicts.values()].filter((verdict) => 'problems' in verdict).length;
    const withoutPlan = [...verdicts.values()].filter((verdict) => 'withoutPlan' in verdict).length;
    expect(judged + withoutPlan).toBe(statements.size);
  });

  it('scan no big table and sort none of its rows, but for the statements listed as still doing so', () => {
    const known = KNOWN.filter((k) => (k.only ?? kind) === kind);
    const problems: string[] = [];
    const stillScanning = new Set<string>();
    for (const [sql, verdict] of verdicts) {
      const found = 'problems' in verdict ? verdict.problems : [];
      const listed = known.find((k) => sql.includes(k.fragment));
      if (listed && found.length > 0) stillScanning.add(listed.fragment);
      else if (found.length > 0) problems.push(`${found.join('; ')}\n    ${sql}`);
    }
    expect(problems).toEqual([]);
    // A listed statement that no longer scans: take it off the list.
    expect(known.map((k) => k.fragment).filter((fragment) => !stillScanning.has(fragment))).toEqual([]);
  });
});
