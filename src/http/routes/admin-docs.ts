import type { RouteDocs } from '../openapi/route-docs.js';

/** What the OpenAPI document says of each admin route (routes/admin.ts), with examples. */

const ADMIN = 'Needs an access token of an account whose role is `admin`, checked against the database on every request; anyone else gets 403 `forbidden`.';

const user = {
  id: 'Xq3v8JtN2kLmP0aRbC7dEw',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  role: 'user',
  email_verified: true,
  disabled_at: null,
  created_at: '2026-03-02T09:15:00.000Z',
  updated_at: '2026-03-02T09:15:00.000Z',
  password_changed_at: '2026-03-02T09:15:00.000Z',
};

const disabled = { ...user, disabled_at: '2026-03-04T10:45:00.000Z', updated_at: '2026-03-04T10:45:00.000Z' };

/** On the actions that lock someone out or act on their sign-in (service/admin.ts, `requireRecentSignIn`). */
const RECENT_SIGN_IN =
  "Needs the administrator's recent sign-in, as `DELETE /v1/me/sessions` does: within GATEHOUSE_REAUTH_WINDOW (10 minutes by default) of signing in, " +
  'or of `POST /v1/auth/reauth`; otherwise 403 `reauth_required`, asked before the account is looked up, changing nothing.';

function docs(summary: string, description: string, responses: RouteDocs['responses'], extra: Partial<RouteDocs> = {}): RouteDocs {
  return { summary, description: `${description}\n\n${ADMIN}`, tags: ['admin'], auth: 'bearer', errors: ['forbidden', 'not_found'], responses, ...extra };
}

export const ADMIN_DOCS = {
  findUsers: docs(
    'Find accounts by email',
    'Accounts whose email starts with `email` (any case; the whole address finds that account first), in email order, ' +
      '`limit` at a time (1 to 100, default 20); pass `next_cursor` as `cursor` for the next page. Without `email`, every account.',
    {
      200: {
        description: 'A page of accounts; `next_cursor` is null on the last one.',
        example: { users: [user, { ...user, id: 'Ty7Ui8Op9As0Df1Gh2Jk3l', email: 'ada.b@example.com', name: null, role: 'admin' }], next_cursor: null },
      },
    },
    { errors: ['forbidden'] },
  ),
  getUser: docs('An account', 'The account with its role and state. Never its password hash.', {
    200: { description: 'The account.', example: { user } },
  }),
  listSessions: docs(
    "An account's active sessions",
    'The same list the account owner sees at `GET /v1/me/sessions`, most recently active first; `current` is true only for the session making this request.',
    { 200: { description: 'The active sessions.' } },
  ),
  activity: docs(
    "An account's history",
    "The account owner's `GET /v1/me/activity`, with the same paging and `type` filter. Admin actions are in it, with the administrator's id (or `cli`) as `actor`.",
    { 200: { description: 'A page of events, newest first.' } },
  ),
  revokeSession: docs(
    'Sign out one session of an account',
    "Ends the session on every node at once; the account's history gets a `signed_out_by_admin` event, and a `sessions_revoked` webhook is sent.",
    { 204: { description: 'Signed out.' } },
  ),
  revokeAllSessions: docs(
    'Sign out every session of an account',
    `Ends every session of the account, as \`revokeSession\` does each (one event and one webhook for them all). ${RECENT_SIGN_IN}`,
    { 200: { description: 'How many sessions were ended.' } },
    { errors: ['forbidden', 'not_found', 'reauth_required'] },
  ),
  disable: docs(
    'Disable an account',
    'Ends every session of the account at once, and refuses its sign-ins (with exactly the answer of a wrong password) and refreshes until it is enabled. ' +
      'Disabling an account that is disabled already changes nothing. An administrator cannot disable their own account (403 `forbidden`). ' +
      RECENT_SIGN_IN,
    { 200: { description: 'The account, disabled.', example: { user: disabled } } },
    { requestExample: {}, errors: ['forbidden', 'not_found', 'reauth_required'] },
  ),
  enable: docs(
    'Enable an account',
    'Lets a disabled account sign in again; the sessions that disabling ended stay ended.',
    { 200: { description: 'The account, enabled.', example: { user } } },
    { requestExample: {} },
  ),
  sendPasswordReset: docs(
    'Mail an account a password-reset link',
    "Queues the mail that `POST /v1/auth/password-reset` would send the account's address: a link valid 30 minutes that lets its owner choose a new password; " +
      'earlier links of the account stop working. Nothing else changes: no password is set or shown, and no session ends until the owner uses the link. ' +
      'The account\'s history gets a `password_reset_requested` event with the administrator\'s id as `actor` and `requested_by: "admin"`. ' +
      'The message is sent in the background, retried for 3 days; the 202 says it is queued, not delivered. ' +
      'A disabled account is refused with 403 `forbidden`, sending nothing (a disabled account cannot reset its password): enable it first. ' +
      'Only when mail is on (GATEHOUSE_MAIL is not `off`); otherwise this path answers 404. ' +
      RECENT_SIGN_IN,
    { 202: { description: 'The account; its reset mail is queued.', example: { user } } },
    { requestExample: {}, errors: ['forbidden', 'not_found', 'reauth_required'] },
  ),
} satisfies Record<string, RouteDocs>;
