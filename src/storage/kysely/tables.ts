import type { Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Times are integer epoch milliseconds on both databases
 * (`bigint` on PostgreSQL, read back as numbers): one representation, compared with plain
 * arithmetic, with no time-zone or driver-specific Date handling to diverge between dialects.
 */
export interface UsersTable {
  id: string;
  email: string;
  email_key: string;
  name: string | null;
  password_hash: string;
  role: string;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
  password_changed_at: number;
  email_verified_at: number | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: number;
  authenticated_at: number;
  last_active_at: number;
  idle_expires_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  revoked_by: string | null;
  ip: string;
  user_agent: string;
  browser: string | null;
  os: string | null;
  device_type: string;
  device_label: string;
  country: string | null;
  refresh_hash: string;
  refresh_key: string;
  refresh_generation: number;
  refresh_rotated_at: number | null;
  refresh_previous_rotated_at: number | null;
  refresh_successor: string | null;
  expiry_recorded_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  activates_at: number;
  retired_at: number | null;
}

/** Failed sign-ins per email key (src/core/sign-in-limits.ts). */
export interface SignInFailuresTable {
  email_key: string;
  consecutive: number;
  last_failure_at: number;
  window_start: number;
  window_count: number;
}

/** Failed sign-ins per client address, over any emails. */
export interface SignInAddressFailuresTable {
  ip: string;
  window_start: number;
  window_count: number;
}

/** Attempts per action and client address key, in a fixed window (src/core/address-limits.ts). */
export interface AddressAttemptsTable {
  action: string;
  address: string;
  window_start: number;
  window_count: number;
}

/** Login history (src/core/activity.ts); the client columns are null when no request caused it. */
export interface EventsTable {
  id: string;
  user_id: string | null;
  session_id: string | null;
  type: string;
  at: number;
  actor: string | null;
  ip: string | null;
  user_agent: string | null;
  browser: string | null;
  os: string | null;
  device_type: string | null;
  device_label: string | null;
  country: string | null;
  /** JSON text. */
  detail: string;
}

/** The device/browser/country combinations (core deviceKey) each account has signed in from. */
export interface KnownDevicesTable {
  user_id: string;
  device_key: string;
  first_seen_at: number;
  last_seen_at: number;
}

/** The webhook outbox: one row per notifying event, until it is delivered or given up. */
export interface WebhookDeliveriesTable {
  event_id: string;
  type: string;
  created_at: number;
  attempts: Generated<number>;
  next_attempt_at: number;
  claimed_until: number | null;
  delivered_at: number | null;
  gave_up_at: number | null;
  last_error: string | null;
}

/** Sign-ins reported through their "this wasn't me" link; a link works once. */
export interface SignInReportsTable {
  event_id: string;
  reported_at: number;
}

/** What `gatehouse import` brought from which source row (src/import/): a rerun skips these. */
export interface ImportedRowsTable {
  source: string;
  source_table: string;
  source_id: string;
  target_id: string;
  imported_at: number;
}

/** The ledger the open-session count is kept in (src/storage/kysely/open-sessions.ts). */
export interface OpenSessionChangesTable {
  id: Generated<number>;
  delta: number;
}

/** The mail outbox (src/mail/): one row per message, until an SMTP server took it or it was given up. */
export interface MailOutboxTable {
  id: string;
  kind: string;
  recipient: string | null;
  user_id: string | null;
  /** JSON text. */
  data: string;
  created_at: number;
  attempts: Generated<number>;
  next_attempt_at: number;
  claimed_until: number | null;
  sent_at: number | null;
  gave_up_at: number | null;
  last_error: string | null;
}

/** What each emailed link may do (src/core/account-tokens.ts); the link's MAC is not stored. */
export interface AccountTokensTable {
  id: string;
  user_id: string;
  purpose: string;
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  voided_at: number | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  signing_keys: SigningKeysTable;
  sign_in_failures: SignInFailuresTable;
  sign_in_address_failures: SignInAddressFailuresTable;
  address_attempts: AddressAttemptsTable;
  events: EventsTable;
  known_devices: KnownDevicesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  sign_in_reports: SignInReportsTable;
  imported_rows: ImportedRowsTable;
  open_session_changes: OpenSessionChangesTable;
  mail_outbox: MailOutboxTable;
  account_tokens: AccountTokensTable;
}
