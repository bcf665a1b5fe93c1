import { SECOND } from './clock.js';
import { isSessionActive, type SessionRecord } from './records.js';
import { isGenuine, openSuccessor, secretMatches, type ParsedRefreshToken } from './refresh-token.js';

/**
 * What presenting a refresh token means — the one place the rotation and reuse rules live
 * (docs/session-model.md, "Refresh tokens", says the same in prose).
 *
 * - `rotate`: it is the session's current token: spend it, issue the next one.
 * - `replay`: it is the token spent just before the current one, within the grace window
 *   (`GATEHOUSE_REFRESH_REUSE_GRACE`): a second tab or a retry that lost the race. It gets the
 *   current token — the one the winner got — so the session keeps exactly one live chain.
 * - `reused`: it is a token of this session spent longer ago than the grace window: someone
 *   holds a copy (theft). The whole session is revoked. Each token's spending time is known
 *   for the last two rotations (`rotatedAt`, `previousRotatedAt`); any older token was spent
 *   before those, so it counts as reused however quickly the chain has moved since — else a
 *   thief refreshing every few seconds would keep the owner's stale token "inside the window".
 * - `invalid`: not a token Gatehouse issued for this session (guessed, forged, mangled), or the
 *   one spent two rotations ago still inside the window (too ambiguous to punish, too old to
 *   honour). Nothing changes.
 * - `revoked` / `expired`: a genuine token of a session that has ended.
 */
export type RefreshJudgement =
  | { outcome: 'rotate' }
  | { outcome: 'replay'; currentToken: string }
  | { outcome: 'reused' }
  | { outcome: 'invalid' }
  | { outcome: 'revoked' }
  | { outcome: 'expired' };

export function judgeRefreshToken(presented: ParsedRefreshToken, session: SessionRecord | undefined, now: number, graceSeconds: number): RefreshJudgement {
  if (!session || session.id !== presented.sessionId || !isGenuine(presented, session.refresh.key)) return { outcome: 'invalid' };
  if (session.revokedAt !== null) return { outcome: 'revoked' };
  if (!isSessionActive(session, now)) return { outcome: 'expired' };

  const { generation, hash, rotatedAt, previousRotatedAt, sealedSuccessor } = session.refresh;
  if (presented.generation === generation) {
    return secretMatches(presented.secret, hash) ? { outcome: 'rotate' } : { outcome: 'invalid' };
  }
  if (presented.generation > generation) return { outcome: 'invalid' };

  const spentWithinGrace = (spentAt: number | null) => spentAt !== null && now - spentAt <= graceSeconds * SECOND;
  if (presented.generation === generation - 1) {
    if (!spentWithinGrace(rotatedAt)) return { outcome: 'reused' };
    const currentToken = sealedSuccessor === null ? undefined : openSuccessor(sealedSuccessor, presented.secret);
    return currentToken ? { outcome: 'replay', currentToken } : { outcome: 'invalid' };
  }
  if (presented.generation === generation - 2 && spentWithinGrace(previousRotatedAt)) return { outcome: 'invalid' };
  return { outcome: 'reused' };
}
