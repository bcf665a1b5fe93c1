/**
 * Security events, one structured log line each (sign-ins, failures, revocations). They carry
 * ids, never a password, token or hash.
 */
export type SecurityEvent =
  | { event: 'user_registered'; userId: string }
  | { event: 'registration_refused'; reason: 'rate_limited'; ip: string; retryAfterSeconds: number }
  | { event: 'login_succeeded'; userId: string; sessionId: string; ip: string }
  | { event: 'login_failed'; reason: 'unknown_email' | 'wrong_password' | 'disabled' | 'email_not_verified'; userId?: string; ip: string }
  | { event: 'login_refused'; reason: 'rate_limited'; ip: string; retryAfterSeconds: number }
  | { event: 'reauth_succeeded'; userId: string; sessionId: string }
  | { event: 'reauth_failed'; userId: string; sessionId: string }
  | { event: 'password_changed'; userId: string; sessionId: string }
  | { event: 'password_change_failed'; userId: string; sessionId: string }
  | { event: 'password_rehashed'; userId: string; outcome: 'stored' | 'lost_race' | 'failed' }
  | { event: 'refresh_token_reused'; userId: string; sessionId: string }
  | { event: 'sessions_revoked'; userId: string; reason: string; by: string; sessionIds: string[] }
  | { event: 'admin_action'; action: string; userId: string; actor: string; ip?: string }
  | { event: 'password_reset_requested'; userId?: string; mailed: boolean; ip: string }
  | { event: 'password_reset_refused'; reason: 'rate_limited'; ip: string; retryAfterSeconds: number }
  | { event: 'password_reset'; userId: string; sessionIds: string[] }
  | { event: 'email_verified'; userId: string }
  | { event: 'email_change_requested'; userId: string; mailed: boolean }
  | { event: 'email_changed'; userId: string }
  | { event: 'email_change_cancelled'; userId: string; reverted: boolean; sessionIds: string[] };

export type SecurityLog = (event: SecurityEvent) => void;
