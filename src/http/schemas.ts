import { Type, type Static } from 'typebox';
import { CURSOR_PATTERN } from '../revocation/feed-cursor.js';

/**
 * Request and response shapes of the v1 contract (design §6). Requests reject unknown fields;
 * responses are serialised through these schemas, so a field not listed here (a hash, a token
 * column) can never leak into a response even if a record carries it.
 *
 * String limits here are the "absurd input" guard; the real rules (email syntax, password
 * policy) live in core/ and give more specific errors.
 */
const closed = { additionalProperties: false } as const;

// A `$id` is the schema's name in the OpenAPI document (`#/components/schemas/<$id>`) and the key
// of its example (openapi/examples.ts), written out so that renaming a variable cannot rename part
// of the public API (test/http/openapi.test.ts holds the list). A schema without one is spelt out.

export const RegisterBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ maxLength: 1024 }),
    name: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  },
  { ...closed, $id: 'RegisterBody' },
);

// No NUL: PostgreSQL text cannot hold it, and no real address contains one.
export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320, pattern: '^[^\\u0000]*$' }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { ...closed, $id: 'LoginBody' },
);

// No body at all reaches validation as null: logout with only a Bearer token sends none.
// Named for its example only: the document shows the object, which has no name.
export const LogoutBody = Type.Union([Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 256 }) }, closed), Type.Null()], {
  $id: 'LogoutBody',
});

// No body (null) only in browser mode, where the refresh token is in the cookie.
export const RefreshBody = Type.Union([Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 256 }) }, closed), Type.Null()], {
  $id: 'RefreshBody',
});

export const ReauthBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { ...closed, $id: 'ReauthBody' });

export const PasswordChangeBody = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 1024 }), new_password: Type.String({ maxLength: 1024 }) },
  { ...closed, $id: 'PasswordChangeBody' },
);

export const PasswordResetBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320, pattern: '^[^\\u0000]*$' }) },
  { ...closed, $id: 'PasswordResetBody' },
);

// The token from the link's fragment (`#token=…`): an id and a MAC, base64url.
export const PasswordResetConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256 }), new_password: Type.String({ maxLength: 1024 }) },
  { ...closed, $id: 'PasswordResetConfirmBody' },
);

// The same words for every address, known or not: nothing in the answer tells them apart.
export const PASSWORD_RESET_ACCEPTED =
  'If an account has this address, a link to choose a new password is on its way. It works for 30 minutes, and only the newest link works.';
export const PasswordResetAccepted = Type.Object({ detail: Type.String() }, { $id: 'PasswordResetAccepted' });

// An emailed link's token, from its fragment: what verification, a change and its cancel take.
export const LinkTokenBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { ...closed, $id: 'LinkTokenBody' });

export const EmailVerificationBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320, pattern: '^[^\\u0000]*$' }) },
  { ...closed, $id: 'EmailVerificationBody' },
);

export const EmailChangeBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320, pattern: '^[^\\u0000]*$' }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { ...closed, $id: 'EmailChangeBody' },
);

/** What a request that may mail answers: words for the person, the same whatever happened where it must be. */
export const Accepted = Type.Object({ detail: Type.String() }, { $id: 'Accepted' });

// Session ids are base64url; anything else cannot name a session (and a NUL would reach SQL).
export const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, closed);

export const RevokeSessionsQuery = Type.Object({ scope: Type.Union([Type.Literal('others'), Type.Literal('all')]) }, closed);

const Timestamp = Type.String({ format: 'date-time' });

export const User = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    /** Whether the address was proved by a link mailed to it (or a password reset). */
    email_verified: Type.Boolean(),
    created_at: Timestamp,
  },
  { $id: 'User' },
);

const Device = Type.Object({
  browser: Type.Union([Type.String(), Type.Null()]),
  os: Type.Union([Type.String(), Type.Null()]),
  type: Type.String(),
  label: Type.String(),
});

export const Session = Type.Object(
  {
    id: Type.String(),
    current: Type.Boolean(),
    created_at: Timestamp,
    last_active_at: Timestamp,
    expires_at: Timestamp,
    ip: Type.String(),
    location: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.String(),
    device: Device,
  },
  { $id: 'Session' },
);

