import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newMail, type NewMail } from '../../src/core/mail.js';
import type { UserRecord } from '../../src/core/records.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';

/**
 * The Store contract of the mail outbox (src/storage/ports/mail-outbox.ts), on every database: a
 * queued message is handed out once per lease, oldest first; a sent or given-up one never
 * again; an alert goes to the account's address as it is when sent; parallel claimers never
 * share a message.
 */

const T0 = Date.parse('2026-11-27T09:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
const LEASE = MINUTE;

describe.each(DATABASES)('the mail outbox on %s', (kind) => {
  let store: KyselyStore;
  let close: () => Promise<void>;
  let ann: UserRecord;

  beforeEach(async () => {
    ({ store, close } = await createTestStore(kind));
    ann = await store.createUser({
      id: 'user-ann',
      email: 'ann@example.com',
      emailKey: 'ann@example.com',
      name: 'Ann',
      passwordHash: '$argon2id$x',
      role: 'user',
      createdAt: T0 - DAY,
    });
  });
  afterEach(() => close());

  /** A reset mail for Ann queued at `at`. */
  async function queued(at: number, recipient: string | null = ann.email): Promise<NewMail> {
    const mail = newMail('password_reset', at, {
      recipient,
      userId: ann.id,
      data: { token_id: 'token-1', expires_at: at + 30 * MINUTE, device: 'Firefox 121 on Ubuntu' },
    });
    await store.queueMail([mail]);
    return mail;
  }

  it('hands out a queued message with its recipient, data and the greeting name, and counts it in the backlog', async () => {
    const mail = await queued(T0);
    expect(await store.mailBacklog()).toEqual({ pending: 1, oldestCreatedAt: T0 });
    expect(await store.claimMail(T0, 10, LEASE)).toEqual([
      { ...mail, recipient: 'ann@example.com', addressProved: false, attempts: 0, claimedUntil: T0 + LEASE },
    ]);
    await store.db.updateTable('users').set({ email_verified_at: T0 }).where('id', '=', ann.id).execute();
    expect(await store.claimMail(T0 + LEASE, 10, LEASE)).toMatchObject([{ addressProved: true }]);
  });

  it('hands out the oldest due messages first, up to the limit, and none queued for later', async () => {
    const mails = [await queued(T0 + 3 * SECOND), await queued(T0 + SECOND), await queued(T0 + 2 * SECOND), await queued(T0 + MINUTE)];
    expect((await store.claimMail(T0 + 2 * SECOND, 2, LEASE)).map((m) => m.id)).toEqual([mails[1]!.id, mails[2]!.id]);
    expect(await store.claimMail(T0 + 2 * SECOND, 10, LEASE)).toEqual([]);
    expect((await store.claimMail(T0 + 3 * SECOND, 10, LEASE)).map((m) => m.id)).toEqual([mails[0]!.id]);
  });

  it('holds a claimed message for its lease and lets it go when the lease ends (the node died)', async () => {
    const mail = await queued(T0);
    expect(await store.claimMail(T0, 10, LEASE)).toHaveLength(1);
    expect(await store.claimMail(T0 + LEASE - 1, 10, LEASE)).toEqual([]);
    expect((await store.claimMail(T0 + LEASE, 10, LEASE)).map((m) => [m.id, m.attempts])).toEqual([[mail.id, 0]]);
  });

  it('gives a message to one of many parallel claimers only', async () => {
    for (let i = 0; i < 12; i++) await queued(T0 + i);
    const claims = await Promise.all(Array.from({ length: 6 }, () => store.claimMail(T0 + MINUTE, 4, LEASE)));
    const ids = claims.flat().map((m) => m.id);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
  });

  it('never hands out a sent message again, and counts it out of the backlog', async () => {
    const mail = await queued(T0);
    await store.claimMail(T0, 10, LEASE);
    await store.markMailSent(mail.id, T0 + SECOND);
    expect(await store.claimMail(T0 + DAY, 10, LEASE)).toEqual([]);
    expect(await store.mailBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('hands out a failed message again at its next attempt, not before, with the attempt counted', async () => {
    const mail = await queued(T0);
    await store.claimMail(T0, 10, LEASE);
    await store.markMailFailed(mail.id, { at: T0 + SECOND, error: '451 try again later', nextAttemptAt: T0 + 5 * SECOND });
    expect(await store.claimMail(T0 + 5 * SECOND - 1, 10, LEASE)).toEqual([]);
    expect(await store.claimMail(T0 + 5 * SECOND, 10, LEASE)).toMatchObject([{ id: mail.id, attempts: 1 }]);
  });

  it('ignores the failure of a node whose lease ended while another node holds the message', async () => {
    const mail = await queued(T0);
    const [stalled] = await store.claimMail(T0, 10, LEASE);
    await store.claimMail(T0 + LEASE, 10, LEASE);
    await store.markMailFailed(mail.id, { at: T0 + LEASE + 1, error: 'timeout', nextAttemptAt: T0 + LEASE + 1, claimedUntil: stalled!.claimedUntil });
    expect(await store.claimMail(T0 + LEASE + 2, 10, LEASE)).toEqual([]);
  });

  it('never hands out a message it gave up on, and counts it out of the backlog', async () => {
    const mail = await queued(T0);
    await store.claimMail(T0, 10, LEASE);
    await store.markMailFailed(mail.id, { at: T0 + 3 * DAY, error: '550 no such user', nextAttemptAt: null });
    expect(await store.claimMail(T0 + 4 * DAY, 10, LEASE)).toEqual([]);
    expect(await store.mailBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it("sends an alert to the account's address at the time of sending, so a changed address gets it", async () => {
    await queued(T0, null);
    await store.db.updateTable('users').set({ email: 'ann@example.org', email_key: 'ann@example.org' }).where('id', '=', ann.id).execute();
    expect(await store.claimMail(T0, 10, LEASE)).toMatchObject([{ recipient: 'ann@example.org' }]);
  });

  it('purges sent and given-up messages past the cut-off, in batches, and never a pending one', async () => {
    const sent = await queued(T0);
    const gaveUp = await queued(T0 + 1);
    const pending = await queued(T0 + 2);
    const recent = await queued(T0 + 3);
    await store.claimMail(T0 + 10, 10, LEASE);
    await store.markMailSent(sent.id, T0 + SECOND);
    await store.markMailFailed(gaveUp.id, { at: T0 + SECOND, error: '550', nextAttemptAt: null });
    await store.markMailSent(recent.id, T0 + DAY);
    expect(await store.purgeSettledMail(T0 + MINUTE, 1)).toBe(1);
    expect(await store.purgeSettledMail(T0 + MINUTE, 10)).toBe(1);
    expect(await store.purgeSettledMail(T0 + MINUTE, 10)).toBe(0);
    const left = await store.db.selectFrom('mail_outbox').select('id').orderBy('created_at').execute();
    expect(left.map((r) => r.id)).toEqual([pending.id, recent.id]);
  });
});
