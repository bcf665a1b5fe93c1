import { describe, expect, it } from 'vitest';
import type { EventType, StoredEvent, WebhookType } from '../../src/core/activity.js';
import { notMeKey, readNotMeToken, type NotMeLinks } from '../../src/core/not-me-link.js';
import type { ClientInfo } from '../../src/core/records.js';
import type { WebhookDelivery } from '../../src/storage/store.js';
import { webhookPayload } from '../../src/webhooks/payload.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const ANN = { id: 'user-ann', email: 'ann@example.com', name: 'Ann' };
const FIREFOX: ClientInfo = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
  country: 'DE',
};
const FIREFOX_JSON = {
  ip: '203.0.113.7',
  location: 'DE',
  user_agent: FIREFOX.userAgent,
  device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
};
const LINKS: NotMeLinks = {
  key: notMeKey('a-long-random-webhook-secret-of-more-than-32-characters'),
  ttlSeconds: 7 * 86_400,
  publicUrl: 'https://auth.example.com',
};

function delivery(type: WebhookType, eventType: EventType, fields: Partial<StoredEvent> = {}): WebhookDelivery {
  const event: StoredEvent = {
    id: 'evt-1',
    type: eventType,
    at: T0,
    userId: ANN.id,
    sessionId: 'session-1',
    actor: ANN.id,
    client: FIREFOX,
    detail: {},
    ...fields,
  };
  return { type, event, user: ANN, attempts: 0, claimedUntil: T0 + 60_000 };
}

describe('webhook payloads', () => {
  it('tell of a sign-in from a new device: the session, its client, and a link to say "this wasn\'t me"', () => {
    const payload = webhookPayload(delivery('new_device_login', 'signed_in', { detail: { new_device: true } }), LINKS);
    expect(payload).toEqual({
      type: 'new_device_login',
      timestamp: '2026-11-27T09:00:00.000Z',
      data: {
        event_id: 'evt-1',
        occurred_at: '2026-11-27T09:00:00.000Z',
        user: ANN,
        session: { id: 'session-1', ...FIREFOX_JSON },
        not_me_url: expect.stringMatching(/^https:\/\/auth\.example\.com\/v1\/not-me\/evt-1\.\d+\.[\w-]{43}$/),
        not_me_expires_at: '2026-12-04T09:00:00.000Z',
      },
    });
  });

  it('carry a not-me link that is the same on every retry, works for that event only, and expires when it says', () => {
    const first = webhookPayload(delivery('new_device_login', 'signed_in'), LINKS);
    const retry = webhookPayload({ ...delivery('new_device_login', 'signed_in'), attempts: 5 }, LINKS);
    if (first.type !== 'new_device_login' || retry.type !== 'new_device_login') throw new Error('wrong type');
    expect(retry.data.not_me_url).toBe(first.data.not_me_url);
    const token = first.data.not_me_url!.split('/').at(-1)!;
    expect(readNotMeToken(LINKS.key, token, T0)).toEqual({ valid: true, eventId: 'evt-1', expired: false });
    expect(readNotMeToken(LINKS.key, token, Date.parse(first.data.not_me_expires_at!))).toEqual({ valid: true, eventId: 'evt-1', expired: true });
  });

  it('have no not-me link when none can be made', () => {
    const payload = webhookPayload(delivery('new_device_login', 'signed_in'), undefined);
    expect(payload.data).toMatchObject({ not_me_url: null, not_me_expires_at: null });
  });

  it('tell of a password change: where it was made, and how many other sessions it signed out', () => {
    const payload = webhookPayload(delivery('password_changed', 'password_changed', { detail: { session_ids: ['s-2', 's-3'] } }), LINKS);
    expect(payload).toEqual({
      type: 'password_changed',
      timestamp: '2026-11-27T09:00:00.000Z',
      data: { event_id: 'evt-1', occurred_at: '2026-11-27T09:00:00.000Z', user: ANN, session: { id: 'session-1', ...FIREFOX_JSON }, sessions_revoked: 2 },
    });
  });

  it('tell of a stolen refresh token: the session it ended and the client that presented the token', () => {
    const payload = webhookPayload(delivery('refresh_token_reused', 'refresh_token_reused', { actor: 'system' }), LINKS);
    expect(payload).toEqual({
      type: 'refresh_token_reused',
      timestamp: '2026-11-27T09:00:00.000Z',
      data: { event_id: 'evt-1', occurred_at: '2026-11-27T09:00:00.000Z', user: ANN, session_id: 'session-1', client: FIREFOX_JSON },
    });
  });

  it.each(['session_revoked', 'other_sessions_revoked', 'all_sessions_revoked', 'sessions_evicted', 'sign_in_reported'] as const)(
    'tell of sessions ended by %s: which, by whom, from which client',
    (reason) => {
      const payload = webhookPayload(delivery('sessions_revoked', reason, { detail: { session_ids: ['s-2', 's-3'] } }), LINKS);
      expect(payload).toEqual({
        type: 'sessions_revoked',
        timestamp: '2026-11-27T09:00:00.000Z',
        data: {
          event_id: 'evt-1',
          occurred_at: '2026-11-27T09:00:00.000Z',
          user: ANN,
          reason,
          session_ids: ['s-2', 's-3'],
          actor: ANN.id,
          client: FIREFOX_JSON,
        },
      });
    },
  );

  it('say null for a client that is not known and for an account that no longer exists', () => {
    const payload = webhookPayload({ ...delivery('password_changed', 'password_changed', { client: null, sessionId: null }), user: null }, LINKS);
    expect(payload.data).toEqual({
      event_id: 'evt-1',
      occurred_at: '2026-11-27T09:00:00.000Z',
      user: null,
      session: { id: null, ip: null, location: null, user_agent: null, device: null },
      sessions_revoked: 0,
    });
  });

  it('never carry a password, token or hash, whatever the event detail holds', () => {
    const payload = webhookPayload(
      delivery('sessions_revoked', 'session_revoked', { detail: { session_ids: ['s-2'], reason: 'x', secret: 'refresh.abc' } }),
      LINKS,
    );
    expect(JSON.stringify(payload)).not.toContain('refresh.abc');
  });
});
