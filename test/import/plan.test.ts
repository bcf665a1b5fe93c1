import { describe, expect, it } from 'vitest';
import { noLocation } from '../../src/geo/locator.js';
import { blacklistedTokenIds } from '../../src/import/blacklist.js';
import { duplicateEmailKeys } from '../../src/import/duplicate-emails.js';
import { checkLogins, checkUser, clientOf, newUserFrom, sessionFrom, type ImportPolicy } from '../../src/import/plan.js';
import type { SourceLogin, SourceUser } from '../../src/import/source-reader.js';
import { T0 } from '../helpers/records.js';
import { oldAppJwt } from './sequelize-source.js';

const DAY = 86_400_000;
const POLICY: ImportPolicy = { idleTtlSeconds: 14 * 86_400, maxAgeSeconds: 90 * 86_400, maxSessions: 0 };
const BCRYPT = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';

const aUser = (fields: Partial<SourceUser> = {}): SourceUser => ({
  id: '1',
  key: 1,
  email: 'ann@example.com',
  passwordHash: BCRYPT,
  name: 'Ann',
  createdAt: new Date(T0 - 400 * DAY),
  deleted: false,
  ...fields,
});

let logins = 0;
const aLogin = (fields: Partial<SourceLogin> = {}): SourceLogin => ({
  id: String(++logins),
  userId: '1',
  tokenId: `token-${logins}`,
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  tokenExpired: false,
  createdAt: new Date(T0 - DAY),
  updatedAt: new Date(T0 - DAY),
  ...fields,
});

