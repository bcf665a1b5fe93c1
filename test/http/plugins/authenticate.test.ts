import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { CompactSign, exportJWK, generateKeyPair, type JWK, type JWTHeaderParameters } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/core/errors.js';
import { createGatehouse } from '../../../src/gatehouse.js';
import { openStore } from '../../../src/storage/kysely/kysely-store.js';
import { bearer, expectProblem, registerUser, signIn, startTestGatehouse, USER_AGENTS, type SignedIn, type TestGatehouse } from '../../helpers/app.js';
import { HTTP_DATABASES } from '../../helpers/databases.js';

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const decode = (part: string | undefined) => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/** Header, claims and signature of a compact JWS, to forge variants of a genuine token. */
function split(token: string) {
  const [header, payload, signature] = token.split('.');
  return { header: decode(header), claims: decode(payload), rawHeader: header as string, rawPayload: payload as string, signature: signature as string };
}

function signWith(key: Parameters<CompactSign['sign']>[0], header: JWTHeaderParameters, claims: Record<string, unknown>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(key);
}

/** A 401 that tells the client this token cannot be used (RFC 6750 §3.1). */
function expectUnusableToken(response: LightMyRequestResponse, code: ErrorCode = 'token_invalid'): void {
  expectProblem(response, 401, code);
  expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
}

/** A 401 that only names the scheme: no token was sent. */
function expectNoToken(response: LightMyRequestResponse): void {
  expectProblem(response, 401, 'token_missing');
  expect(response.headers['www-authenticate']).toBe('Bearer');
}

