import { hash, type Algorithm } from '@node-rs/argon2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '../../src/core/random.js';
import { argon2Hasher } from '../../src/passwords/argon2-hasher.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../helpers/app.js';
import { DATABASES } from '../helpers/databases.js';

/** What Gatehouse stores today: argon2id, m=19456 KiB, t=2, p=1. */
const TODAY = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;
/** A hash of `password` as an older, weaker configuration would have made it. */
const oldHash = (password: string) => hash(password, { algorithm: 2 as Algorithm, memoryCost: 4096, timeCost: 1, parallelism: 1 });

describe.each(DATABASES)('rehashing a password at sign-in on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    // Rehashing is about argon2id's parameters: the real hasher.
    t = await startTestGatehouse(kind, {}, { hasher: argon2Hasher() });
  });
  afterAll(() => t.close());
  afterEach(() => vi.restoreAllMocks());

  /** An account whose hash was made with m=4096, t=1, written straight through the store. */
  async function anAccountWithAnOldHash(email: string): Promise<{ id: string; hash: string }> {
    const passwordHash = await oldHash(PASSWORD);
    const user = await t.gatehouse.store.createUser({ id: newId(), email, emailKey: email, name: null, passwordHash, role: 'user', createdAt: t.clock.now() });
    return { id: user.id, hash: passwordHash };
  }

  const storedHash = async (userId: string) => (await t.gatehouse.store.findUserById(userId))?.passwordHash;
  const login = (email: string, password: string) => t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });

  it('replaces a hash made with older parameters at the next sign-in, and the password goes on working', async () => {
    const user = await anAccountWithAnOldHash('olga@example.com');
    const before = await t.gatehouse.store.findUserById(user.id);

    await signIn(t.app, 'olga@example.com');
    const after = await t.gatehouse.store.findUserById(user.id);
    expect(after?.passwordHash).toMatch(TODAY);
    expect(after?.passwordHash).not.toBe(user.hash);
    expect(after?.passwordChangedAt).toBe(before?.passwordChangedAt); // not a password change

    await signIn(t.app, 'olga@example.com', { ip: '198.51.100.2' });
    expect(await storedHash(user.id)).toBe(after?.passwordHash); // up to date: left alone
    expectProblem(await login('olga@example.com', 'not the password'), 401, 'invalid_credentials');
  });

  it('keeps every session: a rehash signs no one out', async () => {
    await registerUser(t.app, 'pia@example.com');
    const earlier = await signIn(t.app, 'pia@example.com', { ip: '198.51.100.3' });
    const userId = earlier.user.id;
    // The account, already signed in on one device, holds a hash made with older parameters.
    await t.gatehouse.store.rehashPassword({ userId, currentPasswordHash: (await storedHash(userId))!, passwordHash: await oldHash(PASSWORD) });

    await signIn(t.app, 'pia@example.com', { ip: '198.51.100.4' });
    expect(await storedHash(userId)).toMatch(TODAY);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(earlier.access_token) })).statusCode).toBe(200);
    expect(await t.gatehouse.store.findSession(earlier.session.id)).toMatchObject({ revokedAt: null });
  });

  it('rehashes nothing when the password is wrong', async () => {
    const user = await anAccountWithAnOldHash('quinn@example.com');
    expectProblem(await login('quinn@example.com', 'not the password'), 401, 'invalid_credentials');
    expect(await storedHash(user.id)).toBe(user.hash);
  });

  it('never overwrites a password change that lands between the check and the rehash, and still signs in', async () => {
    const user = await anAccountWithAnOldHash('rosa@example.com');
    const store = t.gatehouse.store;
    const changedHash = await t.gatehouse.ctx.hasher.hash('a brand new passphrase', 'account');
    const rehash = store.rehashPassword.bind(store);
    const spy = vi.spyOn(store, 'rehashPassword').mockImplementationOnce(async (change) => {
      // Another device changes the password just now, keeping its own session.
      const [keeper] = await store.listUserSessions(user.id, t.clock.now());
      await store.changePassword({
        userId: user.id,
        currentPasswordHash: change.currentPasswordHash,
        passwordHash: changedHash,
        keepSessionId: keeper!.id,
        revocation: { reason: 'password_changed', by: user.id, at: t.clock.now() },
      });
      return rehash(change);
    });

    await signIn(t.app, 'rosa@example.com');
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await storedHash(user.id)).toBe(changedHash);
    await signIn(t.app, 'rosa@example.com', { password: 'a brand new passphrase', ip: '198.51.100.5' });
    expectProblem(await login('rosa@example.com', PASSWORD), 401, 'invalid_credentials');
  });

  it('signs in when a sign-in at the same moment rehashed the hash it verified', async () => {
    const user = await anAccountWithAnOldHash('sami@example.com');
    const store = t.gatehouse.store;
    const startSession = store.startSession.bind(store);
    const spy = vi.spyOn(store, 'startSession').mockImplementationOnce(async (session, options) => {
      await store.rehashPassword({ userId: user.id, currentPasswordHash: user.hash, passwordHash: await t.gatehouse.ctx.hasher.hash(PASSWORD, 'account') });
      return startSession(session, options);
    });

    await signIn(t.app, 'sami@example.com');
    expect(spy).toHaveBeenCalledTimes(2); // refused against the outdated hash, then recorded against the new one
    expect(await storedHash(user.id)).toMatch(TODAY);
  });

  it('changes the password when a sign-in at the same moment rehashed the hash the change verified', async () => {
    await registerUser(t.app, 'tove@example.com');
    const { access_token: token, user } = await signIn(t.app, 'tove@example.com');
    const store = t.gatehouse.store;
    const old = await oldHash(PASSWORD);
    await store.rehashPassword({ userId: user.id, currentPasswordHash: (await storedHash(user.id))!, passwordHash: old });
    const changePassword = store.changePassword.bind(store);
    const spy = vi.spyOn(store, 'changePassword').mockImplementationOnce(async (change) => {
      await store.rehashPassword({ userId: user.id, currentPasswordHash: old, passwordHash: await t.gatehouse.ctx.hasher.hash(PASSWORD, 'account') });
      return changePassword(change);
    });

    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(token),
      payload: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    expect(response.statusCode, response.body).toBe(204);
    expect(spy).toHaveBeenCalledTimes(2);
    await signIn(t.app, 'tove@example.com', { password: 'a brand new passphrase', ip: '198.51.100.6' });
  });
});
