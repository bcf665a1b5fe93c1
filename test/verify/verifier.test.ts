import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/core/errors.js';
import { createVerifier, type Verifier, type VerifierClock, type VerifierOptions } from '@gatehouse/verify';
import { AUDIENCE, FakeGatehouse, ISSUER, SERVICE_KEY } from './fake-gatehouse.js';

const fakes: FakeGatehouse[] = [];
const verifiers: Verifier[] = [];
afterEach(async () => {
  for (const verifier of verifiers.splice(0)) await verifier.close();
  for (const fake of fakes.splice(0)) await fake.close();
});

async function fakeGatehouse(): Promise<FakeGatehouse> {
  const fake = await FakeGatehouse.start();
  fakes.push(fake);
  return fake;
}

function verifierFor(fake: FakeGatehouse, options: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, serviceKey: SERVICE_KEY, jwksUrl: fake.jwksUrl, feedUrl: fake.feedUrl, ...options });
  verifiers.push(verifier);
  return verifier;
}

/** The error code a verification ends with, or 'accepted'. */
async function outcome(verification: Promise<unknown>): Promise<string> {
  try {
    await verification;
    return 'accepted';
  } catch (error) {
    if (error instanceof GatehouseError) return error.code;
    throw error;
  }
}

setFlagsFromString('--expose-gc');
/**
 * A full garbage collection. Node 20's fetch stops heeding its abort signal once its request
 * object is collected, which once left silent streams and close() without effect.
 */
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Both of a verifier's clocks, running as the real ones do, that a test moves forward at once:
 * "700 ms later" without waiting 700 ms.
 */
function movableClock(): VerifierClock & { advance(ms: number): void } {
  let shift = 0;
  return {
    now: () => Date.now() + shift,
    monotonic: () => performance.now() + shift,
    advance: (ms) => {
      shift += ms;
    },
  };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(20);
  }
}

describe('createVerifier', () => {
  const valid: VerifierOptions = { issuer: 'https://id.example.test', audience: 'api', serviceKey: SERVICE_KEY };

  it('refuses, at creation, options it cannot work with, with a TypeError that names the option', () => {
    const mistakes: [Partial<VerifierOptions> & Record<string, unknown>, RegExp][] = [
      [{ issuer: '' }, /issuer is required/],
      [{ audience: undefined }, /audience is required/],
      [{ serviceKey: 'short' }, /serviceKey must be one of GATEHOUSE_SERVICE_KEYS/],
      [{ serviceKey: `${SERVICE_KEY} with spaces` }, /serviceKey must be/],
      [{ feedURL: 'https://id.example.test/feed' }, /unknown option "feedURL"/],
      [{ jwksUrl: 'ftp://id.example.test/jwks' }, /jwksUrl must be an http\(s\) URL/],
      [{ issuer: 'urn:gatehouse' }, /jwksUrl is required when issuer is not an http\(s\) URL/],
      [{ maxStalenessSeconds: 0 }, /maxStalenessSeconds must be a number of seconds from 0.1 to 3600/],
      [{ clockToleranceSeconds: -1 }, /clockToleranceSeconds/],
      [{ jwksCooldownSeconds: 900 }, /jwksCooldownSeconds must not be longer than jwksMaxAgeSeconds/],
      [{ cacheSize: 1.5 }, /cacheSize must be a whole number/],
      [{ fetch: 'fetch' as unknown as typeof fetch }, /fetch must be a function/],
    ];
    for (const [change, message] of mistakes) {
      expect(() => createVerifier({ ...valid, ...change } as VerifierOptions)).toThrow(TypeError);
      expect(() => createVerifier({ ...valid, ...change } as VerifierOptions)).toThrow(message);
    }
  });

  it('finds the JWKS and the feed under the issuer unless told otherwise', async () => {
    const urls: string[] = [];
    const fetch = (async (url: string | URL | Request) => {
      urls.push(String(url));
      return new Response(null, { status: 503 });
    }) as typeof globalThis.fetch;
    const verifier = createVerifier({ ...valid, issuer: 'https://id.example.test/', fetch });
    await waitFor(() => urls.length >= 2);
    await verifier.close();
    expect(new Set(urls)).toEqual(new Set(['https://id.example.test/.well-known/jwks.json', 'https://id.example.test/v1/revocations']));
  });
});

