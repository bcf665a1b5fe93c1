import type { ErrorCode } from '../../core/errors.js';
import { PASSWORD_RESET_ACCEPTED } from '../schemas.js';

/**
 * Examples for the shared schemas of ../schemas.ts, by `$id`: every route that sends or
 * takes one of them shows the same example. The test validates each against its schema.
 * Ids are as long as real ones (22 base64url characters), tokens as long and as shaped.
 */
const USER_ID = 'Xq3v8JtN2kLmP0aRbC7dEw';
const SESSION_ID = 'h4Kz9QwErTy1UiOp2AsDfg';
const OTHER_SESSION_ID = 'Mn5Bv6Cx7Zl8Kj9Hg0Fd1s';
const ACCESS_TOKEN =
  'eyJhbGciOiJFZERTQSIsImtpZCI6IjNmWm1sYk9qIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJYcTN2OEp0TjJrTG1QMGFSYkM3ZEV3Iiwic2lkIjoiaDRLejlRd0VyVHkxVWlPcDJBc0RmZyJ9.' +
  'c2lnbmF0dXJlLW9mLWV4YW1wbGUtdG9rZW4tc2lnbmVkLXdpdGgtZWQyNTUxOS1rZXk';
const REFRESH_TOKEN = `${SESSION_ID}.AQAAAAFp0tV6dM3Hk8sQ2wYb5nRzLq7cXe1JvGf9aUo4KiBmTg0hPsWlNyCrDjE6xI`;

const user = { id: USER_ID, email: 'ada@example.com', name: 'Ada Lovelace', email_verified: true, created_at: '2026-03-02T09:15:00.000Z' };

