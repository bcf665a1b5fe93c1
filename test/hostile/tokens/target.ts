import { KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';
import { instantHasher } from '../../helpers/hashers.js';
import { makeAttackers, type Jwk } from './attackers.js';
import { eddsa } from './forge.js';
import type { HostileToken, Target } from './hostile-tokens.js';
import { startTrap, type Trap } from './trap.js';

export const SERVICE_KEY = 'hostile-suite-service-key-0123456789abcdef';
/**
 * GATEHOUSE_CLOCK_TOLERANCE for the suite: not the default 5, so a verifier that used its own
 * default instead of the leeway Gatehouse states would be caught by the clock cases.
 */
export const LEEWAY_SECONDS = 7;

export interface HostileSetup {
  target: Target;
  gatehouse: TestGatehouse;
  trap: Trap;
  close(): Promise<void>;
}

/**
 * One Gatehouse on SQLite with a clock the test holds still (tokens are checked the same on
 * both databases: no storage is involved), one user signed in, the attacker's keys, and the trap.
 */
export async function startTarget(): Promise<HostileSetup> {
  const gatehouse = await startTestGatehouse('sqlite', { clockToleranceSeconds: LEEWAY_SECONDS, serviceKeys: [SERVICE_KEY] }, { hasher: instantHasher() });
  await registerUser(gatehouse.app, 'ann@example.com');
  const signedIn = await signIn(gatehouse.app, 'ann@example.com');
  const jwks = (await gatehouse.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Jwk[] };
  const { kid, key } = gatehouse.gatehouse.keys.signingKey();
  const publicJwk = jwks.keys.find((jwk) => jwk.kid === kid);
  if (!publicJwk) throw new Error('the signing key is not in the JWKS');
  const attackers = makeAttackers();
  const trap = await startTrap({ jwks: attackers.jwks, certificate: attackers.certificate.pem });
  const { tokens } = gatehouse.gatehouse.ctx;
  return {
    target: {
      issuer: tokens.issuer,
      audience: tokens.audience,
      ttlSeconds: tokens.ttlSeconds,
      toleranceSeconds: tokens.clockToleranceSeconds,
      now: Math.floor(gatehouse.clock.now() / 1000),
      kid,
      sign: eddsa(KeyObject.from(key)),
      publicJwk,
      validToken: signedIn.access_token,
      refreshToken: signedIn.refresh_token,
      attackers,
      trapUrl: trap.url,
    },
    gatehouse,
    trap,
    close: async () => {
      await trap.close();
      await gatehouse.close();
    },
  };
}

/** The parts of a 401 a client acts on. */
export interface Refusal {
  status: number;
  contentType: string | undefined;
  challenge: string | undefined;
  code: unknown;
}

/**
 * Checks every answer against its case and reports all mismatches at once, by name: a list of
 * accepted forgeries is worth more than the first one.
 */
export function expectRefusals(cases: HostileToken[], answers: Refusal[]): void {
  const wrong = cases.flatMap((hostile, index) => {
    const answer = answers[index] as Refusal;
    const right =
      answer.status === 401 &&
      /^application\/problem\+json/.test(answer.contentType ?? '') &&
      answer.challenge === 'Bearer error="invalid_token"' &&
      answer.code === hostile.code;
    return right ? [] : [`${hostile.group}: ${hostile.name} → ${answer.status} ${String(answer.code)} (${answer.challenge ?? 'no WWW-Authenticate'})`];
  });
  expect(wrong).toEqual([]);
}
