import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../../helpers/app.js';
import { DATABASES } from '../../helpers/databases.js';
import { ask, CookieJar, outcome, registerAt, repeatInLanes, signInAt, tokensOf, type Answer, type Tokens } from '../helpers/ask.js';
import { startNodes, type Nodes } from '../helpers/in-process-nodes.js';

/**
 * Issue 8, races: one refresh token presented by several clients at the same moment, spread
 * over the nodes (docs/session-model.md, "Refresh tokens: rotation, races and theft";
 * src/core/refresh-rotation.ts). Within the grace window every racer succeeds and all get the
 * same next token, so the session keeps one live chain and nobody is signed out; after it, a
 * spent token is theft and ends the session, whoever else is refreshing at that moment; a
 * sign-out racing refreshes wins for good: no token handed out around it works afterwards;
 * and a browser's tabs, which share one cookie, stay signed in.
 *
 * Counts: 40 sessions per race and database, each burst 6 requests wide (2 bursts per chain in
 * the first and last race), with 4 sessions in flight at once: 80 bursts per race and database
 * in the first and last, 40 in the others. A lost compare-and-swap shows up within a few dozen
 * bursts when it exists (the store conformance suite caught its races with 20); more only
 * costs the suite's time budget (docs/reliability.md).
 */
const SESSIONS = 40;
const BURST = 6;
const CHAIN_BURSTS = 2;
const LANES = 4;