describe('which source users become accounts', () => {
  it('takes a live user with a valid email and a bcrypt hash, as registration would take the email', () => {
    expect(checkUser(aUser({ email: '  Ann@Example.COM ' }), new Set(), new Set())).toEqual({ email: { address: 'Ann@Example.COM', key: 'ann@example.com' } });
    expect(checkUser(aUser({ passwordHash: BCRYPT.replace('$05$', '$12$') }), new Set(), new Set())).toHaveProperty('email');
  });

  it.each([
    ['deleted_in_source', aUser({ deleted: true, email: 'not an email' })],
    ['invalid_email', aUser({ email: 'not an email', passwordHash: null })],
    ['invalid_email', aUser({ email: null })],
    ['duplicate_email', aUser({ email: 'Dup@example.com', passwordHash: 'plain' })],
    ['no_password', aUser({ passwordHash: null })],
    ['no_password', aUser({ passwordHash: ' ' })],
    ['unsupported_password_hash', aUser({ passwordHash: 'sha1$abc$def' })],
    ['unsupported_password_hash', aUser({ passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA' })],
    ['password_hash_too_costly', aUser({ passwordHash: BCRYPT.replace('$05$', '$13$') })],
    ['password_hash_too_costly', aUser({ passwordHash: BCRYPT.replace('$05$', '$31$') })],
    ['email_taken', aUser({ email: 'TAKEN@example.com' })],
  ])('skips it as %s, the first reason that applies', (reason, user) => {
    expect(checkUser(user, new Set(['dup@example.com']), new Set(['taken@example.com']))).toEqual({ skip: reason });
  });

  it('keeps the hash, the creation time and a clean name, with a new id and the role user', () => {
    const user = newUserFrom(
      { ...aUser({ name: 'Ann\u0000 \u001b[31mSmith ' }), passwordHash: BCRYPT },
      { address: 'ann@example.com', key: 'ann@example.com' },
      T0,
    );
    expect(user).toMatchObject({
      email: 'ann@example.com',
      emailKey: 'ann@example.com',
      name: 'Ann [31mSmith',
      passwordHash: BCRYPT,
      role: 'user',
      createdAt: T0 - 400 * DAY,
    });
    expect(user.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newUserFrom({ ...aUser({ name: 'x'.repeat(300) }), passwordHash: BCRYPT }, { address: 'a@b.co', key: 'a@b.co' }, T0).name).toHaveLength(100);
    expect(newUserFrom({ ...aUser({ name: '  ', createdAt: null }), passwordHash: BCRYPT }, { address: 'a@b.co', key: 'a@b.co' }, T0)).toMatchObject({
      name: null,
      createdAt: T0,
    });
  });
});

describe('which logins become sessions', () => {
  it('ends a login at the idle limit after its last update, and at the absolute limit after it began', () => {
    const idleEdge = aLogin({ createdAt: new Date(T0 - 20 * DAY), updatedAt: new Date(T0 - 14 * DAY) });
    const idleAlive = aLogin({ createdAt: new Date(T0 - 20 * DAY), updatedAt: new Date(T0 - 14 * DAY + 1) });
    const ageEdge = aLogin({ createdAt: new Date(T0 - 90 * DAY), updatedAt: new Date(T0 - DAY) });
    const ageAlive = aLogin({ createdAt: new Date(T0 - 90 * DAY + 1), updatedAt: new Date(T0 - DAY) });
    const verdicts = checkLogins([idleEdge, idleAlive, ageEdge, ageAlive], POLICY, T0, new Set());
    expect(verdicts.sessions.map((l) => l.id)).toEqual([ageAlive.id, idleAlive.id]);
    expect(verdicts.skipped).toEqual({ expired: 2 });
  });

  it('leaves out logins the old app marked expired, and those whose token is on its blacklist', () => {
    const expired = aLogin({ tokenExpired: true });
    const blacklisted = aLogin();
    const alive = aLogin();
    const verdicts = checkLogins([expired, blacklisted, alive], POLICY, T0, new Set([blacklisted.tokenId!]));
    expect(verdicts).toEqual({ sessions: [alive], skipped: { expired: 1, blacklisted: 1 } });
  });

  it('keeps the most recently active within the cap on sessions', () => {
    const older = aLogin({ updatedAt: new Date(T0 - 3 * DAY), createdAt: new Date(T0 - 3 * DAY) });
    const newest = aLogin({ updatedAt: new Date(T0 - DAY), createdAt: new Date(T0 - 5 * DAY) });
    const middle = aLogin({ updatedAt: new Date(T0 - 2 * DAY), createdAt: new Date(T0 - 2 * DAY) });
    expect(checkLogins([older, newest, middle], { ...POLICY, maxSessions: 2 }, T0, new Set())).toEqual({
      sessions: [newest, middle],
      skipped: { beyond_session_limit: 1 },
    });
  });

  it('makes a session with the login’s times and client, and a refresh token nobody holds', () => {
    const login = aLogin({ ip: '::ffff:198.51.100.4', createdAt: new Date(T0 - 5 * DAY), updatedAt: new Date(T0 - 2 * DAY) });
    const session = sessionFrom(login, 'user-1', POLICY, T0, noLocation);
    expect(session).toMatchObject({
      userId: 'user-1',
      createdAt: T0 - 5 * DAY,
      authenticatedAt: T0 - 5 * DAY,
      lastActiveAt: T0 - 2 * DAY,
      idleExpiresAt: T0 - 2 * DAY + 14 * DAY,
      expiresAt: T0 - 5 * DAY + 90 * DAY,
      client: { ip: '198.51.100.4', device: { label: 'Firefox 121 on Ubuntu' }, country: null },
      refresh: { generation: 0, rotatedAt: null, sealedSuccessor: null },
    });
    expect(session.refresh.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // An update time in the future (a skewed clock) is not activity yet to come.
    expect(sessionFrom(aLogin({ updatedAt: new Date(T0 + DAY) }), 'u', POLICY, T0, noLocation).lastActiveAt).toBe(T0);
  });

  it('keeps what it can of a client: no address for text that is none, and the user agent clamped', () => {
    expect(clientOf(null, 'unknown', noLocation)).toMatchObject({ ip: '', userAgent: '', country: null, device: { label: 'Unknown device' } });
    expect(clientOf('x'.repeat(600), '2001:db8::1', noLocation)).toMatchObject({ ip: '2001:db8::1', userAgent: 'x'.repeat(512) });
    expect(clientOf('curl/8.5.0', '::ffff:81.2.69.142', { countryOf: (ip) => (ip === '81.2.69.142' ? 'GB' : null) })).toMatchObject({
      ip: '81.2.69.142',
      country: 'GB',
    });
  });
});

describe('the blacklist', () => {
  it('names a login by its token id, or by the id claims of a JWT', () => {
    expect(blacklistedTokenIds(' 6f1c-token-id ')).toEqual(['6f1c-token-id']);
    expect(blacklistedTokenIds(oldAppJwt({ id: 7, token_id: 'a' }))).toEqual(['a']);
    expect(blacklistedTokenIds(oldAppJwt({ jti: 'b', tokenId: 'c' }))).toEqual(['b', 'c']);
    expect(blacklistedTokenIds(oldAppJwt({ id: 7 }))).toEqual([]);
    expect(blacklistedTokenIds('aaa.!!!.ccc')).toEqual(['aaa.!!!.ccc']);
    expect(blacklistedTokenIds(`x.${Buffer.from('not json').toString('base64url')}.y`)).toEqual([]);
    expect(blacklistedTokenIds('')).toEqual([]);
  });
});

describe('duplicate emails', () => {
  it('finds the keys more than one source user has, in any case, spacing or Unicode composition', async () => {
    const pages = [
      ['ann@example.com', ' Ann@Example.com', 'bob@example.com', null],
      ['caf\u00e9@example.com', 'cafe\u0301@example.com', 'dan@example.com'],
    ];
    const passes = async function* () {
      yield* pages;
    };
    expect(await duplicateEmailKeys(passes)).toEqual(new Set(['ann@example.com', 'caf\u00e9@example.com']));
    expect(
      await duplicateEmailKeys(async function* () {
        yield ['one@example.com', 'two@example.com'];
      }),
    ).toEqual(new Set());
  });
});