/** `type` is one type or several, comma-separated; each is checked against EVENT_TYPES. */
export const ActivityQuery = Type.Object(
  {
    // A string with a strict pattern: the query converter would otherwise read "1.5" as 1 and
    // "0x10" as 16, accepting what no client meant.
    limit: Type.Optional(Type.String({ pattern: '^([1-9]|[1-9][0-9]|100)$', description: 'from 1 to 100; 20 when absent' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  closed,
);

/**
 * One entry of the login history. `device` and `location` describe the client that made the
 * request (null for what no request caused, such as expiry); `session_id` is the session it
 * happened in; `current` marks the caller's own session. `detail` depends on `type`.
 */
export const ActivityEvent = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    at: Timestamp,
    session_id: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean(),
    ip: Type.Union([Type.String(), Type.Null()]),
    location: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    device: Type.Union([Device, Type.Null()]),
    actor: Type.Union([Type.String(), Type.Null()]),
    detail: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'ActivityEvent' },
);

export const ActivityResponse = Type.Object(
  { events: Type.Array(ActivityEvent), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { $id: 'ActivityResponse' },
);

export const UserResponse = Type.Object({ user: User }, { $id: 'UserResponse' });
export const SessionsResponse = Type.Object({ sessions: Type.Array(Session) }, { $id: 'SessionsResponse' });
export const RevokedResponse = Type.Object({ revoked: Type.Integer() }, { $id: 'RevokedResponse' });

export const TokenResponse = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    /** Absent in browser mode: the refresh token is in an HttpOnly cookie there. */
    refresh_token: Type.Optional(Type.String()),
    session: Session,
    user: User,
  },
  { $id: 'TokenResponse' },
);

export const RevocationFeedQuery = Type.Object({ since: Type.Optional(Type.String({ pattern: CURSOR_PATTERN })) }, closed);

export const Revocation = Type.Object({ session_id: Type.String(), revoked_at: Timestamp }, { $id: 'Revocation' });

/** One read of the revocation feed; the SSE stream sends the same object in each `revocations` event. */
export const RevocationFeedResponse = Type.Object(
  {
    revocations: Type.Array(Revocation),
    cursor: Type.String(),
    /** What a verifier needs to judge tokens as Gatehouse does, in seconds. */
    access_token_ttl: Type.Integer(),
    clock_tolerance: Type.Integer(),
    /** How long after its revoked_at a revocation still matters (then every token it concerns has expired). */
    retention_seconds: Type.Integer(),
    /** How long ago, when this was sent, the answer was last confirmed against the database. */
    staleness_ms: Type.Integer(),
  },
  { $id: 'RevocationFeedResponse' },
);

/**
 * RFC 7009 / 7662 requests. Other parameters OAuth clients add (client_id, client_secret)
 * are ignored rather than refused: Gatehouse has no OAuth clients to authenticate.
 */
export const OAuthTokenBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 4096 }),
    token_type_hint: Type.Optional(Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')])),
  },
  { $id: 'OAuthTokenBody' },
);

// An inactive token is exactly {"active": false}: the optional fields only appear when active.
export const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    token_type: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String()),
    sid: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    aud: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    auth_time: Type.Optional(Type.Integer()),
    jti: Type.Optional(Type.String()),
  },
  { $id: 'IntrospectionResponse' },
);

/**
 * Administration (/v1/admin/…). An account as administrators see it: its role and state, and
 * never its password hash (a field not listed here cannot be sent).
 */
export const AdminUser = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
    email_verified: Type.Boolean(),
    disabled_at: Type.Union([Timestamp, Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
    password_changed_at: Timestamp,
  },
  { $id: 'AdminUser' },
);

export const AdminUserResponse = Type.Object({ user: AdminUser }, { $id: 'AdminUserResponse' });
export const AdminUsersResponse = Type.Object(
  { users: Type.Array(AdminUser), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { $id: 'AdminUsersResponse' },
);

/** `email`: the start of the address, any case; absent, every account. */
export const AdminUsersQuery = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320, pattern: '^[^\\u0000]*$' })),
    limit: ActivityQuery.properties.limit,
    // A cursor is an email key in base64url: up to about 1 kB for the longest addresses.
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  closed,
);

// User and session ids are base64url, as SessionParams says.
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const AdminUserParams = Type.Object({ id: Id }, closed);
export const AdminSessionParams = Type.Object({ id: Id, session_id: Id }, closed);

/** The admin actions take no body (or an empty object). */
export const AdminActionBody = Type.Union([Type.Object({}, closed), Type.Null()]);

export type AdminUserJson = Static<typeof AdminUser>;
export type UserJson = Static<typeof User>;
export type RevocationFeedJson = Static<typeof RevocationFeedResponse>;
export type SessionJson = Static<typeof Session>;
export type ActivityEventJson = Static<typeof ActivityEvent>;
export type TokenResponseJson = Static<typeof TokenResponse>;
