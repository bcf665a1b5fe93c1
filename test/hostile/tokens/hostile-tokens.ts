import { createPublicKey, randomBytes } from 'node:crypto';
import type { Attackers, Jwk } from './attackers.js';
import {
  b64u,
  bitFlips,
  compact,
  decodeJson,
  ecdsa,
  eddsa,
  hmac,
  isHighS,
  malleateEcdsaP256,
  malleateEd25519,
  nonCanonicalSpellings,
  partsOf,
  rsa,
  unsigned,
  type Signer,
} from './forge.js';

/** What the catalogue is built from: one Gatehouse, one genuine token of a live session, the attacker's keys and trap. */
export interface Target {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** GATEHOUSE_CLOCK_TOLERANCE: the leeway on `exp`, `nbf` and `iat`. */
  toleranceSeconds: number;
  /** The instant both Gatehouse and the verifier judge by, epoch seconds (a controlled clock). */
  now: number;
  /** Gatehouse's signing key: its kid, a signer with its private key, and its public JWK as published. */
  kid: string;
  sign: Signer;
  publicJwk: Jwk;
  /** A genuine access token, issued at `now` by signing in. */
  validToken: string;
  /** The refresh token of the same sign-in. */
  refreshToken: string;
  attackers: Attackers;
  /** The local listener's base URL: whatever a token points at there must never be fetched. */
  trapUrl: string;
}

export type RefusalCode = 'token_invalid' | 'token_expired';

export interface HostileToken {
  group: string;
  name: string;
  token: string;
  /** The error both Gatehouse and gatehouse/verify must answer (401 either way). */
  code: RefusalCode;
}

export interface Control {
  name: string;
  token: string;
}

/** The 16 spellings of a word with each letter in either case. */
function capitalisations(word: string): string[] {
  let spellings = [''];
  for (const letter of word) spellings = spellings.flatMap((start) => [...new Set([start + letter.toLowerCase(), start + letter.toUpperCase()])]);
  return spellings;
}

function omit(object: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([name]) => !names.includes(name)));
}

/** A token's JSON text with one member added at the start or the end (JSON.stringify would keep only one). */
function withDuplicate(jsonText: string, member: string, value: unknown, where: 'first' | 'last'): string {
  const added = `${JSON.stringify(member)}:${JSON.stringify(value)}`;
  return where === 'first' ? `{${added},${jsonText.slice(1)}` : `${jsonText.slice(0, -1)},${added}}`;
}

/** Whether a token can travel in an HTTP header at all (clients refuse to send control or non-ASCII characters). */
export function headerSafe(token: string): boolean {
  return /^[\x20-\x7e]*$/.test(token);
}

/**
 * Tokens with Gatehouse's key on the last accepted second of each leeway (their hostile twins,
 * one second further, are in the catalogue).
 */
export function clockControls(t: Target): Record<'expInside' | 'nbfAtLeeway' | 'iatFutureAtLeeway' | 'iatOldAtLeeway', Control> {
  const g = genuine(t);
  const { now, ttlSeconds: ttl, toleranceSeconds: leeway } = t;
  return {
    expInside: {
      name: '`exp` one second inside the leeway',
      token: g.token({}, { iat: now - leeway + 1 - ttl, auth_time: now - leeway + 1 - ttl, exp: now - leeway + 1 }),
    },
    nbfAtLeeway: { name: '`nbf` exactly at the leeway', token: g.token({}, { nbf: now + leeway }) },
    iatFutureAtLeeway: {
      name: '`iat` in the future, exactly at the leeway',
      token: g.token({}, { iat: now + leeway, auth_time: now + leeway, exp: now + leeway + ttl }),
    },
    iatOldAtLeeway: {
      name: '`iat` as old as the lifetime plus the leeway',
      token: g.token({}, { iat: now - ttl - leeway, auth_time: now - ttl - leeway, exp: now + 3600 }),
    },
  };
}

/**
 * The clock controls, accepted (and so cached) first, then sent once more with the clock moved
 * `offsetSeconds` the wrong way: the cached path must hold each line as the first check did.
 * (`nbf` is not re-checked for a cached token: Gatehouse never sets it. See docs/reliability.md.)
 */
