import type { StoredEvent, WebhookType } from '../core/activity.js';
import { notMeLink, type NotMeLinks } from '../core/not-me-link.js';
import type { Device } from '../core/records.js';
import type { WebhookDelivery } from '../storage/store.js';

/**
 * The JSON body of each webhook, as docs/webhooks.md documents it: the Standard Webhooks
 * envelope (`type`, `timestamp`, `data`) around what a receiver needs to write to the person
 * ("New sign-in to your account: Firefox on Ubuntu, Germany"). Built from the stored event
 * alone, so every retry of a delivery carries the same news (only `user` is read afresh, so a
 * changed email gets the alert). Times are ISO 8601 in UTC.
 */
export type WebhookPayload = { [T in WebhookType]: { type: T; timestamp: string; data: CommonData & WebhookData[T] } }[WebhookType];

export interface ClientJson {
  ip: string;
  /** ISO 3166-1 alpha-2 country code, or null when unknown. */
  location: string | null;
  user_agent: string;
  device: Device;
}

/** A session and the client it was used from; the client fields are null when none is known. */
export interface SessionJson {
  id: string | null;
  ip: string | null;
  location: string | null;
  user_agent: string | null;
  device: Device | null;
}

export interface CommonData {
  /** The event's id: the same as the `webhook-id` header, and the key to deduplicate on. */
  event_id: string;
  occurred_at: string;
  /** The account now (its email may have changed since); null if it no longer exists. */
  user: { id: string; email: string; name: string | null } | null;
}

export interface WebhookData {
  new_device_login: {
    /** The new session and the client it was signed in from. */
    session: SessionJson;
    /** One click signs that session out and reports it; null when no link can be made. */
    not_me_url: string | null;
    not_me_expires_at: string | null;
  };
  password_changed: {
    /** Where the password was changed: the session that made the change and its client. */
    session: SessionJson;
    /** How many other sessions the change signed out. */
    sessions_revoked: number;
  };
  refresh_token_reused: {
    /** The session that was signed out because one of its spent refresh tokens came back. */
    session_id: string | null;
    /** Whoever presented the spent token: the thief, or the person whose token was stolen. */
    client: ClientJson | null;
  };
  sessions_revoked: {
    /** The event that ended them: session_revoked, other_sessions_revoked, all_sessions_revoked, sessions_evicted, sign_in_reported, email_change_cancelled, signed_out_by_admin or account_disabled. */
    reason: string;
    session_ids: string[];
    /** Who ended them: the user's id, an administrator's, or `system`. */
    actor: string | null;
    /** The client that asked for it; null when no request did. */
    client: ClientJson | null;
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function webhookPayload(delivery: WebhookDelivery, links: NotMeLinks | undefined): WebhookPayload {
  const { event } = delivery;
  const common: CommonData = { event_id: event.id, occurred_at: iso(event.at), user: delivery.user };
  return { type: delivery.type, timestamp: iso(event.at), data: { ...common, ...dataOf(delivery.type, event, links) } } as WebhookPayload;
}

function dataOf(type: WebhookType, event: StoredEvent, links: NotMeLinks | undefined): WebhookData[WebhookType] {
  switch (type) {
    case 'new_device_login': {
      const link = links === undefined ? undefined : notMeLink(links, event.id, event.at);
      return {
        session: sessionOf(event),
        not_me_url: link?.url ?? null,
        not_me_expires_at: link === undefined ? null : iso(link.expiresAt),
      };
    }
    case 'password_changed':
      return { session: sessionOf(event), sessions_revoked: sessionIds(event).length };
    case 'refresh_token_reused':
      return { session_id: event.sessionId, client: clientOf(event) };
    case 'sessions_revoked':
      return { reason: event.type, session_ids: sessionIds(event), actor: event.actor, client: clientOf(event) };
  }
}

function clientOf(event: StoredEvent): ClientJson | null {
  const { client } = event;
  if (client === null) return null;
  return { ip: client.ip, location: client.country, user_agent: client.userAgent, device: { ...client.device } };
}

function sessionOf(event: StoredEvent): SessionJson {
  const client = clientOf(event);
  return {
    id: event.sessionId,
    ip: client?.ip ?? null,
    location: client?.location ?? null,
    user_agent: client?.user_agent ?? null,
    device: client?.device ?? null,
  };
}

function sessionIds(event: StoredEvent): string[] {
  const ids = event.detail.session_ids;
  return Array.isArray(ids) ? ids : [];
}