describe('the Bearer check in front of GET /v1/me', () => {
  let t: TestGatehouse;
  let jwk: JWK;
  let jwksText: string;
  let user: { id: string };
  let otherUser: { id: string };
  let address = 0;
  /** A new session of Ann's, from its own address so it replaces no other. */
  const freshSignIn = (): Promise<SignedIn> => signIn(t.app, 'ann@example.com', { ip: `198.51.100.${++address}` });
  const me = (authorization?: string, url = '/v1/me') => t.app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });

  /**
   * A token signed with the server's own private key, as only Gatehouse could make it: each
   * test changes one header field or claim, so the refusal is for that reason and no other.
   */
  async function mint(change: { header?: Partial<JWTHeaderParameters>; claims?: Record<string, unknown>; drop?: string[] } = {}) {
    const { session } = await freshSignIn();
    const iat = Math.floor(t.clock.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: t.config.issuer,
      aud: t.config.audience,
      sub: user.id,
      sid: session.id,
      jti: 'minted-by-the-test',
      iat,
      exp: iat + 600,
      auth_time: iat,
      ...change.claims,
    };
    for (const name of change.drop ?? []) delete claims[name];
    const { kid, key } = t.gatehouse.keys.signingKey();
    return signWith(key, { alg: 'EdDSA', typ: 'at+jwt', kid, ...change.header } as JWTHeaderParameters, claims);
  }

  beforeAll(async () => {
    t = await startTestGatehouse('sqlite');
    user = await registerUser(t.app, 'ann@example.com');
    otherUser = await registerUser(t.app, 'bob@example.com');
    const jwks = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    jwksText = jwks.body;
    jwk = jwks.json().keys[0];
  });
  afterAll(() => t.close());

  describe('lets in', () => {
    it('a token from sign-in', async () => {
      const { access_token: token } = await freshSignIn();
      const response = await me(`Bearer ${token}`);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().user.id).toBe(user.id);
    });

    it.each(['bearer', 'BEARER', 'BeArEr'])('the scheme written %s', async (scheme) => {
      const { access_token: token } = await freshSignIn();
      expect((await me(`${scheme} ${token}`)).statusCode).toBe(200);
    });

    it('a token this test minted with the server’s key and all the right claims (the baseline for the forgeries below)', async () => {
      const response = await me(`Bearer ${await mint()}`);
      expect(response.statusCode, response.body).toBe(200);
    });
  });

  describe('refuses as token_missing, naming only the scheme,', () => {
    it('a request without an Authorization header', async () => {
      expectNoToken(await me());
    });

    it.each(['Basic YW5uQGV4YW1wbGUuY29tOnBhc3N3b3Jk', 'Digest username="ann"', 'Token abc'])('the header %j', async (header) => {
      expectNoToken(await me(header));
    });
  });

  describe('refuses as token_invalid', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('alg %j, with or without a signature', async (alg) => {
      const { access_token: token } = await freshSignIn();
      const { header, rawPayload, signature } = split(token);
      const unsigned = b64url({ ...header, alg });
      expectUnusableToken(await me(`Bearer ${unsigned}.${rawPayload}.`));
      expectUnusableToken(await me(`Bearer ${unsigned}.${rawPayload}.${signature}`));
    });

    it('HS256 with the server’s public key as the HMAC secret, however it is written', async () => {
      const { access_token: token } = await freshSignIn();
      const { header, claims } = split(token);
      const pem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
      const secrets = [Buffer.from(jwk.x as string, 'base64url'), jwk.x as string, JSON.stringify(jwk), jwksText, pem];
      for (const secret of secrets) {
        const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : new Uint8Array(secret);
        for (const alg of ['HS256', 'HS512']) {
          const forged = await signWith(bytes, { ...header, alg } as JWTHeaderParameters, claims);
          expectUnusableToken(await me(`Bearer ${forged}`));
        }
      }
    });

    it('a token another Ed25519 key signed under the server’s kid', async () => {
      const { access_token: token } = await freshSignIn();
      const { header, claims } = split(token);
      expect(header.kid).toBe(jwk.kid);
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      expectUnusableToken(await me(`Bearer ${await signWith(privateKey, header as JWTHeaderParameters, claims)}`));
    });

    it('a token carrying its own key in a jwk header', async () => {
      const { access_token: token } = await freshSignIn();
      const { header, claims } = split(token);
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const embedded = { ...(await exportJWK(publicKey)), kid: jwk.kid };
      for (const kid of [jwk.kid, undefined]) {
        const forged = await signWith(privateKey, { ...header, kid, jwk: embedded } as JWTHeaderParameters, claims);
        expectUnusableToken(await me(`Bearer ${forged}`));
      }
    });

    it.each(['a-key-gatehouse-never-had', '', '../../etc/passwd', '__proto__', 'constructor'])('a token whose kid is %j', async (kid) => {
      expectUnusableToken(await me(`Bearer ${await mint({ header: { kid } })}`));
    });

    it('a token without a kid, or with a kid that is not a string', async () => {
      expectUnusableToken(await me(`Bearer ${await mint({ header: { kid: undefined } })}`));
      expectUnusableToken(await me(`Bearer ${await mint({ header: { kid: { $ne: null } as unknown as string } })}`));
    });

    it('a token whose sub or sid was changed under the original signature', async () => {
      const { access_token: token } = await freshSignIn();
      const other = await signIn(t.app, 'bob@example.com', { ip: '192.0.2.50' });
      const { rawHeader, claims, signature } = split(token);
      for (const change of [{ sub: otherUser.id }, { sid: other.session.id }, { sub: otherUser.id, sid: other.session.id }]) {
        expectUnusableToken(await me(`Bearer ${rawHeader}.${b64url({ ...claims, ...change })}.${signature}`));
      }
      expect((await me(`Bearer ${token}`)).statusCode).toBe(200);
    });

    it('a token whose signature was changed', async () => {
      const { access_token: token } = await freshSignIn();
      const { rawHeader, rawPayload, signature } = split(token);
      const flipped = (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1);
      expectUnusableToken(await me(`Bearer ${rawHeader}.${rawPayload}.${flipped}`));
      expectUnusableToken(await me(`Bearer ${rawHeader}.${rawPayload}.${signature.slice(0, -4)}`));
      expectUnusableToken(await me(`Bearer ${rawHeader}.${rawPayload}`));
    });

    it('a token for another audience', async () => {
      expectUnusableToken(await me(`Bearer ${await mint({ claims: { aud: 'billing' } })}`));
      expectUnusableToken(await me(`Bearer ${await mint({ claims: { aud: ['billing'] } })}`));
    });

    it('a token from another issuer', async () => {
      expectUnusableToken(await me(`Bearer ${await mint({ claims: { iss: 'https://evil.example.com' } })}`));
      expectUnusableToken(await me(`Bearer ${await mint({ claims: { iss: `${t.config.issuer}/` } })}`));
    });

    it.each(['JWT', 'id+jwt', 'application/jwt', undefined])('a token with typ %j', async (typ) => {
      expectUnusableToken(await me(`Bearer ${await mint({ header: { typ } })}`));
    });

    it.each(['sid', 'auth_time', 'sub', 'exp', 'iat', 'jti'])('a token without the %s claim', async (claim) => {
      expectUnusableToken(await me(`Bearer ${await mint({ drop: [claim] })}`));
    });

    it('a token issued further in the future than the clock tolerance', async () => {
      const iat = Math.floor(t.clock.now() / 1000) + 3600;
      expectUnusableToken(await me(`Bearer ${await mint({ claims: { iat, exp: iat + 600, auth_time: iat } })}`));
    });

    it('a token of 10 kB', async () => {
      const { access_token: token } = await freshSignIn();
      const { rawHeader, signature } = split(token);
      expectUnusableToken(await me(`Bearer ${rawHeader}.${'A'.repeat(10 * 1024)}.${signature}`));
      expectUnusableToken(await me(`Bearer ${'A'.repeat(10 * 1024)}`));
    });

    it.each([
      'garbage',
      'a.b.c',
      '...',
      'e30.e30.',
      'e30.e30.e30',
      'W10.e30.AAAA',
      'bnVsbA.bnVsbA.bnVsbA',
      'eyJhbGciOiJFZERTQSJ9.e30=.AAAA==',
      'abc+/def==',
      'two tokens',
      '<script>alert(1)</script>',
      '"quoted"',
    ])('the garbage %j', async (garbage) => {
      expectUnusableToken(await me(`Bearer ${garbage}`));
    });

    it.each(['Bearer', 'Bearer ', 'Bearer    ', 'bearer'])('the scheme with nothing after it (%j)', async (header) => {
      expectUnusableToken(await me(header));
    });

    it('every forgery with the same answer, so none tells what it got wrong', async () => {
      const { access_token: token } = await freshSignIn();
      const { rawHeader, claims, signature } = split(token);
      const answers = await Promise.all([
        me('Bearer garbage'),
        me(`Bearer ${rawHeader}.${b64url({ ...claims, sub: otherUser.id })}.${signature}`),
        me(`Bearer ${await mint({ claims: { aud: 'billing' } })}`),
        me(`Bearer ${await mint({ header: { kid: 'unknown' } })}`),
        me(`Bearer ${await mint({ drop: ['sid'] })}`),
      ]);
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    });
  });

  describe('refuses an access token in the URL as token_invalid', () => {
    it('when it is the only credential', async () => {
      const { access_token: token } = await freshSignIn();
      expectUnusableToken(await me(undefined, `/v1/me?access_token=${token}`));
    });

    it('even next to a valid Authorization header', async () => {
      const { access_token: token } = await freshSignIn();
      expectUnusableToken(await me(`Bearer ${token}`, `/v1/me?access_token=${token}`));
      expectUnusableToken(await me(`Bearer ${token}`, '/v1/me?access_token='));
      expect((await me(`Bearer ${token}`)).statusCode).toBe(200);
    });
  });

  it('does not sign out with a token given only in the URL', async () => {
    const { access_token: token } = await freshSignIn();
    const logout = await t.app.inject({ method: 'POST', url: `/v1/auth/logout?access_token=${token}` });
    expect(logout.statusCode).toBe(401);
    expect((await me(`Bearer ${token}`)).statusCode).toBe(200);
  });

  // Last in this block: it moves the shared clock 10 minutes on.
  describe('expiry', () => {
    it('lets a token in up to exp plus the clock tolerance, then answers token_expired', async () => {
      const { access_token: token } = await freshSignIn();
      t.clock.advance(604);
      expect((await me(`Bearer ${token}`)).statusCode).toBe(200);
      t.clock.advance(1);
      expectUnusableToken(await me(`Bearer ${token}`), 'token_expired');
    });

    it('answers token_invalid, not token_expired, for an expired forgery', async () => {
      const { access_token: token } = await freshSignIn();
      const { header, claims } = split(token);
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const forged = await signWith(privateKey, header as JWTHeaderParameters, claims);
      t.clock.advance(3600);
      expectUnusableToken(await me(`Bearer ${forged}`));
      expectUnusableToken(await me(`Bearer ${token}`), 'token_expired');
    });
  });
});