export function cachedClockCases(clocks: ReturnType<typeof clockControls>): Array<HostileToken & { offsetSeconds: number }> {
  return [
    { group: 'clock', name: 'exp, one second later', token: clocks.expInside.token, code: 'token_expired', offsetSeconds: 1 },
    { group: 'clock', name: 'iat age, one second later', token: clocks.iatOldAtLeeway.token, code: 'token_expired', offsetSeconds: 1 },
    { group: 'clock', name: 'future iat, one second earlier', token: clocks.iatFutureAtLeeway.token, code: 'token_invalid', offsetSeconds: -1 },
  ];
}

/**
 * Tokens a correct verifier accepts: they prove the forge makes tokens Gatehouse would take, so
 * each refusal in the catalogue is due to the one thing its case changed.
 */
export function controls(t: Target): Control[] {
  return [
    { name: 'the genuine token from sign-in', token: t.validToken },
    { name: "a token made by the forge with Gatehouse's key and the right claims", token: genuine(t).token() },
    ...Object.values(clockControls(t)),
  ];
}

/** Tokens signed with Gatehouse's own key (what only Gatehouse can make), with the claims a genuine one has. */
function genuine(t: Target) {
  const original = decodeJson(partsOf(t.validToken)[1]);
  const header = (change: Record<string, unknown> = {}) => ({ alg: 'EdDSA', typ: 'at+jwt', kid: t.kid, ...change });
  const claims = (change: Record<string, unknown> = {}) => ({
    ...omit(original, 'jti'),
    jti: b64u(randomBytes(16)),
    iat: t.now,
    auth_time: t.now,
    exp: t.now + t.ttlSeconds,
    ...change,
  });
  return {
    header,
    claims,
    token: (headerChange: Record<string, unknown> = {}, claimsChange: Record<string, unknown> = {}) =>
      compact(header(headerChange), claims(claimsChange), t.sign),
  };
}

