import os from 'node:os';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gatehouse } from '../../../src/gatehouse.js';
import { argon2Hasher } from '../../../src/passwords/argon2-hasher.js';
import { loginAttempt, PASSWORD, registerUser, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';

const FLOODER = '198.51.100.66';

export function register(app: Gatehouse['app'], email: string, ip = FLOODER, password = PASSWORD): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password }, remoteAddress: ip });
}

export function signIn(app: Gatehouse['app'], email: string, ip: string): Promise<LightMyRequestResponse> {
  return loginAttempt(app, email, PASSWORD, ip);
}

/**
 * The review's flood, with the real argon2id hasher: 180 registrations of an existing email in
 * flight from one address while another person signs in. Sign-in answers 200, never 503. On a
 * machine with more cores the pool lets more wait (64 a worker), so the flood grows with it:
 * it must overflow the queue, or the test could not fail without sign-in's own share.
 */
const FLOOD = Math.max(180, 66 * os.availableParallelism() + 50);
/** Which of the flood's tests to run: `npm test` runs the one with the limit on. */
export type Flood = 'limit on' | 'limit off';

export function registrationFloodTests(floods: readonly Flood[]): void {
  describe('a registration flood, with the real hasher', () => {
    let t: TestGatehouse | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    async function floodWhileSigningIn(config: Parameters<typeof startTestGatehouse>[1]) {
      t = await startTestGatehouse('sqlite', config, { hasher: argon2Hasher() });
      const { app } = t;
      await registerUser(app, 'taken@example.com');
      await registerUser(app, 'ann@example.com');
      let flooding = true;
      const flood = Promise.all(Array.from({ length: FLOOD }, () => register(app, 'taken@example.com'))).finally(() => (flooding = false));
      const signIns: number[] = [];
      // Sign-ins one after another, from another address, for as long as the flood lasts.
      do signIns.push((await signIn(app, 'ann@example.com', '203.0.113.7')).statusCode);
      while (flooding);
      return { registrations: (await flood).map((r) => r.statusCode), signIns };
    }

    // Registered only where asked for, so neither suite counts the other's test as skipped.
    if (floods.includes('limit on'))
      it('is refused past the address limit without hashing, and sign-in answers 200 throughout', async () => {
        const { registrations, signIns } = await floodWhileSigningIn({});
        expect(registrations.filter((s) => s === 409)).toHaveLength(30);
        expect(registrations.filter((s) => s === 429)).toHaveLength(FLOOD - 30);
        expect(signIns.length).toBeGreaterThan(0);
        expect(signIns.every((s) => s === 200)).toBe(true);
      }, 60_000);

    if (floods.includes('limit off'))
      it('with the address limit off, fills only its own share of the hasher: sign-in still answers 200 throughout', async () => {
        const { registrations, signIns } = await floodWhileSigningIn({ registrationIpMax: 0 });
        // The flood's own overflow is refused (503) in its own queue; every other answer is the duplicate's.
        expect(registrations.every((s) => s === 409 || s === 503)).toBe(true);
        expect(registrations.filter((s) => s === 503).length).toBeGreaterThan(0);
        expect(signIns.length).toBeGreaterThan(0);
        expect(signIns.every((s) => s === 200)).toBe(true);
      }, 60_000);
  });
}