describe('a verifier', () => {
  it('asks the feed for an event stream with its service key as a Bearer token', async () => {
    const fake = await fakeGatehouse();
    await verifierFor(fake).ready();
    expect(fake.feedRequests[0]).toEqual({ authorization: `Bearer ${SERVICE_KEY}`, accept: 'text/event-stream', lastEventId: undefined });
  });

  it('accepts a valid token of a live session once the snapshot has arrived, and returns its claims', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake);
    await verifier.ready();
    const claims = await verifier.verify(await fake.token({ sessionId: 'session-phone' }));
    expect(claims).toMatchObject({ userId: 'user-ann', sessionId: 'session-phone' });
    expect(verifier.status()).toMatchObject({ fresh: true, connected: true, revokedSessions: 0 });
  });

  it('answers unavailable, never accepts, before the first snapshot; a bad token still gets its 401 code', async () => {
    const fake = await fakeGatehouse();
    fake.feedStatus = 503;
    const verifier = verifierFor(fake);
    const token = await fake.token();
    expect(await outcome(verifier.verify(token))).toBe('unavailable');
    expect(await outcome(verifier.verify(token.slice(0, -4) + 'AAAA'))).toBe('token_invalid');
    expect(verifier.status()).toMatchObject({ fresh: false, stalenessMs: null, connected: false, lastError: 'the feed answered 503 unavailable' });
    fake.feedStatus = 200;
    await verifier.ready();
    expect(await outcome(verifier.verify(token))).toBe('accepted');
  });

  it('refuses a forged token, a token for another issuer, and an expired one', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake);
    await verifier.ready();
    const token = await fake.token();
    const [header, payload] = token.split('.');
    const otherSignature = (await fake.token({ sessionId: 'session-other' })).split('.')[2];
    expect(await outcome(verifier.verify(`${header}.${payload}.${otherSignature}`))).toBe('token_invalid');
    expect(await outcome(verifier.verify('not a token'))).toBe('token_invalid');
    expect(await outcome(verifier.verify(await fake.token({ issuer: 'https://evil.example' })))).toBe('token_invalid');
    expect(await outcome(verifier.verify(await fake.token({ at: Date.now() - 700_000 })))).toBe('token_expired');
  });

  it('checks exp by the clock it is given, as jose checks currentDate: a token it accepted is refused once that clock passes exp', async () => {
    const fake = await fakeGatehouse();
    fake.heartbeats(100);
    const clock = movableClock();
    const verifier = verifierFor(fake, { clock });
    await verifier.ready();
    const token = await fake.token();
    expect(await outcome(verifier.verify(token))).toBe('accepted');
    // Ten minutes and the five seconds of tolerance later (the feed's settings): the cached token too.
    clock.advance(605_000);
    expect(await outcome(verifier.verify(token))).toBe('token_expired');
  });

  it('refuses, at creation, a clock it cannot read, rather than fail every request later', () => {
    const options = { issuer: ISSUER, audience: AUDIENCE, serviceKey: SERVICE_KEY };
    expect(() => createVerifier({ ...options, clock: { now: Date.now, monotonic: performance.now } })).toThrow(/clock\.monotonic\(\) throws/);
    expect(() => createVerifier({ ...options, clock: { now: () => Number.NaN } })).toThrow(/clock\.now\(\) must return a number/);
  });

  it('refuses, at creation, a clock without now()', () => {
    expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, serviceKey: SERVICE_KEY, clock: {} as VerifierClock })).toThrow(
      /clock must be an object with a now\(\) function/,
    );
  });

  it("judges a token's age by the lifetime the feed states, not by the token's own exp", async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake);
    await verifier.ready();
    // Minted for an hour, 20 minutes ago: still before its exp, but older than Gatehouse's 10 minutes.
    expect(await outcome(verifier.verify(await fake.token({ ttlSeconds: 3600, at: Date.now() - 1_200_000 })))).toBe('token_expired');
  });

  it('refuses a session signed out before it connected, and one signed out while it listens, at once', async () => {
    const fake = await fakeGatehouse();
    fake.revoke('session-old');
    const verifier = verifierFor(fake);
    await verifier.ready();
    expect(await outcome(verifier.verify(await fake.token({ sessionId: 'session-old' })))).toBe('session_revoked');
    const laptop = await fake.token({ sessionId: 'session-laptop' });
    expect(await outcome(verifier.verify(laptop))).toBe('accepted');
    fake.revoke('session-laptop');
    await waitFor(async () => (await outcome(verifier.verify(laptop))) === 'session_revoked', 1000);
    expect(verifier.status().revokedSessions).toBe(2);
  });

  it('fails closed once the feed has been silent longer than the bound, and recovers by itself when it speaks again', async () => {
    const fake = await fakeGatehouse();
    fake.heartbeats(100);
    const clock = movableClock();
    const verifier = verifierFor(fake, { maxStalenessSeconds: 0.5, clock });
    await verifier.ready();
    const token = await fake.token();
    expect(await outcome(verifier.verify(token))).toBe('accepted');
    fake.heartbeats(0);
    // A heartbeat still on its way would confirm the view after the move: the stream is in
    // order, so once a later message is in, nothing is.
    fake.revoke('session-other');
    await waitFor(() => verifier.status().revokedSessions === 1, 1000);
    clock.advance(700);
    expect(await outcome(verifier.verify(token))).toBe('unavailable');
    expect(verifier.status().fresh).toBe(false);
    fake.heartbeats(100);
    await waitFor(async () => (await outcome(verifier.verify(token))) === 'accepted', 1000);
  });

  it("counts Gatehouse's own staleness: heartbeats from a server whose view is old do not make the view fresh", async () => {
    const fake = await fakeGatehouse();
    fake.heartbeats(100);
    const clock = movableClock();
    const verifier = verifierFor(fake, { maxStalenessSeconds: 0.5, clock });
    await verifier.ready();
    const token = await fake.token();
    fake.stalenessMs = 10_000;
    // Messages saying "10 s old" arrive, in order; once the last is in, none moved the confirmation on.
    fake.beat();
    fake.revoke('session-other');
    await waitFor(() => verifier.status().revokedSessions === 1, 1000);
    clock.advance(700);
    expect(await outcome(verifier.verify(token))).toBe('unavailable');
    expect(verifier.status().stalenessMs).toBeGreaterThan(500);
    fake.stalenessMs = 0;
    await waitFor(async () => (await outcome(verifier.verify(token))) === 'accepted', 1000);
  });

  it('reconnects after the stream drops, resumes from its last cursor with Last-Event-ID, and keeps what it knew', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake);
    await verifier.ready();
    fake.revoke('session-stolen');
    const stolen = await fake.token({ sessionId: 'session-stolen' });
    await waitFor(() => verifier.status().revokedSessions === 1, 1000);
    fake.dropStreams();
    await waitFor(() => fake.openStreams === 1);
    expect(fake.feedRequests).toHaveLength(2);
    expect(fake.feedRequests[1]?.lastEventId).toBe('101');
    // The resumed snapshot starts after the cursor, so this sign-out is known from before the drop.
    expect(await outcome(verifier.verify(stolen))).toBe('session_revoked');
  });

  it('reconnects when an open stream goes silent, as a half-open connection would, even after a garbage collection', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake, { maxStalenessSeconds: 1 });
    await verifier.ready();
    collectGarbage();
    await waitFor(() => fake.feedRequests.length === 2, 6000);
    expect(verifier.status().lastError).toBe('the feed sent nothing for 3000 ms');
  });

  it('drops a stream that sends a malformed batch and reconnects, rather than skip sign-outs', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake);
    await verifier.ready();
    fake.writeRaw('event: revocations\ndata: {"cursor":"1"}\n\n');
    await waitFor(() => fake.feedRequests.length === 2);
    expect(verifier.status().lastError).toBe('revocations is not a list');
  });

  it('forgets sign-outs older than the retention the feed states', async () => {
    const fake = await fakeGatehouse();
    fake.retentionSeconds = 60;
    fake.revoke('session-long-ago', Date.now() - 120_000);
    fake.revoke('session-recent');
    const verifier = verifierFor(fake);
    await verifier.ready();
    expect(verifier.status().revokedSessions).toBe(1);
  });

  it('rejects ready() when Gatehouse refuses the service key, and says why in status()', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake, { serviceKey: 'x'.repeat(40) });
    await expect(verifier.ready()).rejects.toThrow('the feed refused the service key (401 token_invalid)');
    expect(verifier.status().lastError).toBe('the feed refused the service key (401 token_invalid)');
  });

  it('fetches the JWKS again for an unknown kid, at most once per cooldown, so forged kids cannot flood Gatehouse', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake, { jwksCooldownSeconds: 1 });
    await verifier.ready();
    expect(await outcome(verifier.verify(await fake.token()))).toBe('accepted');
    expect(fake.jwksRequests).toHaveLength(1);
    await sleep(1100);
    const rotated = await fake.addKey();
    expect(await outcome(verifier.verify(await fake.token({ kid: rotated })))).toBe('accepted');
    expect(fake.jwksRequests).toHaveLength(2);

    const unknown = await fake.addKey();
    const forged = await fake.token({ kid: unknown });
    fake.retireKey(unknown);
    for (let i = 0; i < 20; i++) expect(await outcome(verifier.verify(forged))).toBe('token_invalid');
    expect(fake.jwksRequests).toHaveLength(2);
    await sleep(1100);
    expect(await outcome(verifier.verify(forged))).toBe('token_invalid');
    expect(fake.jwksRequests).toHaveLength(3);
  });

  it('stops accepting a token, even one it verified before, once its key is retired and the key set has aged out', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake, { jwksCooldownSeconds: 0, jwksMaxAgeSeconds: 1 });
    await verifier.ready();
    const [old] = fake.keys;
    const token = await fake.token();
    expect(await outcome(verifier.verify(token))).toBe('accepted');
    await fake.addKey();
    fake.retireKey(old!.kid);
    expect(await outcome(verifier.verify(token))).toBe('accepted'); // the key set is still fresh
    await sleep(1100);
    expect(await outcome(verifier.verify(token))).toBe('token_invalid');
  });

  it('answers unavailable, not 401, when the JWKS cannot be fetched, and recovers when it can', async () => {
    const fake = await fakeGatehouse();
    fake.jwksStatus = 503;
    const clock = movableClock();
    const verifier = verifierFor(fake, { clock });
    await verifier.ready();
    const token = await fake.token();
    expect(await outcome(verifier.verify(token))).toBe('unavailable');
    fake.jwksStatus = 200;
    // For a second after a failed fetch, requests are answered at once instead of each fetching.
    expect(await outcome(verifier.verify(token))).toBe('unavailable');
    clock.advance(1000);
    expect(await outcome(verifier.verify(token))).toBe('accepted');
  });

  it('parses the Authorization header exactly as Gatehouse does', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake);
    await verifier.ready();
    const token = await fake.token();
    expect(await outcome(verifier.authenticate(undefined))).toBe('token_missing');
    expect(await outcome(verifier.authenticate(''))).toBe('token_missing');
    expect(await outcome(verifier.authenticate(`Basic ${token}`))).toBe('token_missing');
    expect(await outcome(verifier.authenticate('Bearer'))).toBe('token_invalid');
    expect(await outcome(verifier.authenticate(`Bearer ${token} extra`))).toBe('token_invalid');
    expect(await outcome(verifier.authenticate(`bearer  ${token} `))).toBe('accepted');
  });

  it('after close(), answers unavailable and has left its stream, even after a garbage collection', async () => {
    const fake = await fakeGatehouse();
    const verifier = verifierFor(fake);
    await verifier.ready();
    const token = await fake.token();
    collectGarbage();
    await verifier.close();
    await waitFor(() => fake.openStreams === 0, 1000);
    expect(await outcome(verifier.verify(token))).toBe('unavailable');
    expect(verifier.status().fresh).toBe(false);
  });
});
