import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures in the Standard Webhooks layout (https://www.standardwebhooks.com/), so a
 * receiver can verify them with that project's libraries or with the dozen lines of
 * docs/webhooks.md: `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
 * The id and timestamp are signed with the body, so neither can be swapped to replay an old
 * body as new; the timestamp lets receivers refuse old ones.
 */

const PREFIX = 'whsec_';

/**
 * The HMAC key of GATEHOUSE_WEBHOOK_SECRET: a Standard Webhooks secret (`whsec_` + base64) is
 * its decoded bytes, as their libraries read it; any other secret is its UTF-8 bytes.
 */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith(PREFIX) ? Buffer.from(secret.slice(PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<signature>` of one delivery attempt; `timestamp` in epoch seconds. */
export function signWebhook(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** Every header of a delivery attempt: the signature is made anew for each, the id never changes. */
export function webhookHeaders(key: Buffer, id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Gatehouse-Webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(key, id, timestamp, body),
  };
}

/** Five minutes either way: what Standard Webhooks recommends, and docs/webhooks.md too. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * What a receiver does (docs/webhooks.md has the same in plain JavaScript): true when one of
 * the space-separated `v1,` signatures matches the raw body as received, and the timestamp is
 * within `toleranceSeconds` of `nowSeconds`. Compare in constant time; parse the body only after.
 */
export function verifyWebhook(
  secret: string,
  headers: { 'webhook-id'?: string; 'webhook-timestamp'?: string; 'webhook-signature'?: string },
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(webhookKey(secret), id, Number(timestamp), body));
  return signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