/** Every hostile token of the suite but the bit flips (see `bitFlipTokens`). */
export function hostileTokens(t: Target): HostileToken[] {
  const list: HostileToken[] = [];
  const add = (group: string, name: string, token: string, code: RefusalCode = 'token_invalid') => list.push({ group, name, token, code });
  const g = genuine(t);
  const [validHeader, validPayload, validSignature] = partsOf(t.validToken);
  const validPayloadJson = Buffer.from(validPayload, 'base64url').toString('utf8');
  const { attackers: a, now, ttlSeconds: ttl, toleranceSeconds: leeway } = t;

  // alg none: unsigned, and with the genuine signature left on.
  for (const none of capitalisations('none')) {
    add('alg none', `alg "${none}", no signature`, compact(g.header({ alg: none }), g.claims(), unsigned));
    add('alg none', `alg "${none}", the genuine token's signature kept`, `${b64u(JSON.stringify(g.header({ alg: none })))}.${validPayload}.${validSignature}`);
  }
  add('alg none', 'no alg at all, no signature', compact(omit(g.header(), 'alg'), g.claims(), unsigned));

  // HMAC keyed with Gatehouse's public key, as a verifier that takes the key type from the token would compute it.
  const publicKey = createPublicKey({ key: t.publicJwk as never, format: 'jwk' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const jwkJson = JSON.stringify(t.publicJwk);
  const secrets: [string, string | Buffer][] = [
    ['PEM', pem],
    ['PEM without its final newline', pem.trimEnd()],
    ['PEM after a newline', `\n${pem}`],
    ['PEM after a space', ` ${pem}`],
    ['DER (SPKI)', der],
    ['the raw 32-byte key', Buffer.from(t.publicJwk.x as string, 'base64url')],
    ['its base64url `x`', t.publicJwk.x as string],
    ['JWK JSON as published', jwkJson],
    ['JWK JSON after a newline', `\n${jwkJson}`],
    ['JWK JSON after a space', ` ${jwkJson}`],
    ['JWK JSON, pretty-printed', JSON.stringify(t.publicJwk, null, 2)],
    ['JWK JSON, thumbprint members only', JSON.stringify({ crv: t.publicJwk.crv, kty: t.publicJwk.kty, x: t.publicJwk.x })],
    ['the whole JWKS JSON', JSON.stringify({ keys: [t.publicJwk] })],
  ];
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    for (const [name, secret] of secrets)
      add('HMAC with the public key', `${alg} keyed with ${name}`, compact(g.header({ alg }), g.claims(), hmac(alg, secret)));
  }

  // Keys the token brings with it, or points at (the trap must see no connection).
  const ed = eddsa(a.ed25519.privateKey);
  const publicOf = (jwk: Jwk) => omit(jwk, 'd') as Jwk;
  const trapJwks = `${t.trapUrl}/jwks.json`;
  add('keys in the header', "`jwk`: the attacker's Ed25519 key, under Gatehouse's kid", compact(g.header({ jwk: publicOf(a.ed25519.jwk) }), g.claims(), ed));
  add(
    'keys in the header',
    "`jwk`: the attacker's Ed25519 key, under its own kid",
    compact(g.header({ jwk: publicOf(a.ed25519.jwk), kid: a.ed25519.jwk.kid }), g.claims(), ed),
  );
  add('keys in the header', "`jwk`: the attacker's key, no kid", compact(omit(g.header({ jwk: publicOf(a.ed25519.jwk) }), 'kid'), g.claims(), ed));
  add(
    'keys in the header',
    '`jwk`: an oct key, HS256',
    compact(g.header({ alg: 'HS256', jwk: { kty: 'oct', k: b64u('attacker') } }), g.claims(), hmac('HS256', 'attacker')),
  );
  add(
    'keys in the header',
    "`jwk`: the attacker's P-256 key, ES256",
    compact(g.header({ alg: 'ES256', jwk: publicOf(a.p256.jwk) }), g.claims(), ecdsa(a.p256.privateKey)),
  );
  add('keys in the header', '`jku` at the trap, attacker kid', compact(g.header({ jku: trapJwks, kid: a.ed25519.jwk.kid }), g.claims(), ed));
  add('keys in the header', "`jku` at the trap, Gatehouse's kid", compact(g.header({ jku: trapJwks }), g.claims(), ed));
  add(
    'keys in the header',
    '`jku` at the trap, an unknown kid',
    compact(g.header({ jku: `${t.trapUrl}/.well-known/jwks.json`, kid: 'rotated-in-just-now' }), g.claims(), ed),
  );
  add(
    'keys in the header',
    '`x5u` at the trap',
    compact(g.header({ x5u: `${t.trapUrl}/attacker.pem`, kid: a.certificate.jwk.kid }), g.claims(), eddsa(a.certificate.privateKey)),
  );
  add(
    'keys in the header',
    "`x5u` at the trap, Gatehouse's kid",
    compact(g.header({ x5u: `${t.trapUrl}/attacker.pem` }), g.claims(), eddsa(a.certificate.privateKey)),
  );
  add(
    'keys in the header',
    "`x5c`: the attacker's certificate",
    compact(omit(g.header({ x5c: [a.certificate.der.toString('base64')] }), 'kid'), g.claims(), eddsa(a.certificate.privateKey)),
  );
  add(
    'keys in the header',
    "`x5c`: the attacker's certificate, Gatehouse's kid",
    compact(g.header({ x5c: [a.certificate.der.toString('base64')] }), g.claims(), eddsa(a.certificate.privateKey)),
  );
  add(
    'keys in the header',
    "`x5t#S256` of the attacker's certificate",
    compact(g.header({ 'x5t#S256': b64u(Buffer.from(a.certificate.der)) }), g.claims(), eddsa(a.certificate.privateKey)),
  );
  add(
    'keys in the header',
    '`jwk`, `jku`, `x5u` and `x5c` together',
    compact(
      g.header({ jwk: publicOf(a.ed25519.jwk), jku: trapJwks, x5u: `${t.trapUrl}/attacker.pem`, x5c: [a.certificate.der.toString('base64')] }),
      g.claims(),
      ed,
    ),
  );

  // kid: traversal and SQL (with the attacker's key, and with HMAC under an empty key, as a kid
  // of /dev/null would give a verifier that reads key files), oversized, unknown, not a string.
  const kids: [string, unknown][] = [
    ['path traversal to /dev/null', '../../../../../../../../dev/null'],
    ['an absolute path', '/dev/null'],
    ['path traversal to /etc/passwd', '../../../../etc/passwd'],
    ['URL-encoded traversal', '..%2f..%2f..%2fetc%2fpasswd'],
    ['doubled-dot traversal', '....//....//....//dev/null'],
    ['Windows traversal', '..\\..\\..\\windows\\win.ini'],
    ["traversal from Gatehouse's kid", `${t.kid}/../../../dev/null`],
    ['SQL: OR true', "' OR '1'='1"],
    ['SQL: UNION SELECT', "x' UNION SELECT 'AAAA','AAAA','AAAA' --"],
    ["SQL after Gatehouse's kid", `${t.kid}' --`],
    ['SQL: DROP TABLE', "x'; DROP TABLE signing_keys; --"],
    ['SQL: double quotes', '" OR ""="'],
    ['unknown, shaped like a thumbprint', b64u(randomBytes(32))],
    ["Gatehouse's kid with one character changed", t.kid.slice(0, -1) + (t.kid.endsWith('A') ? 'B' : 'A')],
    ["Gatehouse's kid in upper case", t.kid.toUpperCase()],
    ["Gatehouse's kid with a trailing space", `${t.kid} `],
    ['empty', ''],
    ['a number', 1],
    ['null', null],
    ['a list', [t.kid]],
    ['an object', { kid: t.kid }],
    ['10 kB', 'k'.repeat(10 * 1024)],
  ];
  for (const [name, kid] of kids) {
    add('kid', `kid ${name}, signed by the attacker`, compact(g.header({ kid }), g.claims(), ed));
    add('kid', `kid ${name}, HS256 under an empty key`, compact(g.header({ alg: 'HS256', kid }), g.claims(), hmac('HS256', '')));
  }
  add('kid', 'no kid, signed by Gatehouse', compact(omit(g.header(), 'kid'), g.claims(), t.sign));

  // crit: signed by Gatehouse itself, so only the crit rule (RFC 7515 §4.1.11) can refuse them.
  add('crit', 'crit names an unknown extension', g.token({ crit: ['x-gatehouse-unknown'], 'x-gatehouse-unknown': true }));
  add('crit', 'crit names an extension absent from the header', g.token({ crit: ['x-missing'] }));
  add('crit', 'crit names `exp`', g.token({ crit: ['exp'], exp: now + ttl }));
  add('crit', 'crit names `alg`', g.token({ crit: ['alg'] }));
  add('crit', 'crit is empty', g.token({ crit: [] }));
  add('crit', 'crit is a string', g.token({ crit: 'x-gatehouse-unknown', 'x-gatehouse-unknown': true }));
  add('crit', 'crit holds a number', g.token({ crit: [1] }));
  add('crit', 'crit names one extension twice', g.token({ crit: ['x-a', 'x-a'], 'x-a': 1 }));
  {
    // RFC 7797 unencoded payload: the signing input holds the payload's JSON as is.
    const header = b64u(JSON.stringify(g.header({ b64: false, crit: ['b64'] })));
    const payload = JSON.stringify(g.claims());
    add('crit', 'crit b64 with an unencoded payload (RFC 7797)', `${header}.${payload}.${b64u(t.sign(`${header}.${payload}`))}`);
  }

  // JWS JSON serialisation of the genuine token, instead of compact.
  add('JSON serialisation', 'flattened JSON', JSON.stringify({ protected: validHeader, payload: validPayload, signature: validSignature }));
  add('JSON serialisation', 'general JSON', JSON.stringify({ payload: validPayload, signatures: [{ protected: validHeader, signature: validSignature }] }));
  add(
    'JSON serialisation',
    'flattened JSON, base64url-encoded',
    b64u(JSON.stringify({ protected: validHeader, payload: validPayload, signature: validSignature })),
  );
  add(
    'JSON serialisation',
    'flattened JSON with `alg: none` in the unprotected header',
    JSON.stringify({ header: { alg: 'none', kid: t.kid }, payload: validPayload, signature: '' }),
  );

  // Duplicate members: the genuine signature over a payload with another `sub` added (a parser
  // that keeps the first or the last would differ), and header duplicates that smuggle an alg.
  const signatureOf = (jsonHeader: string, jsonPayload: string) => `${b64u(jsonHeader)}.${b64u(jsonPayload)}.${validSignature}`;
  const headerJson = Buffer.from(validHeader, 'base64url').toString('utf8');
  for (const where of ['first', 'last'] as const) {
    add(
      'duplicate members',
      `a second \`sub\` (${where}), genuine signature`,
      signatureOf(headerJson, withDuplicate(validPayloadJson, 'sub', 'someone-else', where)),
    );
    add(
      'duplicate members',
      `a second \`exp\` far ahead (${where}), genuine signature`,
      signatureOf(headerJson, withDuplicate(validPayloadJson, 'exp', now + 10 * 365 * 86_400, where)),
    );
    add(
      'duplicate members',
      `a second \`alg: none\` in the header (${where}), no signature`,
      `${b64u(withDuplicate(headerJson, 'alg', 'none', where))}.${validPayload}.`,
    );
    add(
      'duplicate members',
      `a second \`kid\` of the attacker (${where}), signed by the attacker`,
      compact(withDuplicate(JSON.stringify(g.header()), 'kid', a.ed25519.jwk.kid, where), g.claims(), ed),
    );
  }
  add(
    'duplicate members',
    'a second `iss` of another issuer last, signed by Gatehouse',
    compact(g.header(), withDuplicate(JSON.stringify(g.claims()), 'iss', 'https://evil.example', 'last'), t.sign),
  );
  add(
    'duplicate members',
    'a second `typ` of another type last, signed by Gatehouse',
    compact(withDuplicate(JSON.stringify(g.header()), 'typ', 'JWT', 'last'), g.claims(), t.sign),
  );

  // Another kind of token presented as an access token.
  add('typ', 'the refresh token of the same sign-in', t.refreshToken);
  add('typ', 'no typ', compact(omit(g.header(), 'typ'), g.claims(), t.sign));
  for (const typ of [
    'JWT',
    'jwt',
    'refresh+jwt',
    'rt+jwt',
    'id_token+jwt',
    'logout+jwt',
    'secevent+jwt',
    'dpop+jwt',
    'application/jwt',
    'at+jwt ',
    'at+jw',
    'at+jwt+jwt',
    '',
    'at+JWT; charset=utf-8',
  ]) {
    add('typ', `typ "${typ}"`, g.token({ typ }));
  }
  for (const typ of [['at+jwt'], 1, null, { typ: 'at+jwt' }]) add('typ', `typ ${JSON.stringify(typ)}`, g.token({ typ }));
  add('typ', 'an ID-token-shaped JWT (typ JWT, nonce, azp)', g.token({ typ: 'JWT' }, { nonce: 'n-0S6_WzA2Mj', azp: 'client' }));
  add('typ', 'a refresh-token-shaped JWT', g.token({ typ: 'JWT' }, { token_use: 'refresh', exp: now + 30 * 86_400 }));
  add('typ', 'a nested JWT (cty JWT) around a genuine token', compact(g.header({ cty: 'JWT' }), t.validToken, t.sign));

  // Lifetimes one second past each leeway with Gatehouse's key (their controls sit on the last accepted second).
  add('clock', '`exp` exactly at the leeway', g.token({}, { iat: now - leeway - ttl, auth_time: now - leeway - ttl, exp: now - leeway }), 'token_expired');
  add(
    'clock',
    '`exp` one second past the leeway',
    g.token({}, { iat: now - leeway - 1 - ttl, auth_time: now - leeway - 1 - ttl, exp: now - leeway - 1 }),
    'token_expired',
  );
  add('clock', '`nbf` one second past the leeway', g.token({}, { nbf: now + leeway + 1 }));
  add('clock', '`nbf` a year ahead', g.token({}, { nbf: now + 365 * 86_400 }));
  add(
    'clock',
    '`iat` in the future, one second past the leeway',
    g.token({}, { iat: now + leeway + 1, auth_time: now + leeway + 1, exp: now + leeway + 1 + ttl }),
  );
  add(
    'clock',
    '`iat` older than the lifetime, one second past the leeway (a far `exp`)',
    g.token({}, { iat: now - ttl - leeway - 1, auth_time: now - ttl - leeway - 1, exp: now + 3600 }),
    'token_expired',
  );
  add('clock', 'no `exp`', g.token({}, { exp: undefined }));
  add('clock', 'no `iat`', g.token({}, { iat: undefined }));
  add('clock', '`exp` as a string', g.token({}, { exp: String(now + ttl) }));
  add('clock', '`iat` as a string', g.token({}, { iat: String(now) }));
  add(
    'clock',
    '`exp` in milliseconds, long expired `iat`',
    g.token({}, { iat: now - 86_400, auth_time: now - 86_400, exp: (now + ttl) * 1000 }),
    'token_expired',
  );
  add('clock', '`auth_time` after `iat`', g.token({}, { auth_time: now + 1 }));

  // Issuer and audience, with Gatehouse's key.
  for (const [name, iss] of [
    ['missing', undefined],
    ['another issuer', 'https://evil.example'],
    ['with a trailing slash', `${t.issuer}/`],
    ['in upper case', t.issuer.toUpperCase()],
    ['as a list', [t.issuer]],
    ['null', null],
    ['empty', ''],
  ] as const) {
    add('iss and aud', `iss ${name}`, g.token({}, { iss }));
  }
  for (const [name, aud] of [
    ['missing', undefined],
    ['another audience', 'another-api'],
    ['a list of another audience', ['another-api']],
    ['a list of two other audiences', ['another-api', 'yet-another-api']],
    ['an empty list', []],
    ['a nested list', [[t.audience]]],
    ['in upper case', t.audience.toUpperCase()],
    ['in a list, in upper case', [t.audience.toUpperCase()]],
    ['with a trailing space', `${t.audience} `],
    ['null', null],
    ['an object', { aud: t.audience }],
  ] as const) {
    add('iss and aud', `aud ${name}`, g.token({}, { aud }));
  }
  for (const claim of ['sub', 'sid', 'jti', 'auth_time']) add('iss and aud', `no \`${claim}\``, g.token({}, { [claim]: undefined }));
  add('iss and aud', '`sid` a number', g.token({}, { sid: 42 }));

  // Encodings of the genuine token: truncated, padded, other alphabets, other shapes, too long.
  const valid = t.validToken;
  for (const cut of [1, 2, 3, 4, 43]) add('encoding', `the last ${cut} characters cut`, valid.slice(0, -cut));
  add('encoding', 'cut in half', valid.slice(0, valid.length >> 1));
  add('encoding', 'no signature (header.payload.)', `${validHeader}.${validPayload}.`);
  add('encoding', 'two parts (header.payload)', `${validHeader}.${validPayload}`);
  add('encoding', 'the header alone', validHeader);
  add('encoding', 'no header (.payload.signature)', `.${validPayload}.${validSignature}`);
  add('encoding', 'no payload (header..signature)', `${validHeader}..${validSignature}`);
  add('encoding', 'two dots', '..');
  add('encoding', 'a trailing dot', `${valid}.`);
  add('encoding', 'a leading dot', `.${valid}`);
  add('encoding', 'four parts', `${valid}.${validSignature}`);
  add('encoding', 'five parts (JWE-shaped)', `${validHeader}.${validPayload}.${validSignature}.${validPayload}.${validSignature}`);
  for (const padding of ['=', '==', '===', '====']) add('encoding', `the signature padded with "${padding}"`, `${valid}${padding}`);
  add('encoding', 'the header padded', `${validHeader}==.${validPayload}.${validSignature}`);
  add('encoding', 'the payload padded', `${validHeader}.${validPayload}=.${validSignature}`);
  for (const spelling of nonCanonicalSpellings(validSignature)) {
    add('encoding', `the signature's last character "${spelling.at(-1)}" (same bytes, unused bits set)`, `${validHeader}.${validPayload}.${spelling}`);
  }
  const signatureBytes = Buffer.from(validSignature, 'base64url');
  add('encoding', 'the signature in standard base64 (+ / =)', `${validHeader}.${validPayload}.${signatureBytes.toString('base64')}`);
  // Only when the token has a - or _ to swap: about one genuine token in 15 has none (its header
  // and payload are ASCII JSON, which rarely encodes to them), and would be sent unchanged.
  const standardAlphabet = valid.replace(/-/g, '+').replace(/_/g, '/');
  if (standardAlphabet !== valid) add('encoding', 'the whole token in standard base64 alphabet', standardAlphabet);
  add('encoding', 'the header in standard base64, padded', `${Buffer.from(headerJson).toString('base64')}.${validPayload}.${validSignature}`);
  add('encoding', 'a "~" in the signature', `${valid.slice(0, -1)}~`);
  add('encoding', 'dots percent-encoded', valid.replace(/\./g, '%2E'));
  add('encoding', 'a space inside the signature', `${valid.slice(0, -10)} ${valid.slice(-10)}`);
  add('encoding', 'a tab inside the payload', `${validHeader}.${validPayload.slice(0, 8)}\t${validPayload.slice(8)}.${validSignature}`);
  add('encoding', 'a newline inside the signature', `${valid.slice(0, -10)}\n${valid.slice(-10)}`);
  add('encoding', 'a NUL byte after the token', `${valid}\0`);
  add('encoding', 'a non-ASCII letter in the signature', `${valid.slice(0, -1)}é`);
  add('encoding', 'in upper case', valid.toUpperCase());
  add('encoding', 'the signature of another genuine token', `${validHeader}.${validPayload}.${partsOf(g.token())[2]}`);
  add('encoding', '100 kB appended to the signature', `${valid}${'A'.repeat(100 * 1024)}`);
  add('encoding', 'a 100 kB payload, signed by the attacker', compact(g.header(), g.claims({ pad: 'x'.repeat(100 * 1024) }), ed));
  add('encoding', 'a 100 kB header, signed by Gatehouse', compact(g.header({ pad: 'x'.repeat(100 * 1024) }), g.claims(), t.sign));
  add('encoding', 'a 100 kB run of base64url', 'A'.repeat(100 * 1024));
  add('encoding', 'a 4 kB payload, just over the size limit, signed by Gatehouse', compact(g.header(), g.claims({ pad: 'x'.repeat(3 * 1024) }), t.sign));

  // Signature algorithms other than Gatehouse's EdDSA over Ed25519, with attacker keys under
  // Gatehouse's kid; and the genuine signature malleated or under other names of EdDSA.
  const es256 = compact(g.header({ alg: 'ES256' }), g.claims(), ecdsa(a.p256.privateKey));
  const [esHeader, esPayload, esSignature] = partsOf(es256);
  const malleated = malleateEcdsaP256(Buffer.from(esSignature, 'base64url'));
  add('algorithms', `ES256 by the attacker under Gatehouse's kid (${isHighS(Buffer.from(esSignature, 'base64url')) ? 'high' : 'low'}-S)`, es256);
  add('algorithms', `the same ES256 token malleated to (r, n − s) (${isHighS(malleated) ? 'high' : 'low'}-S)`, `${esHeader}.${esPayload}.${b64u(malleated)}`);
  add(
    'algorithms',
    "ES256 with the attacker's P-256 key under its own kid",
    compact(g.header({ alg: 'ES256', kid: a.p256.jwk.kid }), g.claims(), ecdsa(a.p256.privateKey)),
  );
  add('algorithms', 'ES384 by the attacker', compact(g.header({ alg: 'ES384' }), g.claims(), ecdsa(a.p256.privateKey, 'sha384')));
  add('algorithms', 'RS256 by the attacker', compact(g.header({ alg: 'RS256' }), g.claims(), rsa(a.rsa.privateKey, 'pkcs1')));
  add('algorithms', 'PS256 by the attacker', compact(g.header({ alg: 'PS256' }), g.claims(), rsa(a.rsa.privateKey, 'pss')));
  add('algorithms', "EdDSA by the attacker's Ed25519 key under Gatehouse's kid", compact(g.header(), g.claims(), ed));
  add('algorithms', "EdDSA by the attacker's Ed448 key under Gatehouse's kid", compact(g.header(), g.claims(), eddsa(a.ed448.privateKey)));
  add('algorithms', 'the genuine Ed25519 signature malleated to S + L', `${validHeader}.${validPayload}.${b64u(malleateEd25519(signatureBytes))}`);
  add('algorithms', 'a signature of 64 zero bytes', `${validHeader}.${validPayload}.${b64u(Buffer.alloc(64))}`);
  add('algorithms', 'a signature of 64 bytes of 0xff', `${validHeader}.${validPayload}.${b64u(Buffer.alloc(64, 0xff))}`);
  for (const alg of ['Ed25519', 'EDDSA', 'eddsa', 'EdDSA ', 'Ed448', 'ES256', 'HS256']) {
    add('algorithms', `alg "${alg}" over a genuine Ed25519 signature by Gatehouse`, g.token({ alg }));
  }

  return list;
}

/** Every bit of the decoded header, payload and signature of the genuine token, flipped one at a time. */
export function bitFlipTokens(validToken: string): HostileToken[] {
  return [...bitFlips(validToken)].map(({ part, bit, token }) => ({ group: 'bit flips', name: `${part} bit ${bit}`, token, code: 'token_invalid' as const }));
}
