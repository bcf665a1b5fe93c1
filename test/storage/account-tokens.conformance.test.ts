import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent } from '../../src/core/activity.js';
import type { AccountTokenPurpose } from '../../src/core/account-tokens.js';
import { isGatehouseError } from '../../src/core/errors.js';
import { newMail } from '../../src/core/mail.js';
import type { UserRecord } from '../../src/core/records.js';
import type { KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import type { PasswordReset } from '../../src/storage/store.js';
import { createTestStore, DATABASES } from '../helpers/databases.js';
import { newSessionRecord } from '../helpers/records.js';

/**
 * The Store contract of emailed links (src/storage/ports/account-tokens.ts), on every database:
 * only the newest link of a purpose works; a reset spends it (exactly once under a race), sets
 * the password, proves the address and ends every session in one transaction; a sign-in and a
 * password change void open reset links; a refused reset changes nothing.
 */

const T0 = Date.parse('2026-11-27T09:00:00Z');
const MINUTE = 60_000;
const TTL = 30 * MINUTE;

describe.each(DATABASES)('emailed links on %s', (kind) => {
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
      passwordHash: 'old-hash',
      role: 'user',
      createdAt: T0 - MINUTE,
    });
  });
  afterEach(() => close());

  async function issued(id: string, at = T0): Promise<void> {
    await store.issueAccountToken(
      { id, userId: ann.id, purpose: 'password_reset', email: ann.email, createdAt: at, expiresAt: at + TTL },
      {
        mail: [newMail('password_reset', at, { recipient: ann.email, userId: ann.id, data: { token_id: id } })],
        events: [newEvent('password_reset_requested', at, { userId: ann.id, detail: { mailed: true } }, false)],
      },
    );
  }

  function reset(tokenId: string, at = T0 + MINUTE): PasswordReset {
    return {
      tokenId,
      at,
      passwordHash: `new-hash-${tokenId}`,
      revocation: { reason: 'password_reset', by: ann.id, at },
      events: ({ user, revoked }) => [newEvent('password_reset', at, { userId: user.id, detail: { session_ids: revoked.map((s) => s.id) } }, false)],
      mail: ({ user }) => [newMail('password_changed', at, { recipient: null, userId: user.id, data: { how: 'reset' } })],
    };
  }

  async function codeOf(work: Promise<unknown>): Promise<string> {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    return isGatehouseError(error) ? error.code : `not a GatehouseError: ${String(error)}`;
  }

  async function mailKinds(): Promise<string[]> {
    return (await store.db.selectFrom('mail_outbox').select('kind').orderBy('created_at').execute()).map((r) => r.kind);
  }

  it('stores a link with its mail and event, and finds it by id', async () => {
    await issued('link-1');
    expect(await store.findAccountToken('link-1')).toEqual({
      id: 'link-1',
      userId: ann.id,
      purpose: 'password_reset',
      email: 'ann@example.com',
      createdAt: T0,
      expiresAt: T0 + TTL,
      usedAt: null,
      voidedAt: null,
    });
    expect(await mailKinds()).toEqual(['password_reset']);
    expect((await store.listUserEvents(ann.id, { limit: 10 })).map((e) => e.type)).toEqual(['password_reset_requested']);
  });

  it('records a reset that mails nothing, with its event, and voids no link', async () => {
    await issued('link-1');
    await store.recordWithheldMail({
      mail: [newMail('password_reset', T0 + 1, { recipient: null, userId: ann.id, data: { withheld: 'hourly_limit' } })],
      events: [newEvent('password_reset_requested', T0 + 1, { userId: ann.id, detail: { mailed: false } }, false)],
    });
    expect(await store.findAccountToken('link-1')).toMatchObject({ voidedAt: null });
    expect(await mailKinds()).toEqual(['password_reset', 'password_reset']);
    expect((await store.listUserEvents(ann.id, { limit: 1 }))[0]).toMatchObject({ type: 'password_reset_requested', detail: { mailed: false } });
  });

  it('voids the older link when a newer one is issued', async () => {
    await issued('link-1');
    await issued('link-2', T0 + 1);
    expect(await store.findAccountToken('link-1')).toMatchObject({ voidedAt: T0 + 1 });
    expect(await codeOf(store.resetPassword(reset('link-1')))).toBe('link_expired');
    await store.resetPassword(reset('link-2'));
  });

  it('resets: the new hash, the address proved, every session ended, the link spent, with the event and the mail', async () => {
    await issued('link-1');
    await store.startSession(newSessionRecord('s1', ann.id, T0), { replaceSameDevice: false, maxSessions: 0, passwordHash: 'old-hash' });
    await store.startSession(newSessionRecord('s2', ann.id, T0 + 1), { replaceSameDevice: false, maxSessions: 0, passwordHash: 'old-hash' });
    // The sign-ins voided the link; a new one is asked for after them.
    await issued('link-2', T0 + 2);
    const { user, revoked } = await store.resetPassword(reset('link-2'));
    expect(user).toMatchObject({ passwordHash: 'new-hash-link-2', passwordChangedAt: T0 + MINUTE, emailVerifiedAt: T0 + MINUTE });
    expect(await store.findUserById(ann.id)).toEqual(user);
    expect(revoked.map((s) => s.id).sort()).toEqual(['s1', 's2']);
    expect((await store.findSession('s1'))?.revokedReason).toBe('password_reset');
    expect(await store.findAccountToken('link-2')).toMatchObject({ usedAt: T0 + MINUTE });
    expect(await mailKinds()).toEqual(['password_reset', 'password_reset', 'password_changed']);
    expect((await store.listUserEvents(ann.id, { limit: 1 }))[0]).toMatchObject({ type: 'password_reset', detail: { session_ids: expect.any(Array) } });
  });

  it('lets exactly one of racing resets with one link win; the others change nothing', async () => {
    await issued('link-1');
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.resetPassword({ ...reset('link-1'), passwordHash: `hash-${i}` })));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === 'rejected')) expect(isGatehouseError(lost.reason, 'link_used')).toBe(true);
    const winner = (won[0] as PromiseFulfilledResult<{ user: UserRecord }>).value.user.passwordHash;
    expect((await store.findUserById(ann.id))?.passwordHash).toBe(winner);
    expect((await mailKinds()).filter((k) => k === 'password_changed')).toHaveLength(1);
  });

  it('refuses an expired link, an unknown one and a spent one, changing nothing', async () => {
    await issued('link-1');
    expect(await codeOf(store.resetPassword(reset('link-1', T0 + TTL)))).toBe('link_expired');
    expect(await codeOf(store.resetPassword(reset('no-such-link')))).toBe('link_invalid');
    expect((await store.findUserById(ann.id))?.passwordHash).toBe('old-hash');
    await store.resetPassword(reset('link-1', T0 + TTL - 1));
    expect(await codeOf(store.resetPassword(reset('link-1', T0 + TTL - 1)))).toBe('link_used');
  });

  it('voids open reset links at a sign-in and at a password change', async () => {
    await issued('link-1');
    await store.startSession(newSessionRecord('s1', ann.id, T0 + 5), { replaceSameDevice: false, maxSessions: 0, passwordHash: 'old-hash' });
    expect(await store.findAccountToken('link-1')).toMatchObject({ voidedAt: T0 + 5 });
    await issued('link-2', T0 + 6);
    await store.changePassword({
      userId: ann.id,
      currentPasswordHash: 'old-hash',
      passwordHash: 'changed',
      keepSessionId: 's1',
      revocation: { reason: 'password_changed', by: ann.id, at: T0 + 7 },
    });
    expect(await store.findAccountToken('link-2')).toMatchObject({ voidedAt: T0 + 7 });
    expect(await codeOf(store.resetPassword(reset('link-2')))).toBe('link_expired');
    expect((await store.findUserById(ann.id))?.passwordHash).toBe('changed');
  });

  it('refuses a link to an address the account has left, or of a disabled account', async () => {
    await issued('link-1');
    await store.db.updateTable('users').set({ email: 'ann@example.org', email_key: 'ann@example.org' }).where('id', '=', ann.id).execute();
    expect(await codeOf(store.resetPassword(reset('link-1')))).toBe('link_expired');
    expect(await store.findAccountToken('link-1')).toMatchObject({ usedAt: null });
    ann = (await store.findUserById(ann.id))!;
    await issued('link-2', T0 + 1);
    await store.setUserDisabled({ userId: ann.id, disabled: true, at: T0 + 2, by: 'cli', events: () => [] });
    expect(await codeOf(store.resetPassword(reset('link-2')))).toBe('link_expired');
    expect((await store.findUserById(ann.id))?.passwordHash).toBe('old-hash');
  });

  async function link(id: string, purpose: AccountTokenPurpose, email: string, at = T0): Promise<void> {
    await store.issueAccountToken({ id, userId: ann.id, purpose, email, createdAt: at, expiresAt: at + TTL }, { mail: [], events: [] });
  }

  it('verifies the address a verification link went to, and not one the account has left', async () => {
    await link('verify-1', 'email_verification', 'ann@example.com');
    const events = (user: UserRecord) => [newEvent('email_verified', T0 + 1, { userId: user.id }, false)];
    expect(await store.verifyEmail({ tokenId: 'verify-1', at: T0 + 1, events })).toMatchObject({ emailVerifiedAt: T0 + 1 });
    expect(await codeOf(store.verifyEmail({ tokenId: 'verify-1', at: T0 + 2, events }))).toBe('link_used');
    await link('verify-2', 'email_verification', 'ann@old.example', T0 + 3);
    expect(await codeOf(store.verifyEmail({ tokenId: 'verify-2', at: T0 + 4, events }))).toBe('link_expired');
    // A password reset link cannot verify, nor a verification link reset.
    expect(await codeOf(store.verifyEmail({ tokenId: 'link-none', at: T0 + 4, events }))).toBe('link_invalid');
  });

  it("changes the address with the new address's link, proved, and voids the links the old address holds", async () => {
    await issued('reset-1');
    await link('change-1', 'email_change', 'ann@new.example');
    const { user, previous } = await store.changeEmail({ tokenId: 'change-1', at: T0 + 1, emailKey: 'ann@new.example', events: () => [] });
    expect(previous.email).toBe('ann@example.com');
    expect(user).toMatchObject({ email: 'ann@new.example', emailKey: 'ann@new.example', emailVerifiedAt: T0 + 1 });
    expect(await store.findUserByEmail('ann@new.example')).toEqual(user);
    expect(await store.findAccountToken('reset-1')).toMatchObject({ voidedAt: T0 + 1 });
  });

  it('refuses a change to an address another account took meanwhile, leaving the link unspent', async () => {
    await link('change-1', 'email_change', 'bob@example.com');
    await store.createUser({
      id: 'user-bob',
      email: 'bob@example.com',
      emailKey: 'bob@example.com',
      name: null,
      passwordHash: 'x',
      role: 'user',
      createdAt: T0,
    });
    expect(await codeOf(store.changeEmail({ tokenId: 'change-1', at: T0 + 1, emailKey: 'bob@example.com', events: () => [] }))).toBe('email_taken');
    expect(await store.findAccountToken('change-1')).toMatchObject({ usedAt: null });
    expect((await store.findUserById(ann.id))?.email).toBe('ann@example.com');
  });

  it('cancels from the old address: puts it back, voids every open link and ends every session', async () => {
    await link('change-1', 'email_change', 'thief@evil.example');
    await link('cancel-1', 'email_change_cancel', 'ann@example.com');
    await store.changeEmail({ tokenId: 'change-1', at: T0 + 1, emailKey: 'thief@evil.example', events: () => [] });
    await store.startSession(newSessionRecord('s1', ann.id, T0 + 2), { replaceSameDevice: false, maxSessions: 0, passwordHash: 'old-hash' });
    await issued('reset-1', T0 + 3);
    const cancelled = await store.cancelEmailChange({
      tokenId: 'cancel-1',
      at: T0 + 4,
      emailKey: 'ann@example.com',
      revocation: { reason: 'email_change_cancelled', by: ann.id, at: T0 + 4 },
      events: () => [],
    });
    expect(cancelled.reverted).toBe(true);
    expect(cancelled.user).toMatchObject({ email: 'ann@example.com', emailKey: 'ann@example.com' });
    expect(cancelled.revoked.map((s) => s.id)).toEqual(['s1']);
    expect(await store.findAccountToken('reset-1')).toMatchObject({ voidedAt: T0 + 4 });
  });

  it('cancels a change that has not landed without touching the address, and cannot take back an address someone else has now', async () => {
    await link('cancel-1', 'email_change_cancel', 'ann@example.com');
    const cancel = (tokenId: string, at: number) =>
      store.cancelEmailChange({ tokenId, at, emailKey: 'ann@example.com', revocation: { reason: 'email_change_cancelled', by: ann.id, at }, events: () => [] });
    expect((await cancel('cancel-1', T0 + 1)).reverted).toBe(false);
    await link('change-2', 'email_change', 'ann@new.example', T0 + 2);
    await link('cancel-2', 'email_change_cancel', 'ann@example.com', T0 + 2);
    await store.changeEmail({ tokenId: 'change-2', at: T0 + 3, emailKey: 'ann@new.example', events: () => [] });
    await store.createUser({
      id: 'user-other',
      email: 'ann@example.com',
      emailKey: 'ann@example.com',
      name: null,
      passwordHash: 'x',
      role: 'user',
      createdAt: T0 + 4,
    });
    const outcome = await cancel('cancel-2', T0 + 5);
    expect(outcome.reverted).toBe(false);
    expect(outcome.user.email).toBe('ann@new.example');
  });

  it('purges links that expired before the cut-off, in batches', async () => {
    await issued('link-1', T0);
    await issued('link-2', T0 + TTL);
    expect(await store.purgeAccountTokens(T0 + TTL + 1, 10)).toBe(1);
    expect(await store.findAccountToken('link-1')).toBeUndefined();
    expect(await store.findAccountToken('link-2')).toBeDefined();
  });
});
