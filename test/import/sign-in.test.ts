import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noLocation } from '../../src/geo/locator.js';
import { runImport } from '../../src/import/run-import.js';
import { SourceReader } from '../../src/import/source-reader.js';
import { sourceDatabase } from '../../src/import/source-url.js';
import { argon2Hasher } from '../../src/passwords/argon2-hasher.js';
import { bearer, expectProblem, loginAttempt, PASSWORD, signIn, startTestGatehouse, type TestGatehouse, USER_AGENTS } from '../helpers/app.js';
import { DATABASES } from '../helpers/databases.js';
import { createSequelizeSource, type SequelizeSource } from './sequelize-source.js';

/**
 * After the move: people the import brought sign in over the HTTP API with the password they
 * had in the old app, through the real argon2 hasher (with bcrypt beside it), and from then on
 * their hash is argon2id. Their old app's live logins are in their device list.
 */

const DAY = 86_400_000;
const ARGON2ID = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;
// "Café crème" typed with combining accents, as macOS may paste it: the old app hashed it so.
const DECOMPOSED = 'Cafe\u0301 cre\u0300me on a Tuesday';

describe.each(DATABASES)('signing in after the import, on %s', (kind) => {
  let t: TestGatehouse;
  let source: SequelizeSource;

  beforeAll(async () => {
    // Imported bcrypt hashes and their rehash to argon2id are what this is about: the real hasher.
    t = await startTestGatehouse(kind, {}, { hasher: argon2Hasher() });
    source = await createSequelizeSource();
    const now = t.clock.now();
    // A realistic cost for Ann: the cost is read from the hash, whatever it is.
    const ann = await source.addUser({ email: 'ann@example.com', password: PASSWORD, cost: 10 });
    await source.addLogin({
      userId: ann,
      ip: '::ffff:198.51.100.9',
      device: USER_AGENTS.firefoxUbuntu,
      createdAt: new Date(now - 3 * DAY),
      updatedAt: new Date(now - DAY),
    });
    await source.addUser({ email: 'bea@example.com', password: DECOMPOSED });
    await source.addUser({ email: 'cem@example.com', password: 'a'.repeat(72) + ' and the rest the old app never saw' });
    const reader = await SourceReader.open(sourceDatabase(source.url)!, 'public');
    try {
      const report = await runImport({
        reader,
        store: t.gatehouse.store,
        source: 'app',
        dryRun: false,
        policy: { idleTtlSeconds: 14 * 86_400, maxAgeSeconds: 90 * 86_400, maxSessions: 0 },
        locator: noLocation,
        now,
      });
      expect(report.users.imported).toBe(3);
    } finally {
      await reader.close();
    }
  });
  afterAll(async () => {
    await t.close();
    await source.drop();
  });

  const login = (email: string, password: string) => loginAttempt(t.app, email, password);
  const hashOf = async (email: string) => (await t.gatehouse.store.findUserByEmail(email))!.passwordHash;

  it('refuses a wrong password as it would any other, and keeps the imported hash', async () => {
    const before = await hashOf('ann@example.com');
    const response = await login('ann@example.com', `${PASSWORD}!`);
    expectProblem(response, 401, 'invalid_credentials');
    expect(response.body).toBe((await login('nobody@example.com', PASSWORD)).body);
    expect(await hashOf('ann@example.com')).toBe(before);
    expect(before).toMatch(/^\$2b\$10\$/);
  });

  it('signs in with the old password, rehashes it to argon2id, and the old password still works after', async () => {
    const first = await signIn(t.app, 'ann@example.com', { password: PASSWORD });
    expect(await hashOf('ann@example.com')).toMatch(ARGON2ID);
    const again = await signIn(t.app, 'ann@example.com', { password: PASSWORD });
    expect(again.user.id).toBe(first.user.id);
    expectProblem(await login('ann@example.com', 'correct horse battery stapl'), 401, 'invalid_credentials');

    // Her old app's login is in her device list (not current: nobody holds its token), and her
    // sign-in from that same browser was not news. (Her second sign-in replaced her first: same device.)
    const { sessions } = (await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(again.access_token) })).json();
    expect(sessions).toHaveLength(2);
    const imported = sessions.find((s: { created_at: string }) => s.created_at === new Date(t.clock.now() - 3 * DAY).toISOString());
    expect(imported).toMatchObject({ current: false, ip: '198.51.100.9', device: { label: 'Firefox 121 on Ubuntu' } });
    const activity = (await t.app.inject({ method: 'GET', url: '/v1/me/activity', headers: bearer(again.access_token) })).json();
    const types = activity.events.map((e: { type: string }) => e.type).filter((type: string) => type !== 'sign_in_failed');
    expect(types).toEqual(['signed_in', 'signed_in', 'account_imported']);
    expect(activity.events.every((e: { type: string; detail: { new_device?: boolean } }) => e.detail.new_device !== true)).toBe(true);
  });

  it('takes a password the old app hashed as typed, not in NFKC form, and its NFKC form after the rehash', async () => {
    expect(DECOMPOSED.normalize('NFKC')).not.toBe(DECOMPOSED);
    await signIn(t.app, 'bea@example.com', { password: DECOMPOSED });
    expect(await hashOf('bea@example.com')).toMatch(ARGON2ID);
    await signIn(t.app, 'bea@example.com', { password: DECOMPOSED.normalize('NFC') });
    await signIn(t.app, 'bea@example.com', { password: DECOMPOSED });
  });

  it('refuses, as a wrong password, a bcrypt hash costlier than any it imports that reached the database another way', async () => {
    // Cost 31: verified, two attempts would hold every hashing worker for days.
    const costly = (await hashOf('cem@example.com')).replace(/^\$2b\$04\$/, '$2b$31$');
    expect(costly).toMatch(/^\$2b\$31\$/);
    await t.gatehouse.store.createUser({
      id: 'dan',
      email: 'dan@example.com',
      emailKey: 'dan@example.com',
      name: null,
      passwordHash: costly,
      role: 'user',
      createdAt: t.clock.now(),
    });
    const responses = await Promise.all([login('dan@example.com', PASSWORD), login('dan@example.com', `${PASSWORD}!`)]);
    for (const response of responses) {
      expectProblem(response, 401, 'invalid_credentials');
      expect(response.body).toBe((await login('nobody@example.com', PASSWORD)).body);
    }
    expect(await hashOf('dan@example.com')).toBe(costly);
  });

  it("counts only a password's first 72 bytes until the rehash, and the whole password after it", async () => {
    const typedNow = 'a'.repeat(72) + ' but another ending';
    await signIn(t.app, 'cem@example.com', { password: typedNow });
    expect(await hashOf('cem@example.com')).toMatch(ARGON2ID);
    await signIn(t.app, 'cem@example.com', { password: typedNow });
    expectProblem(await login('cem@example.com', 'a'.repeat(72) + ' and the rest the old app never saw'), 401, 'invalid_credentials');
  });
});