describe.each(DATABASES)('refreshes racing on %s', (kind) => {
  let t: Nodes;
  beforeAll(async () => {
    // Every sign-in comes from one browser and address: same-device replacement would end them.
    t = await startNodes(kind, { replaceSameDeviceSessions: false });
    for (const email of ['tabs@example.com', 'thief@example.com', 'revoke@example.com']) await registerAt(t.at(0).app, email);
  });
  afterAll(() => t?.close());

  const refresh = (n: number, token: string) => ask(t.at(n).app, 'POST', '/v1/auth/refresh', { body: { refresh_token: token } });
  /** How every node answers GET /v1/me with `access`. */
  const onEveryNode = (access: string) => Promise.all(t.nodes.map(async (node) => outcome(await ask(node.app, 'GET', '/v1/me', { token: access }))));

  it(`give all ${BURST} racers of a burst the same next token, ${CHAIN_BURSTS} bursts in a row, and never sign anyone out (${SESSIONS} sessions)`, async () => {
    await repeatInLanes(SESSIONS, LANES, async (n) => {
      const session = await signInAt(t.at(n).app, 'tabs@example.com');
      let token = session.refresh;
      for (let burst = 0; burst < CHAIN_BURSTS; burst++) {
        const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => refresh(n + i, token)));
        expect(answers.map(outcome), `burst ${burst} of session ${n}`).toEqual(Array(BURST).fill('200'));
        const handedOut = new Set(answers.map((answer) => tokensOf(answer).refresh));
        expect(handedOut.size, `burst ${burst} of session ${n}: one next token`).toBe(1);
        token = [...handedOut][0]!;
        expect(await onEveryNode(tokensOf(answers[burst]!).access)).toEqual(t.nodes.map(() => '200'));
      }
      const row = await t.inspect.findSession(session.sessionId);
      expect({ generation: row?.refresh.generation, revoked: row?.revokedReason }).toEqual({ generation: CHAIN_BURSTS, revoked: null });
      // The one chain goes on.
      expect(outcome(await refresh(n + 1, token))).toBe('200');
    });
  });

  it(`treat a token spent longer ago than the grace window as theft even while others refresh the current one, and let nothing handed out work afterwards (${SESSIONS} sessions)`, async () => {
    // Each session's first token is spent now; then the clock passes the grace window for all.
    const chains: Array<{ first: Tokens; second: Answer; current: Tokens }> = [];
    await repeatInLanes(SESSIONS, LANES, async (n) => {
      const first = await signInAt(t.at(n).app, 'thief@example.com');
      const second = await refresh(n, first.refresh);
      expect(outcome(second)).toBe('200');
      chains[n] = { first, second, current: tokensOf(second) };
    });
    t.clock.advance(t.config.refreshReuseGraceSeconds + 1);
    await t.settle();

    await repeatInLanes(SESSIONS, LANES, async (n) => {
      const { first, second, current } = chains[n]!;
      // The thief's stale token and the owner's current one, at the same moment, on all nodes.
      const [stale, ...racing] = await Promise.all([
        refresh(n, first.refresh),
        ...Array.from({ length: BURST - 1 }, (_, i) => refresh(n + i + 1, current.refresh)),
      ]);
      expect(outcome(stale!)).toBe('401 refresh_token_reused');
      for (const answer of racing) expect(['200', '401 session_revoked']).toContain(outcome(answer));
      await expectEndedForGood(first, [second, stale!, ...racing], 'refresh_token_reused');
    });
  });

  it(`let a sign-out racing ${BURST} refreshes win for good: no token handed out around it works afterwards (${SESSIONS} sessions)`, async () => {
    const phone = await signInAt(t.at(0).app, 'revoke@example.com');
    await repeatInLanes(SESSIONS, LANES, async (n) => {
      const target = await signInAt(t.at(n).app, 'revoke@example.com');
      // The sign-out from the phone takes a different place in the burst each time; every
      // other session also races a logout with the refresh token itself.
      const requests: Array<() => Promise<Answer>> = Array.from({ length: BURST }, (_, i) => () => refresh(n + i, target.refresh));
      const signOut = () => ask(t.at(n).app, 'DELETE', `/v1/me/sessions/${target.sessionId}`, { token: phone.access });
      const logout = () => ask(t.at(n + 1).app, 'POST', '/v1/auth/logout', { body: { refresh_token: target.refresh } });
      requests.splice(n % BURST, 0, signOut);
      if (n % 2 === 1) requests.splice((n * 3) % BURST, 0, logout);
      const answers = await Promise.all(requests.map((send) => send()));
      const signedOut = answers[requests.indexOf(signOut)]!;
      const loggedOut = n % 2 === 1 ? answers[requests.indexOf(logout)] : undefined;
      const refreshes = answers.filter((answer) => answer !== signedOut && answer !== loggedOut);

      // One of the two sign-outs ends the session; the other finds it ended or ends nothing.
      if (loggedOut === undefined) expect(outcome(signedOut)).toBe('204');
      else {
        expect(['204', '404 not_found']).toContain(outcome(signedOut));
        expect(['204', '401 session_revoked']).toContain(outcome(loggedOut));
        expect([outcome(signedOut), outcome(loggedOut)]).toContain('204');
      }
      for (const answer of refreshes) expect(['200', '401 session_revoked']).toContain(outcome(answer));
      // The node that signed it out refuses it at once, before anyone else has heard.
      const revoking = outcome(signedOut) === '204' ? t.at(n) : t.at(n + 1);
      for (const tokens of [target, ...refreshes.filter((a) => a.status === 200).map(tokensOf)]) {
        expect(outcome(await ask(revoking.app, 'GET', '/v1/me', { token: tokens.access }))).toBe('401 session_revoked');
      }
      await expectEndedForGood(target, answers, outcome(signedOut) === '204' ? 'remote_logout' : 'logout');
    });
    expect(await onEveryNode(phone.access)).toEqual(t.nodes.map(() => '200'));
  });

  it(`keep a browser whose tabs refresh at once through one cookie signed in: ${SESSIONS} browsers, ${CHAIN_BURSTS} bursts of ${BURST} tabs, then a tab whose request is two rotations late`, async () => {
    await registerAt(t.at(0).app, 'browser@example.com');
    await repeatInLanes(SESSIONS, LANES, async (n) => {
      const jar = new CookieJar();
      jar.took(await ask(t.at(n).app, 'POST', '/v1/auth/login', { browser: jar.cookie, body: { email: 'browser@example.com', password: PASSWORD } }));
      const first = jar.cookie;
      // Every tab sends the cookie the browser holds at that moment: the same one.
      for (let burst = 0; burst < CHAIN_BURSTS; burst++) {
        const sent = jar.cookie;
        const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => ask(t.at(n + i).app, 'POST', '/v1/auth/refresh', { browser: sent })));
        expect(answers.map(outcome), `burst ${burst} of browser ${n}`).toEqual(Array(BURST).fill('200'));
        for (const answer of answers) jar.took(answer);
        expect(new Set(answers.map((answer) => answer.setCookie)).size, `burst ${burst} of browser ${n}: one next cookie`).toBe(1);
      }
      // A tab's request that left with the first cookie arrives after two rotations (CHAIN_BURSTS
      // = 2): too old to honour, but the browser's newer cookie must survive its answer.
      const late = await ask(t.at(n + 1).app, 'POST', '/v1/auth/refresh', { browser: first });
      expect(outcome(late)).toBe('401 invalid_refresh_token');
      jar.took(late);
      expect(outcome(await ask(t.at(n).app, 'POST', '/v1/auth/refresh', { browser: jar.cookie })), `browser ${n} after the late tab`).toBe('200');
    });
  });

  /**
   * Once every node has read the revocations: the session is revoked for `reason`, at most one
   * rotation happened, and neither the session's first tokens nor any a racer was handed work
   * on any node, as access tokens or at refresh.
   */
  async function expectEndedForGood(session: Tokens, answers: Answer[], reason: string): Promise<void> {
    await t.settle();
    const row = await t.inspect.findSession(session.sessionId);
    expect(row?.revokedReason).toBe(reason);
    const handedOut = [session, ...answers.filter((a) => a.status === 200 && a.body?.refresh_token).map(tokensOf)];
    for (const tokens of handedOut) {
      expect(tokens.sessionId).toBe(session.sessionId);
      expect(await onEveryNode(tokens.access)).toEqual(t.nodes.map(() => '401 session_revoked'));
    }
    // The racers were handed at most two refresh tokens (the one presented, the one after it).
    const refreshTokens = [...new Set(handedOut.map((tokens) => tokens.refresh))];
    for (const [i, token] of refreshTokens.entries()) expect(outcome(await refresh(i, token))).toBe('401 session_revoked');
  }
});