const firefox = { browser: 'Firefox', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' };

const session = {
  id: SESSION_ID,
  current: true,
  created_at: '2026-03-04T08:02:11.000Z',
  last_active_at: '2026-03-04T10:41:37.000Z',
  expires_at: '2026-04-03T08:02:11.000Z',
  ip: '203.0.113.7',
  location: 'DE',
  user_agent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: firefox,
};

const iphone = { browser: 'Mobile Safari', os: 'iOS', type: 'mobile', label: 'Safari 17 on iPhone' };

export const SCHEMA_EXAMPLES: Readonly<Record<string, unknown>> = {
  RegisterBody: { email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada Lovelace' },
  LoginBody: { email: 'ada@example.com', password: 'correct horse battery staple' },
  LogoutBody: { refresh_token: REFRESH_TOKEN },
  RefreshBody: { refresh_token: REFRESH_TOKEN },
  ReauthBody: { password: 'correct horse battery staple' },
  PasswordChangeBody: { current_password: 'correct horse battery staple', new_password: 'a longer passphrase nobody guesses' },
  PasswordResetBody: { email: 'ada@example.com' },
  PasswordResetConfirmBody: { token: 'q3GmU3C7yUl0bE7n3k2w0A.Zt1kJ6Vd0qf8mPpQy2v4ZHmF0sYw8bH3r9oG6xq1Lfs', new_password: 'a longer passphrase nobody guesses' },
  PasswordResetAccepted: { detail: PASSWORD_RESET_ACCEPTED },
  LinkTokenBody: { token: 'q3GmU3C7yUl0bE7n3k2w0A.Zt1kJ6Vd0qf8mPpQy2v4ZHmF0sYw8bH3r9oG6xq1Lfs' },
  EmailVerificationBody: { email: 'ada@example.com' },
  EmailChangeBody: { email: 'ada@lovelace.example', password: 'correct horse battery staple' },
  Accepted: { detail: 'A link to confirm the new address is on its way to ada@lovelace.example. Until it is used, your address stays as it is.' },
  OAuthTokenBody: { token: REFRESH_TOKEN, token_type_hint: 'refresh_token' },
  UserResponse: { user },
  TokenResponse: { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 900, refresh_token: REFRESH_TOKEN, session, user },
  SessionsResponse: {
    sessions: [
      session,
      {
        ...session,
        id: OTHER_SESSION_ID,
        current: false,
        created_at: '2026-02-20T18:30:00.000Z',
        last_active_at: '2026-03-03T21:12:09.000Z',
        expires_at: '2026-03-22T18:30:00.000Z',
        ip: '198.51.100.23',
        location: 'FR',
        user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
        device: iphone,
      },
    ],
  },
  RevokedResponse: { revoked: 2 },
  ActivityResponse: {
    events: [
      {
        id: 'Vb2Nc3Mx4Lz5Ka6Js7Hd8g',
        type: 'signed_in',
        at: '2026-03-04T08:02:11.000Z',
        session_id: SESSION_ID,
        current: true,
        ip: '203.0.113.7',
        location: 'DE',
        user_agent: session.user_agent,
        device: firefox,
        actor: USER_ID,
        detail: { new_device: false },
      },
      {
        id: 'Pq9Wo8Ei7Ru6Ty5Yu4Io3p',
        type: 'session_expired',
        at: '2026-03-03T06:00:00.000Z',
        session_id: 'Zx1Cv2Bn3Mq4Wr5Et6Yu7i',
        current: false,
        ip: null,
        location: null,
        user_agent: null,
        device: null,
        actor: 'system',
        detail: {},
      },
    ],
    next_cursor: 'MTc3MjUxNzYwMDAwMC5QcTlXbzhFaTdSdTZUeTVZdTRJbzNw',
  },
  RevocationFeedResponse: {
    revocations: [{ session_id: OTHER_SESSION_ID, revoked_at: '2026-03-04T10:44:02.512Z' }],
    cursor: '1772621042600',
    access_token_ttl: 900,
    clock_tolerance: 5,
    retention_seconds: 960,
    staleness_ms: 12,
  },
  IntrospectionResponse: {
    active: true,
    token_type: 'Bearer',
    sub: USER_ID,
    sid: SESSION_ID,
    username: 'ada@example.com',
    iss: 'https://auth.example.com',
    aud: 'https://auth.example.com',
    exp: 1772621797,
    iat: 1772620897,
    auth_time: 1772611331,
    jti: 'Gh7Jk8Lz9Xc0Vb1Nm2Qw3e',
  },
};

/** A `detail` for each code's example, worded as the code that throws it words it (`internal` has none). */
export const PROBLEM_DETAILS: Readonly<Partial<Record<ErrorCode, string>>> = {
  validation_failed: 'The request URL or headers are not valid.',
  invalid_json: 'The request body is not valid JSON.',
  payload_too_large: 'The request body is larger than 16 KiB.',
  unsupported_media_type: 'Send the request body as application/json.',
  email_taken: 'An account with this email already exists.',
  weak_password: 'The password must be at least 8 characters long.',
  invalid_credentials: 'The email or password is incorrect.',
  token_missing: 'Send an access token in an Authorization: Bearer header.',
  token_invalid: 'The access token is not valid.',
  token_expired: 'The access token has expired.',
  session_revoked: 'This session has been signed out.',
  session_expired: 'This session has expired; sign in again.',
  invalid_refresh_token: 'The refresh token is not valid.',
  refresh_token_reused: 'This refresh token was already used; the session has been signed out.',
  reauth_required: 'Confirm your password (POST /v1/auth/reauth) and try again.',
  forbidden: 'This needs the admin role.',
  not_found: 'There is no such session on this account.',
  link_used: 'This link has already been used: that sign-in was reported.',
  link_expired: 'This link has expired. Sign in and review your sessions instead.',
  link_invalid: 'This link is not valid. Copy the whole link from the email, or ask for a new one.',
  email_not_verified: 'Confirm your email address first: follow the link in the email we sent you, or ask for a new one.',
  rate_limited: 'Too many failed sign-in attempts. Try again later.',
  unavailable: 'The database cannot be reached right now; try again shortly.',
};
