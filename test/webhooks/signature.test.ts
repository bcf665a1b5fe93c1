import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookHeaders, webhookKey } from '../../src/webhooks/signature.js';

/** The published Standard Webhooks test vector (the same in every one of their libraries). */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const SECRET = 'a-long-random-webhook-secret-of-more-than-32-characters';
const NOW = 1_795_770_000;
const BODY = '{"type":"password_changed","timestamp":"2026-11-27T09:00:00.000Z","data":{}}';

function headersFor(secret: string, id: string, timestamp: number, body: string) {
  return webhookHeaders(webhookKey(secret), id, timestamp, body);
}

describe('webhook signatures', () => {
  it('reproduce the Standard Webhooks test vector, so their libraries verify ours', () => {
    expect(signWebhook(webhookKey(VECTOR.secret), VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(
      verifyWebhook(
        VECTOR.secret,
        { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature },
        VECTOR.body,
        VECTOR.timestamp,
      ),
    ).toBe(true);
  });

  it('use the UTF-8 bytes of a secret that is not a whsec_ one as the key', () => {
    const expected = createHmac('sha256', SECRET).update(`evt_1.${NOW}.${BODY}`).digest('base64');
    expect(signWebhook(webhookKey(SECRET), 'evt_1', NOW, BODY)).toBe(`v1,${expected}`);
  });

  it('travel in the Standard Webhooks headers, with the event id as webhook-id', () => {
    expect(headersFor(SECRET, 'evt_1', NOW, BODY)).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Gatehouse-Webhooks/1',
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(NOW),
      'webhook-signature': signWebhook(webhookKey(SECRET), 'evt_1', NOW, BODY),
    });
  });

  it('verify for the receiver when id, timestamp and body are as signed, within five minutes either way', () => {
    const headers = headersFor(SECRET, 'evt_1', NOW, BODY);
    expect(verifyWebhook(SECRET, headers, BODY, NOW)).toBe(true);
    expect(verifyWebhook(SECRET, headers, BODY, NOW + 300)).toBe(true);
    expect(verifyWebhook(SECRET, headers, BODY, NOW - 300)).toBe(true);
  });

  it('verify when one of several space-separated signatures matches (a secret being rotated)', () => {
    const headers = headersFor(SECRET, 'evt_1', NOW, BODY);
    const rotated = { ...headers, 'webhook-signature': `v1,bm9wZQ== ${headers['webhook-signature']}` };
    expect(verifyWebhook(SECRET, rotated, BODY, NOW)).toBe(true);
  });

  it('do not verify a changed body, id or timestamp, another secret, or a missing header', () => {
    const headers = headersFor(SECRET, 'evt_1', NOW, BODY);
    expect(verifyWebhook(SECRET, headers, BODY.replace('password_changed', 'sessions_revoked'), NOW)).toBe(false);
    expect(verifyWebhook(SECRET, { ...headers, 'webhook-id': 'evt_2' }, BODY, NOW)).toBe(false);
    expect(verifyWebhook(SECRET, { ...headers, 'webhook-timestamp': String(NOW + 1) }, BODY, NOW)).toBe(false);
    expect(verifyWebhook(`${SECRET}-other`, headers, BODY, NOW)).toBe(false);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _, ...without } = headers;
      expect(verifyWebhook(SECRET, without, BODY, NOW)).toBe(false);
    }
  });

  it('do not verify a replay more than five minutes old, nor a timestamp from the future', () => {
    const headers = headersFor(SECRET, 'evt_1', NOW, BODY);
    expect(verifyWebhook(SECRET, headers, BODY, NOW + 301)).toBe(false);
    expect(verifyWebhook(SECRET, headers, BODY, NOW - 301)).toBe(false);
  });
});
