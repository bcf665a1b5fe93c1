import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../helpers/app.js';
import { instantHasher } from '../helpers/hashers.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { verifyWebhook } from '../../src/webhooks/signature.js';
import { WebhookReceiver } from './receiver.js';

/** How createGatehouse wires the deliverer: started with a webhook URL, stopped with the node, its outbox purged. */

const SECRET = 'a-long-random-webhook-secret-of-more-than-32-characters';
const DAY_SECONDS = 86_400;

describe('a Gatehouse node with a webhook URL', () => {
  let t: TestGatehouse | undefined;
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
    t = receiver = undefined;
  });

  it('sends a sign-in from a new device to the receiver by itself, signed with the configured secret', async () => {
    receiver = await WebhookReceiver.start();
    t = await startTestGatehouse(
      'sqlite',
      { webhookUrl: receiver.url, webhookSecret: SECRET, publicUrl: 'https://auth.example.com' },
      { hasher: instantHasher() },
    );
    await registerUser(t.app, 'ann@example.com');
    const signedIn = await signIn(t.app, 'ann@example.com');
    t.gatehouse.webhooks!.kick();

    await vi.waitFor(() => expect(receiver!.acknowledged().size).toBe(1));
    const [webhook] = receiver.received;
    expect(verifyWebhook(SECRET, webhook!.headers as Record<string, string>, webhook!.body, t.clock.now() / 1000)).toBe(true);
    expect(JSON.parse(webhook!.body)).toMatchObject({ type: 'new_device_login', data: { session: { id: signedIn.session.id } } });
  });

  it('deletes delivered notifications a week after delivery when it purges, and keeps them before', async () => {
    receiver = await WebhookReceiver.start();
    t = await startTestGatehouse('sqlite', { webhookUrl: receiver.url, webhookSecret: SECRET }, { hasher: instantHasher() });
    await registerUser(t.app, 'ann@example.com');
    await signIn(t.app, 'ann@example.com');
    await t.gatehouse.webhooks!.deliverDue();
    const outbox = async () => (await (t!.gatehouse.store as KyselyStore).db.selectFrom('webhook_deliveries').select('event_id').execute()).length;

    t.clock.advance(6 * DAY_SECONDS);
    await t.gatehouse.purge();
    expect(await outbox()).toBe(1);
    t.clock.advance(1 * DAY_SECONDS + 1);
    await t.gatehouse.purge();
    expect(await outbox()).toBe(0);
  });

  it('has no deliverer without a webhook URL', async () => {
    t = await startTestGatehouse('sqlite', {}, { hasher: instantHasher() });
    expect(t.gatehouse.webhooks).toBeUndefined();
  });
});
