import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../../helpers/app.js';
import { DATABASES } from '../../helpers/databases.js';
import { ask, outcome, registerAt, repeatInLanes, signInAt, tokensOf, type Answer, type Tokens } from '../helpers/ask.js';
import { startNodes, type Nodes } from '../helpers/in-process-nodes.js';

/**
 * Issue 8, races: sessions ended by someone else's request while new ones start. "Sign out
 * everywhere else" racing new sign-ins and a refresh, and sign-ins racing each other past the
 * per-user cap (GATEHOUSE_MAX_SESSIONS), spread over the nodes. What must hold once the dust
 * settles: no session that existed before the sign-out is alive, each new sign-in is either
 * alive or ended — and its tokens say the same on every node — and a user never has more
 * active sessions than the cap, not even for a moment.
 *
 * Counts: 40 rounds of the sign-out race (4 requests each) and 30 of the cap race (6 sign-ins
 * each, against 0–2 existing sessions) per database, 4 rounds in flight at once. The database
 * is checked after every round, each node's answers after every fifth.
 */
const SIGN_OUT_ROUNDS = 40;
const CAP_ROUNDS = 30;
const CAP = 3;
const CAP_BURST = 6;
const LANES = 4;
/** Every how many rounds each session's tokens are tried on every node as well. */
const CHECK_NODES_EVERY = 5;

