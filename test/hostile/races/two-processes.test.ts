import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { PASSWORD } from '../../helpers/app.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../../helpers/databases.js';
import { ask, expectRefusal, outcome, registerAt, repeatInLanes, signInAt, tokensOf, type Answer, type Tokens } from '../helpers/ask.js';
import { databaseUrl, startProcesses, untilEverywhere, type Processes } from '../helpers/processes.js';

/**
 * Issue 8, races across nodes: the races of this folder once more, between two real server
 * processes on one database (dist/server.js, real sockets, argon2), so that what decides each
 * race is the database alone — no shared memory, no shared event loop. On SQLite these are two
 * processes on one file (WAL), as `serve --workers` runs them; on PostgreSQL two nodes.
 *
 * Every sign-in costs a real argon2 hash here, and on SQLite a sign-out reaches the other
 * process at its next one-second poll, so rounds are fewer than in-process: 6 sign-up rounds (4
 * at once, 2 per node), a chain of 30 bursts of 6 refreshes (3 per node), 10 sign-outs racing 6
 * refreshes, 6 "sign out everywhere else" racing a sign-in, and 4 bursts of 6 sign-ins against
 * a cap of 3.
 */
const CAP = 3;

describe.each(DATABASES)('two server processes racing on one %s database', (kind) => {
  let database: TestDatabase;
  let nodes: Processes;
  let inspect: KyselyStore;
  let urls: string[];
  const at = (i: number) => nodes.at(i);
  const refresh = (i: number, token: string) => ask(at(i), 'POST', '/v1/auth/refresh', { body: { refresh_token: token } });
  const login = (i: number, email: string) => ask(at(i), 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
  const reasonOf = async (id: string) => (await inspect.findSession(id))?.revokedReason ?? 'alive';

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    nodes = await startProcesses(2, {
      DATABASE_URL: databaseUrl(database.location),
      // Every sign-in comes from one browser and address: same-device replacement would end them.
      GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false',
      GATEHOUSE_MAX_SESSIONS: String(CAP),
    });
    urls = nodes.servers.map((server) => server.url);
    inspect = await openStore(database.location);
  }, 60_000);
  afterAll(async () => {
    await nodes?.stop();
    await inspect?.close();
    await database?.drop();
  }, 60_000);

  it('let exactly one of four sign-ups of one email on two processes win, 6 times over', async () => {
    const winners: string[] = [];
    await repeatInLanes(6, 2, async (n) => {
      const emails = [`race.${n}@example.com`, `RACE.${n}@example.com`, ` race.${n}@Example.com`, `Race.${n}@EXAMPLE.com`];
      const answers = await Promise.all(emails.map((email, i) => ask(at(i), 'POST', '/v1/auth/register', { body: { email, password: PASSWORD } })));
      expect(answers.filter((a) => a.status === 201).length, answers.map(outcome).join(', ')).toBe(1);
      for (const answer of answers) if (answer.status !== 201) expectRefusal(answer, 409, 'email_taken');
      winners.push(answers.find((a) => a.status === 201)!.body.user.id);
    });
    const users = await inspect.db.selectFrom('users').select(['id', 'email_key']).where('email_key', 'like', 'race.%').execute();
    expect(users.map((u) => u.id).sort()).toEqual(winners.sort());
    const created = await inspect.db.selectFrom('events').select('user_id').where('type', '=', 'account_created').where('user_id', 'in', winners).execute();
    expect(created).toHaveLength(winners.length);
  });

  it('give every one of 6 refreshes racing on two processes the same next token, 30 bursts down one chain, never signing the session out', async () => {
    await registerAt(at(0), 'tabs@example.com');
    const session = await signInAt(at(0), 'tabs@example.com');
    let token = session.refresh;
    for (let burst = 0; burst < 30; burst++) {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => refresh(i, token)));
      expect(answers.map(outcome), `burst ${burst}`).toEqual(Array(6).fill('200'));
      const handedOut = new Set(answers.map((answer) => tokensOf(answer).refresh));
      expect(handedOut.size, `burst ${burst}: one next token`).toBe(1);
      token = [...handedOut][0]!;
    }
    expect((await inspect.findSession(session.sessionId))?.refresh.generation).toBe(30);
    expect(await reasonOf(session.sessionId)).toBe('alive');
    await untilEverywhere(urls, { ...session, refresh: token }, 'alive');
  });

  it('let a sign-out on one process racing 6 refreshes on both win for good, 10 times over', async () => {
    await registerAt(at(1), 'revoke@example.com');
    const phone = await signInAt(at(1), 'revoke@example.com');
    for (let n = 0; n < 10; n++) {
      const target = await signInAt(at(n), 'revoke@example.com');
      const signOut = () => ask(at(n), 'DELETE', `/v1/me/sessions/${target.sessionId}`, { token: phone.access });
      const requests: Array<() => Promise<Answer>> = Array.from({ length: 6 }, (_, i) => () => refresh(i, target.refresh));
      requests.splice(n % 7, 0, signOut);
      const answers = await Promise.all(requests.map((send) => send()));
      const signedOut = answers[requests.indexOf(signOut)]!;
      expect(outcome(signedOut)).toBe('204');
      const refreshes = answers.filter((answer) => answer !== signedOut);
      for (const answer of refreshes) expect(['200', '401 session_revoked']).toContain(outcome(answer));
      expect(await reasonOf(target.sessionId)).toBe('remote_logout');
      const handedOut = [target, ...refreshes.filter((a) => a.status === 200).map(tokensOf)];
      await Promise.all(handedOut.map((tokens) => untilEverywhere(urls, tokens, 'ended')));
      for (const token of new Set(handedOut.map((tokens) => tokens.refresh))) expect(outcome(await refresh(n, token))).toBe('401 session_revoked');
    }
    await untilEverywhere(urls, phone, 'alive');
  });

  it('never leave a session that started before "sign out everywhere else" on one process alive while the other signs in, 6 times over', async () => {
    await registerAt(at(0), 'others@example.com');
    const phone = await signInAt(at(0), 'others@example.com');
    for (let n = 0; n < 6; n++) {
      const before = await signInAt(at(n + 1), 'others@example.com');
      const [signedOut, racing] =
        n % 2 === 0
          ? await Promise.all([ask(at(0), 'DELETE', '/v1/me/sessions?scope=others', { token: phone.access }), login(1, 'others@example.com')])
          : await Promise.all([login(1, 'others@example.com'), ask(at(0), 'DELETE', '/v1/me/sessions?scope=others', { token: phone.access })]).then(
              ([a, b]) => [b, a] as const,
            );
      expect([outcome(signedOut), outcome(racing)]).toEqual(['200', '200']);
      const started = tokensOf(racing);
      expect(await reasonOf(before.sessionId)).toBe('logout_others');
      const racer = await reasonOf(started.sessionId);
      expect(['logout_others', 'alive']).toContain(racer);
      expect(signedOut.body).toEqual({ revoked: racer === 'alive' ? 1 : 2 });
      await Promise.all([untilEverywhere(urls, before, 'ended'), untilEverywhere(urls, started, racer === 'alive' ? 'alive' : 'ended')]);
      // A survivor is signed out before the next round, to stay under the cap.
      if (racer === 'alive') expect(outcome(await ask(at(1), 'POST', '/v1/auth/logout', { token: started.access }))).toBe('204');
    }
    expect(await reasonOf(phone.sessionId)).toBe('alive');
  });

  it(`never give a user more than ${CAP} active sessions when 6 sign-ins race on two processes, 4 times over`, async () => {
    const userId = await registerAt(at(1), 'cap@example.com');
    const all: Tokens[] = [];
    for (let n = 0; n < 4; n++) {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => login(i, 'cap@example.com')));
      expect(answers.map(outcome)).toEqual(Array(6).fill('200'));
      all.push(...answers.map(tokensOf));
      const active = new Set((await inspect.listUserSessions(userId, Date.now())).map((s) => s.id));
      expect(active.size).toBe(CAP);
      for (const session of all) expect(await reasonOf(session.sessionId)).toBe(active.has(session.sessionId) ? 'alive' : 'session_limit');
      const events = await inspect.listUserEvents(userId, { limit: 100, types: ['sessions_evicted'] });
      expect(events.flatMap((e) => e.detail.session_ids as string[]).sort()).toEqual(
        all
          .filter((s) => !active.has(s.sessionId))
          .map((s) => s.sessionId)
          .sort(),
      );
      await Promise.all(answers.map(tokensOf).map((session) => untilEverywhere(urls, session, active.has(session.sessionId) ? 'alive' : 'ended')));
    }
  });
});
