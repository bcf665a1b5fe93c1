import { randomBytes } from 'node:crypto';
import type { ClientInfo } from './records.js';

/**
 * Login history: what happened to an account, one event per thing a person would want to see
 * ("Signed in · Chrome on Windows · Germany · 2 hours ago"). Events are written in the same
 * transaction as the change they describe, so a change that is acknowledged always has its
 * event, and an event never describes a change that was rolled back.
 */
export const EVENT_TYPES = [
  'account_created',
  'signed_in',
  'sign_in_failed',
  'account_locked',
  'reauthenticated',
  'reauth_failed',
  'password_changed',
  'password_change_failed',
  'signed_out',
  'session_revoked',
  'other_sessions_revoked',
  'all_sessions_revoked',
  'sessions_evicted',
  'refresh_token_reused',
  'session_expired',
  'sign_in_reported',
  // Administration (src/service/admin*.ts): the actor is the administrator's id, or `cli`.
  'signed_out_by_admin',
  'account_disabled',
  'account_enabled',
  'role_changed',
  // `gatehouse import` (src/import/) brought the account from the app Gatehouse replaced.
  'account_imported',
  // Recovery by email (src/service/password-reset.ts): the request names the client that asked.
  'password_reset_requested',
  'password_reset',
  // The account's address (src/service/email-*.ts).
  'email_verified',
  'email_change_requested',
  'email_changed',
  'email_change_cancelled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** What webhook receivers are told; each is sent for one kind of event (`webhookFor`). */
export const WEBHOOK_TYPES = ['new_device_login', 'password_changed', 'refresh_token_reused', 'sessions_revoked'] as const;

export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/**
 * Per type, a small JSON object (stored as text, returned as is):
 * - `signed_in`: `new_device` (boolean), `replaced_session_ids` (same device's older sessions)
 * - `sign_in_failed`, `reauth_failed`, `password_change_failed`: `reason`
 * - `account_locked`: `locked_until` (ISO time)
 * - `password_changed`, `session_revoked`, `other_sessions_revoked`, `all_sessions_revoked`,
 *   `sessions_evicted`, `sign_in_reported`: `session_ids` (the sessions it ended); a report
 *   also names the reported sign-in event (`reported_event_id`)
 * - `session_expired`: `reason`, `idle` or `max_age`
 * - `signed_out_by_admin`, `account_disabled`: `session_ids` (the sessions it ended)
 * - `role_changed`: `role` and `previous_role`
 * - `account_imported`: `source` (its name), `source_id` (the user's row id there), `sessions`
 * - `password_reset_requested`: `mailed` (false when the account's mail limit held it back,
 *   or the account is disabled), `requested_by: 'admin'` when an administrator sent it; without
 *   a user when the address has no account
 * - `password_reset`: `session_ids` (every session it ended)
 * - `email_verified`: `email` (the address proved)
 * - `email_change_requested`: `email` (the new address, not yet the account's), `mailed`
 * - `email_changed`: `email`, `previous_email`
 * - `email_change_cancelled`: `email` (the address kept or restored), `reverted` (the change had
 *   landed and was undone), `session_ids` (every session it ended)
 * Never a password, token or hash.
 */
export type EventDetail = Record<string, string | number | boolean | string[] | null>;

export interface ActivityEvent {
  id: string;
  type: EventType;
  at: number;
  /** Null only for a failed sign-in with an email that has no account. */
  userId: string | null;
  /** The session the event happened in (a sign-in's new session, the one that signed out others). */
  sessionId: string | null;
  /** Who did it: the user's own id, an admin's id, or `system` (theft detection, expiry). */
  actor: string | null;
  /** The client that made the request; null when no request caused it (expiry). */
  client: ClientInfo | null;
  detail: EventDetail;
  /** The notification this event sends; its outbox row is written with it. */
  notify: WebhookType | null;
  /** The alert this event mails to the account's address (GATEHOUSE_MAIL_ALERTS); its mail is queued with it. */
  mailAlert?: WebhookType | null;
}

/** An event as history shows it: whether it notified is the outboxes' business. */
export type StoredEvent = Omit<ActivityEvent, 'notify' | 'mailAlert'>;

/**
 * Where an event's notification goes: the webhook receiver (when one is configured) and, for
 * the kinds in `mail`, the account's inbox. `true`/`false` is webhooks alone.
 */
export type NotificationOutputs = boolean | { webhooks: boolean; mail: ReadonlySet<WebhookType> };

/** Builds events from an outcome known only inside the store's transaction. */
export type EventsFor<T> = (outcome: T) => ActivityEvent[];

export function newEvent(
  type: EventType,
  at: number,
  fields: { userId: string | null; sessionId?: string | null; actor?: string | null; client?: ClientInfo | null; detail?: EventDetail },
  outputs: NotificationOutputs,
): ActivityEvent {
  const detail = fields.detail ?? {};
  const kind = webhookFor(type, detail);
  const webhooks = typeof outputs === 'boolean' ? outputs : outputs.webhooks;
  // A reset mails its own "your password was changed", whatever the alerts: not a second one.
  const mailed = typeof outputs !== 'boolean' && kind !== null && type !== 'password_reset' && outputs.mail.has(kind);
  return {
    id: eventId(at),
    type,
    at,
    userId: fields.userId,
    sessionId: fields.sessionId ?? null,
    actor: fields.actor ?? null,
    client: fields.client ?? null,
    detail,
    notify: webhooks ? kind : null,
    ...(mailed ? { mailAlert: kind } : {}),
  };
}

let sequence = 0;

/**
 * Event ids sort in the order events were made (history is listed by time, then id): the time
 * in hex, then a counter of this process, so two events of one millisecond keep their order,
 * then 80 random bits, so ids from different nodes never collide. Unlike user and session ids,
 * an event id may show when it was made: the event says so anyway.
 */
function eventId(at: number): string {
  sequence = (sequence + 1) % 0x1000000;
  const time = Math.max(0, Math.trunc(at)).toString(16).padStart(12, '0');
  return `${time}${sequence.toString(16).padStart(6, '0')}${randomBytes(10).toString('base64url')}`;
}

/**
 * Which events people are told about at once: the ones that mean someone else may be in the
 * account (a sign-in from somewhere new, a stolen refresh token) or that the account changed
 * under them (password, sessions ended from elsewhere).
 */
export function webhookFor(type: EventType, detail: EventDetail): WebhookType | null {
  switch (type) {
    case 'signed_in':
      return detail.new_device === true ? 'new_device_login' : null;
    case 'password_changed':
    case 'password_reset':
      return 'password_changed';
    case 'refresh_token_reused':
      return 'refresh_token_reused';
    case 'session_revoked':
    case 'other_sessions_revoked':
    case 'all_sessions_revoked':
    case 'sessions_evicted':
    case 'sign_in_reported':
    case 'email_change_cancelled':
    case 'signed_out_by_admin':
    case 'account_disabled':
      // A report of a session that had already ended signed nothing out, nor did disabling an
      // account that was signed in nowhere: nothing to tell.
      return Array.isArray(detail.session_ids) && detail.session_ids.length === 0 ? null : 'sessions_revoked';
    default:
      return null;
  }
}

/**
 * What makes a sign-in come from a "new device": browser and OS families (without versions, so
 * an update is not news), device type and country. Another address in the same country is not
 * new: addresses change all the time (mobile networks, DHCP), and alerting on them trains
 * people to ignore alerts.
 */
export function deviceKey(client: ClientInfo): string {
  const family = (name: string | null) => (name === null ? null : name.replace(/ [\d.]+$/, ''));
  return JSON.stringify([family(client.device.browser), family(client.device.os), client.device.type, client.country]);
}