describe.each(HTTP_DATABASES)('a signed-out session on %s', (kind) => {
  let t: TestGatehouse;
  let address = 0;
  beforeAll(async () => {
    t = await startTestGatehouse(kind);
    await registerUser(t.app, 'carol@example.com');
  });
  afterAll(() => t.close());

  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
  const signInOn = (userAgent: string) => signIn(t.app, 'carol@example.com', { userAgent, ip: `198.51.100.${++address}` });

  it('is refused with session_revoked on the very next request after another of its sessions ends it', async () => {
    const laptop = await signInOn(USER_AGENTS.firefoxUbuntu);
    const phone = await signInOn(USER_AGENTS.safariIphone);
    expect((await me(laptop.access_token)).statusCode).toBe(200);

    const revoke = await t.app.inject({ method: 'DELETE', url: `/v1/me/sessions/${laptop.session.id}`, headers: bearer(phone.access_token) });
    expect(revoke.statusCode, revoke.body).toBe(204);

    expectUnusableToken(await me(laptop.access_token), 'session_revoked');
    expect((await me(phone.access_token)).statusCode).toBe(200);
  });

  it('is refused with session_revoked on the very next request after it signs itself out', async () => {
    const laptop = await signInOn(USER_AGENTS.firefoxUbuntu);
    const phone = await signInOn(USER_AGENTS.safariIphone);
    expect((await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(laptop.access_token) })).statusCode).toBe(204);
    expectUnusableToken(await me(laptop.access_token), 'session_revoked');
    expect((await me(phone.access_token)).statusCode).toBe(200);
  });

  it('is refused with session_revoked by a node started afterwards on the same database', async () => {
    const laptop = await signInOn(USER_AGENTS.firefoxUbuntu);
    const phone = await signInOn(USER_AGENTS.safariIphone);
    expect((await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(laptop.access_token) })).statusCode).toBe(204);
    t.clock.advance(60);

    const second = await createGatehouse(t.config, { clock: t.clock, store: await openStore(t.config.database), logger: false });
    try {
      const at = (token: string) => second.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
      // The new node verifies the first node's tokens (same keys), so the refusal is the revocation's.
      expect((await at(phone.access_token)).statusCode).toBe(200);
      expectUnusableToken(await at(laptop.access_token), 'session_revoked');
    } finally {
      await second.close();
    }
  });

  it('stays refused by a node started later with a shorter access-token lifetime', async () => {
    // Tokens minted while the lifetime was an hour; the operator then lowers it to 10 minutes.
    const hourly = await startTestGatehouse(kind, { accessTokenTtlSeconds: 3600 });
    try {
      await registerUser(hourly.app, 'dora@example.com');
      const laptop = await signIn(hourly.app, 'dora@example.com');
      const logout = await hourly.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(laptop.access_token) });
      expect(logout.statusCode).toBe(204);
      hourly.clock.advance(700);

      const config = { ...hourly.config, accessTokenTtlSeconds: 600 };
      const restarted = await createGatehouse(config, { clock: hourly.clock, store: await openStore(config.database), logger: false });
      try {
        const response = await restarted.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(laptop.access_token) });
        expect(response.statusCode, 'a signed-out session’s token works again').toBe(401);
      } finally {
        await restarted.close();
      }
    } finally {
      await hourly.close();
    }
  });
});
