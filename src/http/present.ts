import type { StoredEvent } from '../core/activity.js';
import type { RevokedSession, SessionRecord, UserRecord } from '../core/records.js';
import { sessionEndsAt } from '../core/session-policy.js';
import type { SignedIn } from '../service/sign-in.js';
import type { ActivityEventJson, AdminUserJson, RevocationFeedJson, SessionJson, TokenResponseJson, UserJson } from './schemas.js';

/** Domain records → the JSON of the v1 contract. Times are ISO 8601 in UTC. */

const iso = (ms: number) => new Date(ms).toISOString();

export function presentUser(user: UserRecord): UserJson {
  return { id: user.id, email: user.email, name: user.name, email_verified: user.emailVerifiedAt !== null, created_at: iso(user.createdAt) };
}

/** An account for administrators: role and state, never the password hash. */
export function presentAdminUser(user: UserRecord): AdminUserJson {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    email_verified: user.emailVerifiedAt !== null,
    disabled_at: user.disabledAt === null ? null : iso(user.disabledAt),
    created_at: iso(user.createdAt),
    updated_at: iso(user.updatedAt),
    password_changed_at: iso(user.passwordChangedAt),
  };
}

export function presentSession(session: SessionRecord, currentSessionId: string): SessionJson {
  const { client } = session;
  return {
    id: session.id,
    current: session.id === currentSessionId,
    created_at: iso(session.createdAt),
    last_active_at: iso(session.lastActiveAt),
    expires_at: iso(sessionEndsAt(session)),
    ip: client.ip,
    location: client.country,
    user_agent: client.userAgent,
    device: { ...client.device },
  };
}

export function presentSignIn(signedIn: SignedIn): TokenResponseJson {
  return {
    access_token: signedIn.accessToken,
    token_type: 'Bearer',
    expires_in: signedIn.expiresIn,
    refresh_token: signedIn.refreshToken,
    session: presentSession(signedIn.session, signedIn.session.id),
    user: presentUser(signedIn.user),
  };
}

export function presentRevocations(revoked: RevokedSession[]): RevocationFeedJson['revocations'] {
  return revoked.map((r) => ({ session_id: r.id, revoked_at: iso(r.revokedAt) }));
}

export function presentEvent(event: StoredEvent, currentSessionId: string): ActivityEventJson {
  const { client } = event;
  return {
    id: event.id,
    type: event.type,
    at: iso(event.at),
    session_id: event.sessionId,
    current: event.sessionId === currentSessionId,
    ip: client?.ip ?? null,
    location: client?.country ?? null,
    user_agent: client?.userAgent ?? null,
    device: client ? { ...client.device } : null,
    actor: event.actor,
    detail: event.detail,
  };
}
