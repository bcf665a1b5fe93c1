import { ask, outcome, tokensOf, type Answer, type Tokens } from '../helpers/ask.js';

/**
 * What a crash test was told: every acknowledged action (its answer arrived) and what it means
 * for each account, and the one action per account whose answer the crash swallowed. After a
 * restart, `verify` asks the server whether all of it still holds.
 */

export interface Session {
  tokens: Tokens;
  state: 'live' | 'ended';
}

/** The action whose answer never came: it may or may not have happened. */
export type Unanswered =
  | { kind: 'sign-in' }
  | { kind: 'refresh'; session: Session }
  | { kind: 'sign-out'; session: Session }
  | { kind: 'password'; to: string; others: Session[] }
  | { kind: 'read' };

export interface Account {
  email: string;
  userId: string;
  password: string;
  /** The password before the last change, which must no longer work. */
  oldPassword: string | undefined;
  sessions: Session[];
  /** Sessions the database may hold that the test never heard of (sign-ins cut off by a crash). */
  unheardOf: number;
  unanswered: Unanswered | undefined;
}

export interface Tally {
  /** Acknowledged writes, by kind; and the reads that checked a session's state under load. */
  acknowledged: Record<'sign-in' | 'refresh' | 'sign-out' | 'password' | 'read', number>;
  /** Actions the crash cut off, resolved after the restart. */
  unanswered: number;
  violations: string[];
}

export function newTally(): Tally {
  return { acknowledged: { 'sign-in': 0, refresh: 0, 'sign-out': 0, password: 0, read: 0 }, unanswered: 0, violations: [] };
}

/** The most live sessions an account keeps; beyond, the load signs some out. */
const MAX_LIVE = 3;

/** A small seeded generator, so that a failing run can be replayed from the seed it printed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One account's share of the load: a random action after another, each answered before the
 * next (so the account's state is exactly known), until `stopped()` or until the server stops
 * answering, which leaves the cut-off action in `account.unanswered`. Every answer is checked
 * against the state: a signed-out session must be refused and a live one served, also under load.
 */
export async function drive(url: string, account: Account, rnd: () => number, tally: Tally, stopped: () => boolean): Promise<void> {
  const pick = <T>(items: T[]) => items[Math.floor(rnd() * items.length)]!;
  const wrong = (what: string, answer: Answer) => tally.violations.push(`${account.email} ${what}: ${described(answer)}`);
  while (!stopped()) {
    const live = account.sessions.filter((s) => s.state === 'live');
    const ended = account.sessions.filter((s) => s.state === 'ended');
    const roll = rnd();
    let action: Unanswered;
    let send: () => Promise<Answer>;
    if (live.length === 0 || (live.length < MAX_LIVE && roll < 0.2)) {
      action = { kind: 'sign-in' };
      send = () => ask(url, 'POST', '/v1/auth/login', { body: { email: account.email, password: account.password } });
    } else if (roll < 0.45) {
      const session = pick(live);
      action = { kind: 'refresh', session };
      send = () => ask(url, 'POST', '/v1/auth/refresh', { body: { refresh_token: session.tokens.refresh } });
    } else if (roll < 0.65 || live.length >= MAX_LIVE) {
      // From another of its sessions, or by its own refresh token when it is the only one.
      const session = pick(live);
      const by = live.find((s) => s !== session);
      action = { kind: 'sign-out', session };
      send = by
        ? () => ask(url, 'DELETE', `/v1/me/sessions/${session.tokens.sessionId}`, { token: by.tokens.access })
        : () => ask(url, 'POST', '/v1/auth/logout', { body: { refresh_token: session.tokens.refresh } });
    } else if (roll < 0.72) {
      const by = pick(live);
      const to = `${account.email} moved on ${Math.floor(rnd() * 1e9)}`;
      action = { kind: 'password', to, others: live.filter((s) => s !== by) };
      send = () => ask(url, 'POST', '/v1/me/password', { token: by.tokens.access, body: { current_password: account.password, new_password: to } });
    } else {
      const session = pick(ended.length > 0 && rnd() < 0.5 ? ended : live);
      action = { kind: 'read' };
      send = async () => {
        const answer = await ask(url, 'GET', '/v1/me', { token: session.tokens.access });
        if (answer.status !== 0 && outcome(answer) !== (session.state === 'live' ? '200' : '401 session_revoked'))
          wrong(`read of a ${session.state} session`, answer);
        return answer;
      };
    }
    account.unanswered = action;
    const answer = await send();
    if (answer.status === 0) return; // the server is gone: what it did with this is for verify
    account.unanswered = undefined;
    // A refusal for overload (503) changed nothing, by contract.
    if (answer.status === 503 && answer.code === 'unavailable') continue;
    const expected = action.kind === 'sign-in' || action.kind === 'refresh' || action.kind === 'read' ? 200 : 204;
    if (answer.status !== expected) {
      if (action.kind !== 'read') wrong(action.kind, answer);
      continue;
    }
    tally.acknowledged[action.kind]++;
    if (action.kind === 'sign-in') account.sessions.push({ tokens: tokensOf(answer), state: 'live' });
    if (action.kind === 'refresh') action.session.tokens = tokensOf(answer);
    if (action.kind === 'sign-out') action.session.state = 'ended';
    if (action.kind === 'password') changedPassword(account, action);
  }
}