describe.each(DATABASES)('sessions ended while others start on %s', (kind) => {
  let t: Nodes;
  let capped: Nodes;
  beforeAll(async () => {
    // Every sign-in comes from one browser and address: same-device replacement would end them.
    t = await startNodes(kind, { replaceSameDeviceSessions: false });
    capped = await startNodes(kind, { replaceSameDeviceSessions: false, maxSessions: CAP });
  });
  afterAll(async () => {
    await t?.close();
    await capped?.close();
  });

  it(`never leave a session that started before "sign out everywhere else" alive, and keep each sign-in racing it alive or ended on every node (${SIGN_OUT_ROUNDS} rounds)`, async () => {
    await repeatInLanes(SIGN_OUT_ROUNDS, LANES, async (n) => {
      const email = `others.${n}@example.com`;
      await registerAt(t.at(n).app, email);
      const phone = await signInAt(t.at(n).app, email);
      const before = [await signInAt(t.at(n + 1).app, email), await signInAt(t.at(n).app, email)];

      const requests: Array<() => Promise<Answer>> = [
        () => ask(t.at(n + 1).app, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } }),
        () => ask(t.at(n).app, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } }),
        () => ask(t.at(n + 1).app, 'POST', '/v1/auth/refresh', { body: { refresh_token: before[0]!.refresh } }),
      ];
      const signOut = () => ask(t.at(n).app, 'DELETE', '/v1/me/sessions?scope=others', { token: phone.access });
      requests.splice(n % 4, 0, signOut);
      const answers = await Promise.all(requests.map((send) => send()));
      const signedOut = answers[requests.indexOf(signOut)]!;
      const [loginA, loginB, refreshed] = answers.filter((answer) => answer !== signedOut) as [Answer, Answer, Answer];
      expect(outcome(signedOut)).toBe('200');
      expect([outcome(loginA), outcome(loginB)]).toEqual(['200', '200']);
      expect(['200', '401 session_revoked']).toContain(outcome(refreshed));
      const started = [tokensOf(loginA), tokensOf(loginB)];

      await t.settle();
      const state = async (id: string) => (await t.inspect.findSession(id))?.revokedReason ?? 'alive';
      // Every session that existed before the sign-out ended by it; the phone did not.
      for (const session of before) expect(await state(session.sessionId)).toBe('logout_others');
      expect(await state(phone.sessionId)).toBe('alive');
      // Each racing sign-in either came first (and was signed out with the rest) or after.
      const racers = await Promise.all(started.map((s) => state(s.sessionId)));
      for (const racer of racers) expect(['logout_others', 'alive']).toContain(racer);
      const ended = [...before, ...started.filter((_, i) => racers[i] === 'logout_others')].map((s) => s.sessionId);
      expect(signedOut.body).toEqual({ revoked: ended.length });
      const [history] = await t.inspect.listUserEvents(phone.userId, { limit: 1, types: ['other_sessions_revoked'] });
      expect((history!.detail.session_ids as string[]).sort()).toEqual(ended.sort());

      // What the database says, every node says: ended sessions are refused, live ones served
      // (every fifth round: the requests of these checks cost more than the race itself).
      if (n % CHECK_NODES_EVERY !== 0) return;
      const refreshedTokens = refreshed.status === 200 ? [tokensOf(refreshed)] : [];
      for (const tokens of [...before, ...refreshedTokens]) await expectEverywhere(t, tokens, 'ended');
      for (const [i, tokens] of started.entries()) await expectEverywhere(t, tokens, racers[i] === 'alive' ? 'alive' : 'ended');
      await expectEverywhere(t, phone, 'alive');
    });
  });

  it(`never let ${CAP_BURST} sign-ins at once give a user more than ${CAP} active sessions, even for a moment, and end exactly the ones beyond it (${CAP_ROUNDS} rounds)`, async () => {
    let readings = 0;
    await repeatInLanes(CAP_ROUNDS, LANES, async (n) => {
      const email = `cap.${n}@example.com`;
      const userId = await registerAt(capped.at(n).app, email);
      const existing: Tokens[] = [];
      for (let i = 0; i < n % CAP; i++) existing.push(await signInAt(capped.at(n + i).app, email));

      // While the sign-ins race, the database is asked again and again how many are active.
      let racing = true;
      let most = 0;
      const watcher = (async () => {
        while (racing) {
          most = Math.max(most, (await capped.inspect.listUserSessions(userId, capped.clock.now())).length);
          readings++;
          // SQLite answers synchronously: without a pause this loop would starve the very
          // requests it watches (and on PostgreSQL, crowd them out of the connection pool).
          await sleep(1);
        }
      })();
      const answers = await Promise.all(
        Array.from({ length: CAP_BURST }, (_, i) => ask(capped.at(n + i).app, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } })),
      );
      racing = false;
      await watcher;
      expect(answers.map(outcome)).toEqual(Array(CAP_BURST).fill('200'));
      expect(most).toBeLessThanOrEqual(CAP);

      await capped.settle();
      const started = answers.map(tokensOf);
      const all = [...existing, ...started];
      const active = new Set((await capped.inspect.listUserSessions(userId, capped.clock.now())).map((s) => s.id));
      expect(active.size).toBe(CAP);
      // Everything not active was ended by the cap, and named by exactly one eviction event.
      const evicted = all.filter((s) => !active.has(s.sessionId));
      for (const session of evicted) expect((await capped.inspect.findSession(session.sessionId))?.revokedReason).toBe('session_limit');
      const events = await capped.inspect.listUserEvents(userId, { limit: 100, types: ['sessions_evicted'] });
      const named = events.flatMap((e) => e.detail.session_ids as string[]);
      expect(named.sort()).toEqual(evicted.map((s) => s.sessionId).sort());
      if (n % CHECK_NODES_EVERY !== 0) return;
      for (const session of all) await expectEverywhere(capped, session, active.has(session.sessionId) ? 'alive' : 'ended');
    });
    console.log(`cap race on ${kind}: ${CAP_ROUNDS} rounds, active sessions read ${readings} times while sign-ins raced`);
  });
});

/**
 * Every node answers the session's access token as the database says (200, or 401
 * session_revoked), and so does a refresh with its refresh token.
 */
async function expectEverywhere(nodes: Nodes, tokens: Tokens, expected: 'alive' | 'ended'): Promise<void> {
  const answers = await Promise.all(nodes.nodes.map(async (node) => outcome(await ask(node.app, 'GET', '/v1/me', { token: tokens.access }))));
  const want = expected === 'alive' ? '200' : '401 session_revoked';
  expect(answers, `session ${tokens.sessionId}`).toEqual(nodes.nodes.map(() => want));
  // Refreshing a live session spends its token; the caller does not use it again.
  const refreshed = await ask(nodes.at(1).app, 'POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh } });
  expect(outcome(refreshed), `session ${tokens.sessionId}`).toBe(want);
}
