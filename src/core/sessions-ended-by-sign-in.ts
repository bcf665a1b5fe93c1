/** One of the user's sessions not yet revoked, as much of it as the rules below read. */
export interface OpenSession {
  id: string;
  userAgent: string;
  ip: string;
  lastActiveAt: number;
  createdAt: number;
  idleExpiresAt: number;
  expiresAt: number;
}

export interface SignInEndingRules {
  /** A new sign-in from the same user agent and IP ends that device's older sessions (`replaced`). */
  replaceSameDevice: boolean;
  /** Most active sessions per user (0: no limit): a sign-in beyond it ends the least recently active (`session_limit`). */
  maxSessions: number;
}

/**
 * Which of the user's other sessions not yet revoked a sign-in at `now` ends, and why. The new
 * session always stays. With `replaceSameDevice`, every one from the same user agent and IP is
 * replaced, expired or not (an access token minted just before its expiry may still be alive):
 * a browser that signs in again has lost its old session, and keeping both would list the one
 * device twice. Then, with a cap, the least recently active of the other active sessions (the
 * later sign-in first among equals) are evicted until they and the new one make `maxSessions`:
 * the person's current devices stay signed in, a forgotten one goes.
 *
 * The store applies this inside the sign-in's transaction, with the user's sign-ins taking
 * turns (src/storage/kysely/kysely-store.ts, startSession), so parallel sign-ins never both
 * count the same sessions.
 */
export function sessionsEndedBySignIn(
  others: readonly OpenSession[],
  incoming: { userAgent: string; ip: string; at: number },
  rules: SignInEndingRules,
): { replaced: string[]; evicted: string[] } {
  const sameDevice = (s: OpenSession) => rules.replaceSameDevice && s.userAgent === incoming.userAgent && s.ip === incoming.ip;
  const replaced = others.filter(sameDevice).map((s) => s.id);
  if (rules.maxSessions <= 0) return { replaced, evicted: [] };
  const active = others.filter((s) => !sameDevice(s) && s.idleExpiresAt > incoming.at && s.expiresAt > incoming.at).sort(mostRecentlyActiveFirst);
  return { replaced, evicted: active.slice(rules.maxSessions - 1).map((s) => s.id) };
}

/**
 * Most recently active first, then the later sign-in, then the greater id by code unit: the same
 * order on every node and both databases (before issue 15 the last tie followed PostgreSQL's
 * collation, which for mixed-case ids differed from SQLite's).
 */
function mostRecentlyActiveFirst(a: OpenSession, b: OpenSession): number {
  return b.lastActiveAt - a.lastActiveAt || b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
