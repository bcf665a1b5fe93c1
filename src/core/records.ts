/** The domain's records, as the store hands them to the rest of Gatehouse. Times are epoch ms. */

export type Role = 'user' | 'admin';

export interface UserRecord {
  id: string;
  email: string;
  emailKey: string;
  name: string | null;
  passwordHash: string;
  role: Role;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
  passwordChangedAt: number;
  /** When the account's current address was proved (a link in a mail to it); null: not proved. */
  emailVerifiedAt: number | null;
}

/** What a sign-in learned about the client that made it. */
export interface Device {
  browser: string | null;
  os: string | null;
  type: string;
  label: string;
}

export interface ClientInfo {
  ip: string;
  userAgent: string;
  device: Device;
  country: string | null;
}

/**
 * Why a session ended. Stored as text so later reasons need no migration; the known ones are
 * listed so the compiler catches typos in the code that revokes.
 */
export type RevocationReason =
  | 'logout'
  | 'remote_logout'
  | 'logout_others'
  | 'logout_all'
  | 'password_changed'
  | 'replaced'
  | 'refresh_token_reused'
  | 'session_limit'
  | 'reported'
  // An administrator (or the `gatehouse` CLI) signed the session out; `by` says who.
  | 'admin'
  | 'account_disabled'
  // A password reset by email link ends every session, the one it might have come from included.
  | 'password_reset'
  // The old address's "this wasn't me" of an email change: whoever changed it is signed out.
  | 'email_change_cancelled';

export interface Revocation {
  reason: RevocationReason;
  /** The acting user's id (an administrator's, for an admin action), `cli`, or `system` when no person asked for it. */
  by: string;
  at: number;
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  authenticatedAt: number;
  lastActiveAt: number;
  idleExpiresAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
  revokedBy: string | null;
  client: ClientInfo;
  refresh: RefreshState;
}

/** Where the session's refresh-token chain stands (see core/refresh-token.ts). */
export interface RefreshState {
  /** SHA-256 of the current token's secret. */
  hash: string;
  /** The per-session MAC key that proves a presented token was issued for this session. */
  key: string;
  /** How many times the token has been rotated; the current token carries this number. */
  generation: number;
  /** When the current token replaced its predecessor; null before the first rotation. */
  rotatedAt: number | null;
  /** When the predecessor replaced the one before it; null before the second rotation. */
  previousRotatedAt: number | null;
  /** The current token, sealed under its predecessor's secret, for racing requests. */
  sealedSuccessor: string | null;
}

export interface RevokedSession {
  id: string;
  revokedAt: number;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: string;
  /** The private JWK as JSON, or its encryption when GATEHOUSE_SECRET is set. */
  privateJwk: string;
  createdAt: number;
  /**
   * From when nodes may sign with it. A rotated-in key is published (in every node's JWKS)
   * first and activates later, so no token signed with it meets a verifier that lacks it.
   */
  activatesAt: number;
  retiredAt: number | null;
}

/** A session is active until it is revoked or either of its lifetimes runs out. */
export function isSessionActive(session: SessionRecord, now: number): boolean {
  return session.revokedAt === null && now < session.idleExpiresAt && now < session.expiresAt;
}