/** An answer in a line: its status and code, and the start of its body. */
function described(answer: Answer): string {
  return `${outcome(answer)} ${JSON.stringify(answer.body ?? '').slice(0, 200)}`;
}

function changedPassword(account: Account, change: { to: string; others: Session[] }): void {
  account.oldPassword = account.password;
  account.password = change.to;
  for (const session of change.others) session.state = 'ended';
}

/**
 * After a restart: settles the action the crash cut off (by asking the server what became of
 * it), then checks every acknowledged fact — live sessions are served and refresh, ended ones
 * are refused at both, the current password signs in and the previous one does not — and that
 * the database holds every session the test knows of, in the state it knows, and at most the
 * unheard-of ones besides.
 */
export async function verify(url: string, account: Account, sessionsInDatabase: () => Promise<Map<string, boolean>>, tally: Tally): Promise<void> {
  const wrong = (what: string, answer: Answer | string) =>
    tally.violations.push(`${account.email} after restart, ${what}: ${typeof answer === 'string' ? answer : described(answer)}`);
  const signIn = (password: string) => ask(url, 'POST', '/v1/auth/login', { body: { email: account.email, password } });
  const cut = account.unanswered;
  account.unanswered = undefined;
  if (cut && cut.kind !== 'read') tally.unanswered++;
  if (cut?.kind === 'sign-in') account.unheardOf++;
  if (cut?.kind === 'sign-out') {
    // Either is right; the server must now say one thing and keep saying it.
    const answer = await ask(url, 'GET', '/v1/me', { token: cut.session.tokens.access });
    if (outcome(answer) === '401 session_revoked') cut.session.state = 'ended';
    else if (outcome(answer) !== '200') wrong('reading the session whose sign-out was cut off', answer);
  }
  if (cut?.kind === 'password') {
    const withNew = await signIn(cut.to);
    if (withNew.status === 200) {
      changedPassword(account, cut);
      account.sessions.push({ tokens: tokensOf(withNew), state: 'live' });
    } else if (outcome(withNew) !== '401 invalid_credentials') wrong('signing in with the password whose change was cut off', withNew);
  }

  for (const session of account.sessions) {
    const read = await ask(url, 'GET', '/v1/me', { token: session.tokens.access });
    const refreshed = await ask(url, 'POST', '/v1/auth/refresh', { body: { refresh_token: session.tokens.refresh } });
    const want = session.state === 'live' ? ['200', '200'] : ['401 session_revoked', '401 session_revoked'];
    if (outcome(read) !== want[0]) wrong(`reading ${session.state} session ${session.tokens.sessionId}`, read);
    if (outcome(refreshed) !== want[1]) wrong(`refreshing ${session.state} session ${session.tokens.sessionId}`, refreshed);
    if (refreshed.status === 200) session.tokens = tokensOf(refreshed);
  }
  const current = await signIn(account.password);
  if (current.status === 200) account.sessions.push({ tokens: tokensOf(current), state: 'live' });
  else wrong('signing in with the current password', current);
  if (account.oldPassword !== undefined) {
    const old = await signIn(account.oldPassword);
    if (outcome(old) !== '401 invalid_credentials') wrong('signing in with the password changed before the crash', old);
  }

  // The database: id → revoked?
  const stored = await sessionsInDatabase();
  for (const session of account.sessions) {
    const revoked = stored.get(session.tokens.sessionId);
    if (revoked === undefined) wrong(`acknowledged session ${session.tokens.sessionId}`, 'missing from the database');
    else if (revoked !== (session.state === 'ended')) wrong(`${session.state} session ${session.tokens.sessionId}`, `revoked in the database: ${revoked}`);
  }
  const known = new Set(account.sessions.map((s) => s.tokens.sessionId));
  const unknown = [...stored.keys()].filter((id) => !known.has(id));
  if (unknown.length > account.unheardOf)
    wrong('sessions in the database', `${unknown.length} the test never heard of, but only ${account.unheardOf} sign-ins were cut off`);
}
